import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binMeans, secondStats, traceStats } from '../../../src/emulation/traces/stats';
import type { Trace } from '../../../src/emulation/traces/types';

function trace(points: [number, number][], durationS: number): Trace {
  return { name: 't', family: 'other', source: 'test', durationS, loop: false, samples: points.map(([timeS, kbit]) => ({ timeS, up: { kbit }, down: { kbit: 2 * kbit } })) };
}

test('traceStats weighs every sample by how long it holds', () => {
  // 0 for 1 s, 1000 for 8 s, 4000 for 1 s: mean 1200.
  const s = traceStats(trace([[0, 0], [1, 1000], [9, 4000]], 10));
  assert.equal(s.meanKbit, 1200);
  // Variance: (0.1·1200² + 0.8·200² + 0.1·2800²) = 144000 + 32000 + 784000 = 960000.
  assert.ok(Math.abs(s.cv - Math.sqrt(960000) / 1200) < 1e-12);
  assert.deepEqual([s.minKbit, s.p5Kbit, s.p50Kbit, s.p95Kbit, s.maxKbit], [0, 0, 1000, 4000, 4000]);
  assert.equal(s.belowTenthShare, 0.1);
  assert.equal(traceStats(trace([[0, 0], [1, 1000], [9, 4000]], 10), 'down').meanKbit, 2400);
  // Irregular steps: a long sample outweighs many short ones.
  const irregular = traceStats(trace([[0, 100], [0.1, 200], [0.2, 100], [0.3, 200], [0.4, 1000]], 10));
  assert.equal(irregular.p50Kbit, 1000);
});

test('binMeans and secondStats: DESIGN §8 figures on 1-s bins', () => {
  const t = trace([[0, 1000], [0.5, 3000], [1, 2000], [3, 0], [4, 2000]], 6);
  assert.deepEqual(binMeans(t, 1), [2000, 2000, 2000, 0, 2000, 2000]);
  const s = secondStats(t);
  // Bins 2000 ×5 and 0: mean 5000/3, one second below 10 % of it.
  assert.equal(s.belowTenthShare, 1 / 6);
  // Changes 0,0,2000,2000,0 over the mean: p50 0, p95 1.2.
  assert.equal(s.changeP50, 0);
  assert.ok(Math.abs(s.changeP95 - 2000 / (5000 / 3)) < 1e-12);
  // Lag-1 autocorrelation by hand: deviations d = [1/3,1/3,1/3,-5/3,1/3,1/3]·1000.
  const d = [1, 1, 1, -5, 1, 1];
  const expect = (d[0] * d[1] + d[1] * d[2] + d[2] * d[3] + d[3] * d[4] + d[4] * d[5]) / d.reduce((a, x) => a + x * x, 0);
  assert.ok(Math.abs(s.lag1 - expect) < 1e-12);
  assert.ok(Number.isNaN(secondStats(trace([[0, 500]], 30)).lag1), 'a constant trace has no autocorrelation');
  assert.equal(secondStats(trace([[0, 500]], 30)).cv, 0);
});
