import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  FrameDelayKalmanFilter,
  kInitialSlopeMsPerByte,
  kMaxBandwidth,
} from '../../../src/receiver/timing/frame-delay-kalman';

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

describe('FrameDelayKalmanFilter', () => {
  it('starts at slope 1/(512e3/8) ms/byte, offset 0, P = diag(1e-4, 1e2)', () => {
    const f = new FrameDelayKalmanFilter();
    assert.equal(f.slopeMsPerByte, 1 / 64000);
    assert.equal(kInitialSlopeMsPerByte, 1.5625e-5);
    assert.equal(f.offsetMs, 0);
    assert.deepEqual(f.covariance, [
      [1e-4, 0],
      [0, 100],
    ]);
    // size-based: 1.5625e-5 * 6400 = 0.1 ms; total adds the offset 0.
    near(f.getFrameDelayVariationEstimateSizeBased(6400), 0.1, 1e-15, 'size based');
    near(f.getFrameDelayVariationEstimateTotal(6400), 0.1, 1e-15, 'total');
  });

  it('first update from the initial state matches the hand computation', () => {
    const f = new FrameDelayKalmanFilter();
    // z = 10 ms, dFS = 1000 B, max frame size 2000 B, var_noise 4 ms^2.
    f.predictAndUpdate(10, 1000, 2000, 4);
    // Predict: P00 = 1e-4 + 2.5e-10 = 1.0000025e-4, P11 = 100 + 1e-10.
    // Innovation y = 10 - (1000 / 64000 + 0) = 9.984375.
    // P*H' = [1.0000025e-4 * 1000, 100] = [0.10000025, 100].
    // Observation noise sigma = (300 * exp(-1000/2000) + 1) * sqrt(4)
    //                         = (300 * 0.60653066 + 1) * 2 = 365.9183958.
    // s = 1000 * 0.10000025 + 100 + 365.9183958 = 565.9186458.
    // K = [0.10000025 / s, 100 / s] = [1.76704286e-4, 0.176703844].
    // slope  = 1.5625e-5 + 1.76704286e-4 * 9.984375 = 1.77990685e-3 ms/B
    // offset = 0 + 0.176703844 * 9.984375 = 1.76427744 ms
    near(f.slopeMsPerByte, 1.779906851e-3, 1e-12, 'slope');
    near(f.offsetMs, 1.76427744, 1e-8, 'offset');
    // P = (I - K*H) * P:
    // P00 = (1 - K0*1000) * 1.0000025e-4 = 8.2329777e-5
    // P01 = P10 = -K0 * P11 = -0.0176704286
    // P11 = P11 * (1 - K1) = 82.3296156
    const p = f.covariance;
    near(p[0][0], 8.2329777e-5, 1e-12, 'P00');
    near(p[0][1], -0.0176704286, 1e-9, 'P01');
    near(p[1][0], -0.0176704286, 1e-9, 'P10');
    near(p[1][1], 82.3296156, 1e-6, 'P11');
    // New prediction for the same size delta: 1.7799e-3 * 1000 + 1.7643 = 3.5442 ms.
    near(f.getFrameDelayVariationEstimateTotal(1000), 1.779906851 + 1.76427744, 1e-7, 'total');
  });

  it('an update with zero size delta leaves the slope alone and moves only the offset', () => {
    const f = new FrameDelayKalmanFilter();
    f.predictAndUpdate(5, 0, 1000, 1);
    // dFS = 0: P*H' = [P01, P11] = [0, 100 + 1e-10] so K0 = 0 and the slope is untouched.
    // sigma = (300 * e^0 + 1) * 1 = 301; s = 100 + 301 = 401; K1 = 100 / 401.
    // offset = 5 * 100 / 401 = 1.2468828 ms; P11 = 100 * 301 / 401 = 75.0623441.
    assert.equal(f.slopeMsPerByte, 1 / 64000);
    near(f.offsetMs, 500 / 401, 1e-9, 'offset');
    near(f.covariance[1][1], 30100 / 401, 1e-7, 'P11');
    assert.equal(f.covariance[0][1], 0);
  });

  it('clamps the slope at kMaxBandwidth (1e-6 ms/B) and ignores invalid inputs', () => {
    const f = new FrameDelayKalmanFilter();
    // A big size increase that arrived early: y = -100 - 100000/64000 < 0 pulls the slope
    // far below zero; it is clamped to 1e-6.
    f.predictAndUpdate(-100, 100000, 100000, 1);
    assert.equal(f.slopeMsPerByte, kMaxBandwidth);
    // max frame size < 1 or var_noise <= 0: no update at all.
    const g = new FrameDelayKalmanFilter();
    g.predictAndUpdate(50, 1000, 0.5, 4);
    g.predictAndUpdate(50, 1000, 2000, 0);
    assert.equal(g.slopeMsPerByte, 1 / 64000);
    assert.equal(g.offsetMs, 0);
    assert.equal(g.covariance[0][0], 1e-4);
  });
});
