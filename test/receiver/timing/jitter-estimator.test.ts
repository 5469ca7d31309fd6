import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  JitterEstimator,
  kNoiseStdDevOffset,
  kNoiseStdDevs,
  kNumStdDevDelayOutlier,
  kNumStdDevSizeOutlier,
  OPERATING_SYSTEM_JITTER_MS,
} from '../../../src/receiver/timing/jitter-estimator';

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

const FRAME_MS = 100 / 3; // 30 fps

/** Feed `n` frames of `size` bytes with the given delay variation, 30 fps from frame `from`. */
function feed(
  je: JitterEstimator,
  from: number,
  n: number,
  size: number,
  delay: (i: number) => number = () => 0,
): number {
  for (let i = from; i < from + n; i++) je.updateEstimate(delay(i), size, i * FRAME_MS);
  return from + n;
}

describe('JitterEstimator', () => {
  it('uses the constants of the design brief', () => {
    assert.equal(kNoiseStdDevs, 2.33);
    assert.equal(kNoiseStdDevOffset, 30);
    assert.equal(kNumStdDevDelayOutlier, 15);
    assert.equal(kNumStdDevSizeOutlier, 3);
    assert.equal(OPERATING_SYSTEM_JITTER_MS, 10);
  });

  it('constant-size frames with zero delay variation sit at the noise floor of 11 ms', () => {
    const je = new JitterEstimator();
    // Before any frame: var_noise = 4, noise threshold = max(1, 2.33 * 2 - 30) = 1,
    // size term = slope * (500 - 500) = 0 -> 1 ms + OPERATING_SYSTEM_JITTER 10 ms = 11 ms.
    assert.equal(je.getJitterEstimateMs(1, undefined, 0), 11);
    const next = feed(je, 0, 60, 1000);
    // Frames 1..5 accumulate the startup mean (1000 B); frame 5 sets avg = 1000 and the
    // max filter is max(0.9999 * max, 1000) = 1000 -> size term slope * (1000 - 1000) = 0.
    near(je.avgFrameSize, 1000, 1e-9, 'avg frame size');
    assert.equal(je.maxFrameSize, 1000);
    // Every deviation from the line is 0: var_noise = alpha * var + 0 -> floored at 1.0.
    assert.equal(je.varNoise, 1);
    assert.equal(je.avgNoise, 0);
    // 2.33 * sqrt(1) - 30 < 1 -> noise threshold 1 ms; estimate 1 + 10 = 11 ms.
    assert.equal(je.noiseThresholdMs(), 1);
    assert.equal(je.getJitterEstimateMs(1, undefined, (next - 1) * FRAME_MS), 11);
    // Past the 30-frame startup the post-processed estimate is 1 ms (< 11, so unused).
    assert.equal(je.filteredEstimateMs, 1);
    // 60 frames at 33.333 ms: frame rate 1e9 / 33333 us = 30.000 Hz (no low-fps scaling).
    assert.equal(je.getFrameRateHz(), 30);
  });

  it('converges from a jittery start back down to the 11 ms noise floor', () => {
    const je = new JitterEstimator();
    // 4 s of +-20 ms alternating delay variation on constant 1000 B frames.
    let i = feed(je, 0, 120, 1000, (k) => (k % 2 === 0 ? 20 : -20));
    const jittery = je.getJitterEstimateMs(1, undefined, i * FRAME_MS);
    // The noise term 2.33 * sqrt(var_noise) - 30 is well above 1 ms here (sigma ~ 20 ms):
    assert.ok(je.varNoise > 300, `var_noise ${je.varNoise}`);
    near(
      jittery,
      Math.trunc((kNoiseStdDevs * Math.sqrt(je.varNoise) - kNoiseStdDevOffset) * 1000) / 1000 + 10,
      0.0011,
      'jittery estimate = 2.33 sigma - 30 + 10 (size term 0)',
    );
    assert.ok(jittery > 25, `jittery estimate ${jittery}`);
    // Then 30 s of a clean stream. var_noise forgets with alpha = 399/400 per frame, so
    // it needs ~ln(177 / 400) / ln(0.9975) ~ 330 frames to fall below
    // (31 / 2.33)^2 = 177.0, where the noise threshold floors at 1 ms.
    let previous = jittery;
    for (let n = 0; n < 900; n++, i++) {
      je.updateEstimate(0, 1000, i * FRAME_MS);
      const e = je.getJitterEstimateMs(1, undefined, i * FRAME_MS);
      assert.ok(e <= previous + 1e-9, `estimate rose from ${previous} to ${e} at clean frame ${n}`);
      previous = e;
    }
    assert.ok(je.varNoise < 177.0);
    assert.equal(je.getJitterEstimateMs(1, undefined, i * FRAME_MS), 11);
  });

  it('an I-frame 10x the average raises the estimate through the max-frame-size term', () => {
    const je = new JitterEstimator();
    // Warm-up: 300 frames (10 s) of 1000 B with zero delay variation, 30 fps.
    // Kalman updates all have dFS = 0, so the slope stays exactly 1/64000 ms/B, the offset 0,
    // P01 = 0, P00 = 1e-4 + 299 * 2.5e-10, and P11 follows 1/P11 <- 1/P11 + 1/301
    // (sigma = (300 e^0 + 1) * sqrt(1) = 301): P11 = 1 / (1/100 + 299/301) = 0.99666.
    let i = feed(je, 0, 300, 1000);
    assert.equal(je.kalman.slopeMsPerByte, 1 / 64000);
    near(je.kalman.covariance[1][1], 1 / (1 / 100 + 299 / 301), 1e-6, 'P11');
    assert.equal(je.getJitterEstimateMs(1, undefined, (i - 1) * FRAME_MS), 11);

    // The I-frame: 10000 B, arriving 36 ms late (9000 extra bytes at 250 B/ms = 2 Mbit/s).
    je.updateEstimate(36, 10000, i * FRAME_MS);
    // max frame size = max(0.9999 * 1000, 10000) = 10000; the average is not updated
    // (10000 >= 1000 + 2 sqrt(var_size)), so avg stays 1000.
    assert.equal(je.maxFrameSize, 10000);
    near(je.avgFrameSize, 1000, 1e-9, 'avg');
    // Delay clamp: 3.5 * sqrt(1) + 0.5 = 4 ms, so 36 -> 4 ms.
    // Deviation = 4 - 9000 / 64000 = 3.859375 < 15 sigma: not an outlier.
    // Noise: alpha = 299/300 (30 fps, rate_scale 1):
    //   var_noise = 299/300 * 1 + 3.859375^2 / 300 = 1.0463159, avg_noise = 0.0128646.
    near(je.varNoise, 299 / 300 + 3.859375 ** 2 / 300, 1e-12, 'var_noise');
    near(je.avgNoise, 3.859375 / 300, 1e-12, 'avg_noise');
    // Kalman: P00 = 1e-4 + 300 * 2.5e-10 = 1.00075e-4, P11 = 0.9966557 + 1e-10,
    //   sigma = (300 e^-0.9 + 1) * sqrt(1.0463159) = 125.786421,
    //   s = 9000^2 * 1.00075e-4 + 0.9966557 + 125.786421 = 8232.858077,
    //   K0 = 9000 * 1.00075e-4 / s = 1.0940004e-4,
    //   slope = 1/64000 + K0 * 3.859375 = 4.3784078e-4 ms/B (~2.28 MB/s).
    near(je.kalman.slopeMsPerByte, 4.3784078e-4, 1e-11, 'slope');
    // Estimate = slope * (max - avg) + noise threshold
    //          = 4.3784078e-4 * 9000 + 1 = 4.940567 -> 4.940 ms (us truncation),
    // jitter   = 4.940 + OPERATING_SYSTEM_JITTER 10 = 14.940 ms (up from 11).
    const afterI = je.getJitterEstimateMs(1, undefined, i * FRAME_MS);
    near(afterI, 14.94, 1e-9, 'estimate after the I-frame');
    near(je.filteredEstimateMs, 4.94, 1e-9, 'post-processed estimate');
    i++;

    // The next P-frame arrives right behind the I-frame (4 ms early after clamping):
    // dFS = 1000 - 10000 = -9000 < -0.25 * 9999 -> congested: no Kalman update.
    const slope = je.kalman.slopeMsPerByte;
    je.updateEstimate(-32, 1000, i * FRAME_MS);
    assert.equal(je.kalman.slopeMsPerByte, slope);
    // The max decays by only kPsi = 0.9999 per frame: 0.9999 * 10000 = 9999, so the
    // estimate stays up: 4.3784078e-4 * (9999 - 1000) + 1 = 4.94013 -> 14.940 ms.
    assert.equal(je.maxFrameSize, 9999);
    near(je.getJitterEstimateMs(1, undefined, i * FRAME_MS), 14.94, 1e-9, 'one frame later');
  });

  it('rejects a delay outlier (15 sigma) and feeds the threshold to the noise estimate', () => {
    const je = new JitterEstimator();
    // Frame 1: 2,560,000 B (only initialises prev frame size; max frame size = 2.56 MB).
    je.updateEstimate(0, 2_560_000, 0);
    // Frame 2: 1000 B with zero delay. Predicted delay = (1000 - 2560000) / 64000 = -39.984
    // ms, so the deviation is 0 - (-39.984375) = 39.984 >= 15 * sqrt(4) = 30 -> delay
    // outlier. Not a size outlier (1000 B is small). Noise update uses +15 sigma = 30:
    // first sample, alpha = 0 -> avg_noise = 30, var_noise = (30 - 0)^2 = 900
    // (a plain update would have given 39.984375^2 = 1598.75).
    je.updateEstimate(0, 1000, FRAME_MS);
    assert.equal(je.avgNoise, 30);
    assert.equal(je.varNoise, 900);
    // The Kalman filter was not touched (not even the covariance prediction).
    assert.equal(je.kalman.slopeMsPerByte, 1 / 64000);
    assert.equal(je.kalman.offsetMs, 0);
    assert.equal(je.kalman.covariance[0][0], 1e-4);
  });

  it('accepts a delay outlier when the frame is also a positive size outlier', () => {
    const je = new JitterEstimator();
    je.updateEstimate(0, 1000, 0);
    // 2,561,000 B, 50 ms late. Clamp: 3.5 * sqrt(4) + 0.5 = 7.5 ms -> 7.5, .ms() -> 8 ms.
    // Predicted = 2560000 / 64000 = 40 ms; deviation = 8 - 40 = -32: |-32| >= 30 is a delay
    // outlier, but 2561000 > 500 + 3 * sqrt(var_size) (~1.29e6) -> size outlier -> accepted.
    je.updateEstimate(50, 2_561_000, FRAME_MS);
    // Noise: alpha = 0 -> avg_noise = -32, var_noise = 32^2 = 1024.
    assert.equal(je.avgNoise, -32);
    assert.equal(je.varNoise, 1024);
    // Kalman: y = -32, sigma = (300 e^(-2560000/2561000) + 1) * 32 = 3565.0219,
    // s = 2.56e6^2 * 1.0000025e-4 + 100 + 3565.02 = 655365303.42,
    // slope = 1/64000 + (2.56e6 * 1.0000025e-4 / s) * -32 = 3.1250699e-6 ms/B.
    near(je.kalman.slopeMsPerByte, 3.1250699e-6, 1e-13, 'slope');
  });

  it('clamps a delay spike to 3.5 sigma + 0.5 ms before using it', () => {
    const je = new JitterEstimator();
    let i = feed(je, 0, 300, 1000); // var_noise = 1, alpha count 300
    je.updateEstimate(100, 1000, i * FRAME_MS);
    // 100 ms is clamped to 3.5 * 1 + 0.5 = 4 ms; deviation 4 < 15: a normal sample.
    // var_noise = 299/300 + 4^2 / 300 = 1.05 (unclamped, the sample would have been a
    // 15-sigma outlier giving 299/300 + 15^2 / 300 = 1.7467).
    near(je.varNoise, 1.05, 1e-12, 'var_noise');
    // Offset: dFS = 0, K1 = P11 / (P11 + 301 * sqrt(1.05)) with P11 = 0.9966557:
    // offset = 4 * 0.9966557 / (0.9966557 + 308.4333) = 0.0128838 ms.
    near(je.kalman.offsetMs, 0.0128838, 1e-7, 'offset');
    i++;
  });

  it('adds the RTT term after 3 NACKed frames (capped if asked), for 60 s', () => {
    const je = new JitterEstimator();
    const i = feed(je, 0, 60, 1000);
    const now = i * FRAME_MS;
    je.updateRtt(100);
    je.frameNacked(now);
    je.frameNacked(now);
    assert.equal(je.getJitterEstimateMs(1, undefined, now), 11); // 2 < kNackLimit
    je.frameNacked(now);
    // 11 + 1.0 * RTT 100 = 111 ms; capped at 30: 11 + 30 = 41; multiplier 0.5: 11 + 50.
    assert.equal(je.getJitterEstimateMs(1, undefined, now), 111);
    assert.equal(je.getJitterEstimateMs(1, 30, now), 41);
    assert.equal(je.getJitterEstimateMs(0.5, undefined, now), 61);
    // More than kNackCountTimeout (60 s) after the last NACK the count resets.
    assert.equal(je.getJitterEstimateMs(1, undefined, now + 60_001), 11);
    assert.equal(je.nackCountValue, 0);
  });

  it('scales the estimate down below 10 fps and ignores it below 5 fps', () => {
    const at = (intervalMs: number): JitterEstimator => {
      const je = new JitterEstimator();
      for (let k = 0; k < 40; k++) je.updateEstimate(0, 1000, k * intervalMs);
      return je;
    };
    // 7.5 fps: 1e9 / 133333 us = 7500 mHz -> factor (7.5 - 5) / (10 - 5) = 0.5: 11 * 0.5.
    const slow = at(1000 / 7.5);
    assert.equal(slow.getFrameRateHz(), 7.5);
    assert.equal(slow.getJitterEstimateMs(1, undefined, 40 * (1000 / 7.5)), 5.5);
    // 4 fps < 5 fps: 0.
    const verySlow = at(250);
    assert.equal(verySlow.getFrameRateHz(), 4);
    assert.equal(verySlow.getJitterEstimateMs(1, undefined, 10_000), 0);
  });

  it('reset() restores the initial state', () => {
    const je = new JitterEstimator();
    feed(je, 0, 40, 1000, (k) => (k % 2 ? 15 : -15));
    je.reset();
    assert.equal(je.varNoise, 4);
    assert.equal(je.maxFrameSize, 500);
    assert.equal(je.avgFrameSize, 500);
    assert.equal(je.kalman.slopeMsPerByte, 1 / 64000);
    assert.equal(je.getFrameRateHz(), 0);
    assert.equal(je.getJitterEstimateMs(1, undefined, 0), 11);
  });
});
