import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  TrendlineEstimator,
  kDefaultTrendlineSmoothingCoeff,
  kDefaultTrendlineWindowSize,
  linearFitSlope,
} from '../../../src/sender/congestion/trendline-estimator';

describe('TrendlineEstimator (trendline_estimator.cc: window 20, smoothing 0.9)', () => {
  it('uses the libwebrtc defaults', () => {
    assert.equal(kDefaultTrendlineWindowSize, 20);
    assert.equal(kDefaultTrendlineSmoothingCoeff, 0.9);
  });

  it('linearFitSlope is the least-squares slope', () => {
    // (0,0) (10,2) (20,4): x̄ = 10, ȳ = 2; Σ(x−x̄)(y−ȳ) = 20 + 0 + 20 = 40; Σ(x−x̄)² = 200 → 0.2
    assert.equal(linearFitSlope([[0, 0], [10, 2], [20, 4]]), 0.2);
    // (0,1) (10,5) (20,3): Σ(x−x̄)(y−ȳ) = (−10)(−2) + 0 + 10·0 = 20 → 0.1
    assert.equal(linearFitSlope([[0, 1], [10, 5], [20, 3]]), 0.1);
    assert.equal(linearFitSlope([[5, 1], [5, 2]]), null); // all x equal: no fit
  });

  it('constant one-way delay: every delta 0 → trend 0', () => {
    const t = new TrendlineEstimator();
    for (let k = 0; k < 50; k++) assert.equal(t.update(10, 10, 12 * k), 0);
    assert.equal(t.accumulatedDelay, 0);
    assert.equal(t.numOfDeltas, 50);
  });

  it('trend stays 0 until 20 points, then is the slope of (arrival, smoothed accumulated delay)', () => {
    // Each group pair: sent 10 ms apart, arrived 12 ms apart → delta +2 ms (a queue growing 2 ms
    // per group = the brief's "1 ms per 5 ms"); the k-th pair arrives at 12·k.
    const t = new TrendlineEstimator();
    // Hand recurrence: acc_k = 2k, s_k = 0.9·s_{k−1} + 0.1·acc_k → s_1 = 0.2, s_2 = 0.58, s_3 = 1.122, s_4 = 1.8098 …
    const expectedPoints: Array<[number, number]> = [];
    let s = 0;
    for (let k = 1; k <= 25; k++) {
      s = 0.9 * s + 0.1 * (2 * k);
      expectedPoints.push([12 * (k - 1), s]);
      const trend = t.update(12, 10, 12 * (k - 1));
      if (k < 20) {
        assert.equal(trend, 0, `no trend before the window is full (k=${k})`);
      } else {
        const window = expectedPoints.slice(-20);
        assert.ok(Math.abs(trend - linearFitSlope(window)!) < 1e-12, `k=${k}`);
      }
    }
    assert.ok(Math.abs(t.smoothedDelay - s) < 1e-9);
    assert.equal(t.accumulatedDelay, 50);
    // s_4 by hand: 0.9·1.122 + 0.1·8 = 1.8098
    let s4 = 0;
    for (let k = 1; k <= 4; k++) s4 = 0.9 * s4 + 0.1 * 2 * k;
    assert.ok(Math.abs(s4 - 1.8098) < 1e-12);
    // Once the smoothing has caught up, the slope approaches the true rate 2 ms / 12 ms = 0.1667.
    for (let k = 26; k <= 200; k++) t.update(12, 10, 12 * (k - 1));
    assert.ok(Math.abs(t.trend - 2 / 12) < 1e-6, `trend ${t.trend}`);
  });

  it('a draining queue gives a negative trend', () => {
    const t = new TrendlineEstimator();
    for (let k = 0; k < 200; k++) t.update(8, 10, 8 * k); // −2 ms per group, arrivals 8 ms apart
    assert.ok(Math.abs(t.trend - -2 / 8) < 1e-6, `trend ${t.trend}`);
  });
});
