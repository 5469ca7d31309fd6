/**
 * Hostile and mistaken input a fuzz pass found in the trace parser and importers: every
 * one fails with a TraceError of one short line, before any later stage sees a value that
 * is not finite or out of order, and without allocating what the input asks for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceError } from '../../../src/emulation/traces/errors';
import { parseTrace } from '../../../src/emulation/traces/format';
import { importTrace, type ImportFormat } from '../../../src/emulation/traces/importers';
import { applyPipeline } from '../../../src/emulation/traces/pipeline';
import { checkTrace, shown } from '../../../src/emulation/traces/limits';
import { clipText } from '../../../src/errors';

const META = { name: 'x', family: 'other' };

function refused(run: () => unknown, re: RegExp): void {
  assert.throws(run, (e: Error) => e instanceof TraceError && re.test(e.message) && !e.message.includes('\n') && e.message.length < 300, re.source);
}

test('importers refuse what is not finite, not increasing or absurdly long', () => {
  const cases: [ImportFormat, string, RegExp][] = [
    ['mahimahi', '0\n1000000000000\n', /^F: the last timestamp 1000000000000 ms \(the loop period\) is longer than a week$/],
    ['mahimahi', '0\n4294967296', /longer than a week/],
    ['json', '[{"duration":1e308,"capacity":5}]', /^F: the duration Infinity s must be after the last sample \(0 s\)/],
    ['json', '[{"duration":5,"capacity":1e12}]', /^F: sample 1 up: capacity 1000000000000 kbit\/s is outside 0–1000000000/],
    ['text', '1000.5 1e308\n1001 2', /capacity Infinity kbit\/s is outside/],
    ['text', '-1e308 2\n1 2', /median step Infinity s/],
    ['text', '0 1\n1e308 2', /./],
    ['text', '0 1\n2 1\n1 1', /times must increase/],
    ['csv', 't,r\n0,1\n1e308,2\n', /./],
  ];
  for (const [format, text, re] of cases) refused(() => importTrace(format, text, 'F', META, format === 'csv' ? { column: 'r', timeColumn: 't', unit: 'kbit' } : format === 'text' ? { unit: 'Mbit' } : {}), re);
});

test('deeply nested or huge JSON gives a short message, not a stack overflow', () => {
  refused(() => importTrace('json', '['.repeat(100_000) + ']'.repeat(100_000), 'F', META), /^F: \[0\] must be an object .*got an array$/);
  refused(() => importTrace('json', '{"pattern":' + '['.repeat(100_000), 'F', META), /^F: not valid JSON/);
  const r = importTrace('json', `[{"duration":5,"capacity":5,"${'x'.repeat(2e6)}":1}]`, 'F', META);
  assert.ok(r.warnings.every((w) => w.length < 300));
});

test('the canonical parser and the transforms keep to the same limits', () => {
  refused(() => parseTrace('# testbed-trace v1\ntime_s,up_kbit\n0,1\n1e308,2\n', 'P'), /^P: sample 2: time 1e\+308 s is outside 0–604800 s \(one week\)$/);
  refused(() => parseTrace('# testbed-trace v1\n# duration_s: 1e300\ntime_s,up_kbit\n0,1\n', 'P'), /^P: the duration 1e\+300 s/);
  const t = parseTrace('# testbed-trace v1\ntime_s,up_kbit\n0,1000\n1,2000\n', 'P');
  refused(() => applyPipeline(t, { scale: 1e300 }), /capacity .* is outside/);
  refused(() => checkTrace({ ...t, samples: [{ ...t.samples[0], up: { kbit: 1, lossPct: NaN } }] }, 'C'), /^C: sample 1 up: loss NaN % is outside 0–100$/);
});

test('values quoted in messages are short and never throw', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(shown(deep), 'an array');
  assert.equal(shown('x'.repeat(1000)).length, 60);
  assert.equal(shown(undefined), 'undefined');
  assert.equal(clipText('a\nb  c\x1b[2J'), 'a b c [2J');
});
