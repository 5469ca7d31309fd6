import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clip, cut, mergeRuns, offset, repeatTo, resample, roundKbit, scaleBy, scaleToMean } from '../../../src/emulation/traces/transforms';
import { applyPipeline } from '../../../src/emulation/traces/pipeline';
import { timeWeightedMean } from '../../../src/emulation/traces/stats';
import { capacityAt } from '../../../src/emulation/traces/lookup';
import { TraceError } from '../../../src/emulation/traces/errors';
import type { Trace } from '../../../src/emulation/traces/types';

/** up kbit per [time, kbit] pair; down = up / 10. */
function trace(points: [number, number][], durationS: number, loop = false): Trace {
  return {
    name: 't',
    family: 'other',
    source: 'test',
    durationS,
    loop,
    samples: points.map(([timeS, kbit]) => ({ timeS, up: { kbit }, down: { kbit: kbit / 10 } })),
  };
}
const ups = (t: Trace) => t.samples.map((s) => [s.timeS, s.up.kbit]);

// 1000 for 1 s, 3000 for 3 s, 0 (outage) for 1 s: time-weighted mean 2000.
const T = trace([[0, 1000], [1, 3000], [4, 0]], 5);

test('scaleBy and scaleToMean scale both directions; the mean is time-weighted', () => {
  assert.equal(timeWeightedMean(T), 2000);
  assert.deepEqual(ups(scaleBy(T, 0.5)), [[0, 500], [1, 1500], [4, 0]]);
  const s = scaleToMean(T, 500);
  assert.equal(timeWeightedMean(s), 500);
  assert.equal(timeWeightedMean(s, 'down'), 50);
  assert.equal(s.samples[1].down.kbit, 75, 'the up/down ratio is kept');
  assert.throws(() => scaleToMean(trace([[0, 0]], 1), 100), /up capacity is 0 throughout/);
  assert.throws(() => scaleBy(T, 0), TraceError);
});

test('clip bounds capacities but keeps outages unless asked', () => {
  assert.deepEqual(ups(clip(T, 1500, 2500)), [[0, 1500], [1, 2500], [4, 0]]);
  assert.deepEqual(ups(clip(T, 1500, 2500, false)), [[0, 1500], [1, 2500], [4, 1500]]);
  assert.throws(() => clip(T, 10, 5), /0 <= min <= max/);
});

test('repeatTo plays the trace over and over (a cut when shorter); cut refuses to lengthen', () => {
  const r = repeatTo(T, 12);
  assert.equal(r.durationS, 12);
  assert.deepEqual(ups(r), [[0, 1000], [1, 3000], [4, 0], [5, 1000], [6, 3000], [9, 0], [10, 1000], [11, 3000]]);
  assert.deepEqual(ups(repeatTo(T, 2.5)), [[0, 1000], [1, 3000]]);
  const c = cut(T, 4.5);
  assert.equal(c.durationS, 4.5);
  assert.deepEqual(ups(c), [[0, 1000], [1, 3000], [4, 0]]);
  assert.throws(() => cut(T, 6), /cannot cut 5 s to 6 s \(longer: repeat it instead\)/);
  // Sums like 5 + 0.2 stay clean decimals.
  assert.deepEqual(ups(repeatTo(trace([[0, 1], [0.2, 2]], 0.3), 0.9)).map(([t]) => t), [0, 0.2, 0.3, 0.5, 0.6, 0.8]);
});

test('offset rotates a looping trace and trims a non-looping one', () => {
  const looping = { ...T, loop: true };
  const o = offset(looping, 2.5);
  assert.equal(o.durationS, 5);
  assert.deepEqual(ups(o), [[0, 3000], [1.5, 0], [2.5, 1000], [3.5, 3000]]);
  // What plays at time x of the rotated trace is what played at 2.5 + x of the original.
  for (let x = 0; x < 10; x += 0.25) assert.equal(capacityAt(o, x), capacityAt(looping, x + 2.5), `x=${x}`);
  assert.deepEqual(ups(offset(looping, 7.5)), ups(o), 'offsets wrap');
  const n = offset(T, 2.5);
  assert.equal(n.durationS, 2.5);
  assert.deepEqual(ups(n), [[0, 3000], [1.5, 0]]);
  assert.throws(() => offset(T, 5), /offset 5 s is past its end/);
  assert.deepEqual(offset(looping, 0), looping);
});

test('resample: the time-weighted mean of each fixed step; delay/loss averaged where given', () => {
  const r = resample(T, 2);
  assert.deepEqual(ups(r), [[0, 2000], [2, 3000], [4, 0]]);
  assert.equal(r.durationS, 5, 'the last bin is shorter');
  assert.equal(timeWeightedMean(r), timeWeightedMean(T));
  const d: Trace = {
    ...T,
    samples: [
      { timeS: 0, up: { kbit: 100, delayMs: 40 }, down: { kbit: 100 } },
      { timeS: 1, up: { kbit: 100 }, down: { kbit: 100 } },
    ],
    durationS: 4,
  };
  const rd = resample(d, 2);
  assert.deepEqual(rd.samples[0].up, { kbit: 100, delayMs: 20 });
  assert.deepEqual(rd.samples[1].up, { kbit: 100 }, 'no delay given in the bin: none');
});

test('roundKbit never turns a positive capacity into an outage; mergeRuns drops repeats', () => {
  const t = trace([[0, 0.4], [1, 1.6], [2, 0], [3, 2.2]], 4);
  assert.deepEqual(ups(roundKbit(t)), [[0, 1], [1, 2], [2, 0], [3, 2]]);
  const m = mergeRuns(roundKbit(trace([[0, 1.2], [1, 0.8], [2, 5], [3, 5]], 4)));
  assert.deepEqual(ups(m), [[0, 1], [2, 5]]);
  // Equal up but different down is not a repeat.
  const u: Trace = { ...T, samples: [{ timeS: 0, up: { kbit: 1 }, down: { kbit: 1 } }, { timeS: 1, up: { kbit: 1 }, down: { kbit: 2 } }] };
  assert.equal(mergeRuns(u).samples.length, 2);
});

test('the import pipeline applies its steps in order and says so in source', () => {
  const p = applyPipeline(T, { durationS: 10, scaleMeanKbit: 1000, clip: { minKbit: 800, maxKbit: 1200 }, loop: true });
  assert.equal(p.durationS, 10);
  assert.equal(p.loop, true);
  assert.deepEqual(ups(p), [[0, 800], [1, 1200], [4, 0], [5, 800], [6, 1200], [9, 0]]);
  assert.equal(p.source, 'test; repeated to 10 s, scaled x0.5 to mean 1000 kbit/s, clipped to [800, 1200] kbit/s (outages kept)');
  assert.throws(() => applyPipeline(T, { scale: 2, scaleMeanKbit: 3 }), /--scale or --scale-mean-kbit, not both/);
  assert.equal(applyPipeline(T, {}).source, 'test');
});
