import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capacityAt, stateAt } from '../../../src/emulation/traces/lookup';
import type { Trace } from '../../../src/emulation/traces/types';

function steps(loop: boolean): Trace {
  return {
    name: 's',
    family: 'step',
    source: 'test',
    durationS: 60,
    loop,
    samples: [
      { timeS: 0, up: { kbit: 2500 }, down: { kbit: 500 } },
      { timeS: 20, up: { kbit: 1000, delayMs: 30 }, down: { kbit: 400 } },
      { timeS: 40, up: { kbit: 2500 }, down: { kbit: 300 } },
    ],
  };
}

test('capacityAt: each sample holds until the next; up by default, down on request', () => {
  const t = steps(false);
  assert.equal(capacityAt(t, 0), 2500);
  assert.equal(capacityAt(t, 19.999), 2500);
  assert.equal(capacityAt(t, 20), 1000);
  assert.equal(capacityAt(t, 39.9), 1000);
  assert.equal(capacityAt(t, 40), 2500);
  assert.equal(capacityAt(t, 20, 'down'), 400);
  assert.equal(capacityAt(t, -5), 2500, 'before the start: the first sample');
});

test('stateAt: after the end of a non-looping trace the last sample holds', () => {
  const t = steps(false);
  assert.deepEqual(stateAt(t, 25), t.samples[1]);
  assert.equal(stateAt(t, 60), t.samples[2]);
  assert.equal(stateAt(t, 1e6), t.samples[2]);
});

test('stateAt: a looping trace starts again at 0 every durationS', () => {
  const t = steps(true);
  assert.equal(stateAt(t, 60), t.samples[0]);
  assert.equal(stateAt(t, 85), t.samples[1]);
  assert.equal(stateAt(t, 60 * 7 + 45), t.samples[2]);
  assert.equal(capacityAt(t, 119.999), 2500);
  assert.equal(capacityAt(t, 120 + 20, 'down'), 400);
});

test('stateAt agrees with a linear scan on a long irregular trace (the binary search)', () => {
  const samples: Trace['samples'] = [];
  let time = 0;
  for (let i = 0; i < 500; i++) {
    samples.push({ timeS: time, up: { kbit: i }, down: { kbit: i } });
    time += 0.1 + ((i * 7919) % 13) / 10;
  }
  const t: Trace = { name: 'x', family: 'other', source: 'test', durationS: time, loop: true, samples };
  for (let q = 0; q < 2000; q++) {
    const tS = (q * 0.731) % (time * 2);
    const local = tS % time;
    const expect = samples.filter((s) => s.timeS <= local).pop()!;
    assert.equal(stateAt(t, tS), expect, `t=${tS}`);
  }
});
