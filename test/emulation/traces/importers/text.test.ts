import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importText } from '../../../../src/emulation/traces/importers/text';
import { TraceError } from '../../../../src/emulation/traces/errors';

const META = { name: 'tx', family: 'wifi' };
const MBIT = { unit: 'Mbit' } as const;
const ups = (t: { samples: { timeS: number; up: { kbit: number } }[] }) => t.samples.map((s) => [s.timeS, s.up.kbit]);

test('irregular steps, a non-zero start, comments, commas and whitespace', () => {
  const text = `# time_s rate_Mbps
1000.5  2.5
1000.7, 2.0   # after 200 ms
1001.7\t2.0
1004.7 0.35
1005.2 1.25
`;
  const { trace, warnings } = importText(text, 'log.txt', META, MBIT);
  assert.deepEqual(warnings, []);
  // Shifted by -1000.5; equal runs merged; Mbit/s → kbit/s.
  assert.deepEqual(ups(trace), [[0, 2500], [0.2, 2000], [4.2, 350], [4.7, 1250]]);
  // Steps 0.2, 1, 3, 0.5: median 0.75 → the last rate holds 0.75 s.
  assert.equal(trace.durationS, 5.45);
  assert.equal(trace.loop, false);
  assert.match(trace.source, /^text log\.txt: 5 'time_s rate' lines \(Mbit\/s\), median step 0\.75 s, times shifted by -1000\.5 s to start at 0$/);
});

test('a gap longer than --max-gap-s is an outage after one median step (default), or holds with --gap hold', () => {
  const text = '0 1\n1 2\n2 3\n12 4\n13 5\n';
  const outage = importText(text, 'g.txt', META, MBIT);
  assert.deepEqual(ups(outage.trace), [[0, 1000], [1, 2000], [2, 3000], [3, 0], [12, 4000], [13, 5000]]);
  assert.equal(outage.warnings.length, 1);
  assert.match(outage.warnings[0], /^g\.txt: 1 gap\(s\) longer than 5 s \(9\.0 s in all\) replayed as outages \(--gap hold keeps the last rate instead\)$/);
  const hold = importText(text, 'g.txt', META, { ...MBIT, gap: 'hold' });
  assert.deepEqual(ups(hold.trace), [[0, 1000], [1, 2000], [2, 3000], [12, 4000], [13, 5000]]);
  assert.match(hold.warnings[0], /bridged by holding the last rate/);
  // With a larger threshold it is not a gap at all.
  assert.deepEqual(importText(text, 'g.txt', META, { ...MBIT, maxGapS: 20 }).warnings, []);
});

test('malformed lines: one line naming the line', () => {
  const bad: [string, RegExp][] = [
    ['0 1\n1 fast\n', /^b\.txt line 2: expected 'time_s rate', got '1 fast'/],
    ['0 1\n1 2 3\n', /^b\.txt line 2: expected 'time_s rate', got '1 2 3'/],
    ['# c\n0 1\n\n1 -2\n', /^b\.txt line 4: the rate must not be negative, got -2/],
    ['5 1\n5 2\n', /^b\.txt line 2: times must increase \(5 after 5\)/],
    ['0 1\n', /^b\.txt: needs at least two 'time_s rate' lines \(found 1\)/],
    ['# nothing\n', /^b\.txt: needs at least two/],
    ['0 1\n10 2\n20 3\n', /^b\.txt: the median step 10 s is not shorter than --max-gap-s 5/],
  ];
  for (const [text, message] of bad) assert.throws(() => importText(text, 'b.txt', META, MBIT), (e: Error) => e instanceof TraceError && message.test(e.message), message.source);
});

test('--unit: the same file in kbit/s and in bytes per second', () => {
  const text = '0 800\n1 1600\n';
  assert.deepEqual(ups(importText(text, 'u.txt', META, { unit: 'kbit' }).trace), [[0, 800], [1, 1600]]);
  assert.deepEqual(ups(importText(text, 'u.txt', META, { unit: 'byte' }).trace), [[0, 6.4], [1, 12.8]]);
});
