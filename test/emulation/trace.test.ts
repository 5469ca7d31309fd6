import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capacityAt, parseTrace } from '../../src/emulation/trace';

test('step traces: parse, look up, and clear errors naming the line', () => {
  const t = parseTrace('# step\n0 2500\n20 1000   # drop\n40,2500\n');
  assert.deepEqual(t, [
    { timeS: 0, kbit: 2500 },
    { timeS: 20, kbit: 1000 },
    { timeS: 40, kbit: 2500 },
  ]);
  assert.equal(capacityAt(t, 0), 2500);
  assert.equal(capacityAt(t, 19.999), 2500);
  assert.equal(capacityAt(t, 20), 1000);
  assert.equal(capacityAt(t, 100), 2500);
  assert.throws(() => parseTrace('0 100\nfoo bar\n', 'x.txt'), /x\.txt line 2: expected 'time_s capacity_kbit', got 'foo bar'/);
  assert.throws(() => parseTrace('0 100\n5 1\n5 2\n', 'x.txt'), /line 3: times must increase/);
  assert.throws(() => parseTrace('1 100\n', 'x.txt'), /first step must be at time 0/);
  assert.throws(() => parseTrace('\n# only comments\n', 'x.txt'), /no capacity steps/);
});
