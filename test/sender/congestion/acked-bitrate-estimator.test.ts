import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { AcknowledgedBitrateEstimator, type AckedPacket } from '../../../src/sender/congestion/acked-bitrate-estimator';
import { BitrateEstimator } from '../../../src/sender/congestion/bitrate-estimator';

const near = (a: number | null, b: number, eps = 1e-6) => assert.ok(a !== null && Math.abs(a - b) < eps, `${a} ≉ ${b}`);

/** 1250-byte packets arriving every `stepMs` in [from, to] (inclusive), sent 50 ms earlier. */
function stream(from: number, to: number, stepMs: number): AckedPacket[] {
  const out: AckedPacket[] = [];
  for (let t = from; t <= to; t += stepMs) out.push({ sendTimeMs: t - 50, arrivalTimeMs: t, sizeBytes: 1250 });
  return out;
}

describe('BitrateEstimator (bitrate_estimator.cc)', () => {
  it('first sample after a 500 ms window, then 150 ms windows merged by a Bayesian update', () => {
    const e = new BitrateEstimator();
    // 1250 B every 5 ms = 2 Mbit/s.
    for (const p of stream(0, 495, 5)) e.update(p.arrivalTimeMs, p.sizeBytes, false);
    assert.equal(e.bitrateBps(), null); // window not complete yet
    // t=500 closes [0,500): 100 packets · 1250 B · 8 / 500 ms = 2000 kbit/s → the initial estimate
    e.update(500, 1250, false);
    assert.equal(e.bitrateBps(), 2_000_000);
    assert.equal(e.variance, 50);
    // t=650 closes [500,650): 30 packets → 2000 kbit/s again. Sample = estimate → uncertainty 0:
    //   estimate = (0·2000 + 55·2000)/55 = 2000, variance = 0·55/55 = 0
    for (const p of stream(505, 650, 5)) e.update(p.arrivalTimeMs, p.sizeBytes, false);
    assert.equal(e.bitrateBps(), 2_000_000);
    assert.equal(e.variance, 0);
    // Now 1 Mbit/s (every 10 ms from 660). t=800 closes [650,800): 15 packets → 1000 kbit/s.
    //   uncertainty = 10 · |2000 − 1000| / 2000 = 5 → sample var 25; predicted var 0 + 5 = 5
    //   estimate = (25·2000 + 5·1000)/30 = 1833.33 kbit/s; variance = 25·5/30 = 4.1667
    for (const p of stream(660, 800, 10)) e.update(p.arrivalTimeMs, p.sizeBytes, false);
    near(e.bitrateBps(), 55_000_000 / 30);
    near(e.variance, 125 / 30);
  });

  it('restarts the window after a gap longer than a window', () => {
    const e = new BitrateEstimator();
    for (const p of stream(0, 500, 5)) e.update(p.arrivalTimeMs, p.sizeBytes, false);
    assert.equal(e.bitrateBps(), 2_000_000);
    // Nothing for 1 s, then the next packet: the sum is cleared and the window is 1000 % 150 = 100 ms in.
    e.update(1500, 1250, false);
    assert.equal(e.bitrateBps(), 2_000_000);
    assert.equal(e.peekRateBps(), (1250 * 8 * 1000) / 100);
  });
});

describe('AcknowledgedBitrateEstimator (acknowledged_bitrate_estimator.cc)', () => {
  it('measures the received rate of the acknowledged packets', () => {
    const a = new AcknowledgedBitrateEstimator();
    a.incomingPacketFeedbackVector(stream(0, 500, 5));
    assert.equal(a.bitrateBps(), 2_000_000);
  });

  it('after an ALR period the estimate is allowed to move fast (variance + 200)', () => {
    const run = (alrEndedAt: number | null) => {
      const a = new AcknowledgedBitrateEstimator();
      a.incomingPacketFeedbackVector(stream(0, 650, 5)); // 2000 kbit/s, variance 0 (as above)
      if (alrEndedAt !== null) a.setAlrEndedTime(alrEndedAt);
      a.incomingPacketFeedbackVector(stream(660, 800, 10)); // a 1000 kbit/s window
      return a.bitrateBps();
    };
    // Without: (25·2000 + 5·1000)/30 = 1833.3 kbit/s.
    near(run(null), 55_000_000 / 30);
    // ALR ended at 600 (sender clock): the first packet sent after it (sent 610) adds 200 to the
    // variance → predicted var 205: (25·2000 + 205·1000)/230 = 1108.7 kbit/s.
    near(run(600), 255_000_000 / 230);
  });
});
