import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importJson } from '../../../../src/emulation/traces/importers/json';
import { TraceError } from '../../../../src/emulation/traces/errors';

const META = { name: 'pat', family: 'step' };
const ups = (t: { samples: { timeS: number; up: { kbit: number } }[] }) => t.samples.map((s) => [s.timeS, s.up.kbit]);

test('an array or {"pattern": [...]} of {duration ms, capacity kbit/s}, one after the other', () => {
  const arr = importJson('[{"duration": 1500, "capacity": 2000}, {"duration": 500, "capacity": 0}, {"duration": 2000, "capacity": 800}]', 'p.json', META);
  assert.deepEqual(ups(arr.trace), [[0, 2000], [1.5, 0], [2, 800]]);
  assert.equal(arr.trace.durationS, 4);
  assert.equal(arr.trace.loop, false);
  assert.deepEqual(arr.warnings, []);
  const obj = importJson('{"pattern": [{"duration": 1000, "capacity": 5, "label": "a"}, {"duration": 1000, "capacity": 5}]}', 'p.json', META);
  assert.deepEqual(ups(obj.trace), [[0, 5]], 'equal entries merge');
  assert.equal(obj.trace.durationS, 2);
  assert.deepEqual(obj.warnings, ['p.json: ignored field(s) label (only duration and capacity are read)']);
});

test('errors name the entry by index', () => {
  const bad: [string, RegExp][] = [
    ['[{"duration": 1000, "capacity": 5},', /^j\.json: not valid JSON/],
    ['{"steps": []}', /^j\.json: expected an array of \{"duration": ms, "capacity": kbit\/s\} or \{"pattern": \[\.\.\.\]\}/],
    ['[]', /^j\.json: the pattern is empty/],
    ['[{"duration": 1000, "capacity": 5}, 7]', /^j\.json: \[1\] must be an object/],
    ['{"pattern": [{"duration": 1000, "capacity": 5}, {"duration": -1, "capacity": 5}]}', /^j\.json: pattern\[1\]\.duration must be a positive number of ms, got -1/],
    ['[{"duration": "1s", "capacity": 5}]', /^j\.json: \[0\]\.duration must be a positive number of ms, got "1s"/],
    ['[{"duration": 10, "capacity": -5}]', /^j\.json: \[0\]\.capacity must be a number of kbit\/s >= 0, got -5/],
    ['[{"duration": 10}]', /^j\.json: \[0\]\.capacity must be a number of kbit\/s >= 0, got undefined/],
  ];
  for (const [text, message] of bad) assert.throws(() => importJson(text, 'j.json', META), (e: Error) => e instanceof TraceError && message.test(e.message), message.source);
});
