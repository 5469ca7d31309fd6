import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  AimdRateControl,
  kDefaultBackoffFactor,
  kMultiplicativeIncreasePerSecond,
} from '../../../src/sender/congestion/aimd-rate-control';

const near = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

function aimd(startBps: number, opts = {}): AimdRateControl {
  const a = new AimdRateControl(opts);
  a.setStartBitrate(startBps);
  a.setMinBitrate(10_000);
  return a;
}

describe('AimdRateControl (aimd_rate_control.cc)', () => {
  it('uses β = 0.85 and 1.08 per second', () => {
    assert.equal(kDefaultBackoffFactor, 0.85);
    assert.equal(kMultiplicativeIncreasePerSecond, 1.08);
  });

  it('over-use: backs off to exactly 0.85 × the acknowledged rate', () => {
    const a = aimd(2_000_000);
    // 0.85 · 1 000 000 = 850 000
    assert.equal(a.update({ bwState: 'overusing', estimatedThroughputBps: 1_000_000 }, 1000), 850_000);
    assert.equal(a.state, 'hold'); // "stay on hold until the pipes are cleared"
    // The acknowledged rate at back-off seeds the link-capacity estimate.
    assert.equal(a.linkCapacityEstimateBps, 1_000_000);
  });

  it('with libwebrtc’s additional back-off term: 0.85 × acked − 5 kbit/s', () => {
    const a = aimd(2_000_000, { subtractAdditionalBackoffTerm: true });
    assert.equal(a.update({ bwState: 'overusing', estimatedThroughputBps: 1_000_000 }, 1000), 845_000);
  });

  it('never increases on over-use: 0.85 × acked above the current rate leaves it unchanged', () => {
    const a = aimd(500_000);
    // 0.85 · 1 000 000 = 850 000 > 500 000 and no capacity estimate yet → keep 500 000
    assert.equal(a.update({ bwState: 'overusing', estimatedThroughputBps: 1_000_000 }, 1000), 500_000);
  });

  it('under-use holds the rate', () => {
    const a = aimd(1_000_000);
    for (let t = 0; t <= 2000; t += 100) {
      assert.equal(a.update({ bwState: 'underusing', estimatedThroughputBps: 900_000 }, t), 1_000_000);
    }
    assert.equal(a.state, 'hold');
  });

  it('multiplicative increase: 1.08^Δt (Δt ≤ 1 s), at least 1 kbit/s', () => {
    const a = aimd(1_000_000);
    // First 'normal' after hold: the clock starts now, 1.08^0 − 1 = 0 → the 1 kbit/s minimum.
    assert.equal(a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 0), 1_001_000);
    // 1 s later: 1 001 000 · 1.08 = 1 081 080
    near(a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 1000), 1_081_080);
    // 3 s later: the exponent is capped at 1 s → × 1.08 again
    near(a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 4000), 1_081_080 * 1.08);
    // 100 ms later: × 1.08^0.1
    const before = a.latestEstimate();
    near(a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 4100), before * Math.pow(1.08, 0.1));
  });

  it('increase is limited to 1.5 × acknowledged + 10 kbit/s (application-limited sender)', () => {
    const a = aimd(300_000);
    // acked 200 000 → limit 1.5 · 200 000 + 10 000 = 310 000
    a.update({ bwState: 'normal', estimatedThroughputBps: 200_000 }, 0);
    for (let t = 1000; t <= 20_000; t += 1000) a.update({ bwState: 'normal', estimatedThroughputBps: 200_000 }, t);
    assert.equal(a.latestEstimate(), 310_000);
    // Above the limit already: no increase, but no decrease either.
    const b = aimd(1_000_000);
    assert.equal(b.update({ bwState: 'normal', estimatedThroughputBps: 100_000 }, 0), 1_000_000);
    assert.equal(b.update({ bwState: 'normal', estimatedThroughputBps: 100_000 }, 1000), 1_000_000);
  });

  it('WebRTC-DontIncreaseDelayBasedBweInAlr: no increase at all while in ALR', () => {
    const a = aimd(1_000_000, { noIncreaseInAlr: true });
    a.setInApplicationLimitedRegion(true);
    a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 0);
    assert.equal(a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 1000), 1_000_000);
    a.setInApplicationLimitedRegion(false);
    near(a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 2000), 1_080_000);
  });

  it('near the link capacity (after a back-off) the increase is additive', () => {
    const a = aimd(2_000_000);
    a.update({ bwState: 'overusing', estimatedThroughputBps: 1_000_000 }, 0); // → 850 000, capacity 1 000 kbit/s
    a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 100); // hold → increase, clock starts: +0
    assert.equal(a.latestEstimate(), 850_000);
    // Additive rate at 850 kbit/s, RTT 200 ms (default):
    //   frame = 850 000 / 30 = 28 333.3 bits → ceil(28 333.3 / 9 600) = 3 packets → 9 444.4 bits each
    //   response time = 2 · (200 + 100) ms = 0.6 s → 9 444.4 / 0.6 = 15 740.7 bit/s per second
    near(a.getNearMaxIncreaseRateBpsPerSecond(), 850_000 / 30 / 3 / 0.6);
    a.update({ bwState: 'normal', estimatedThroughputBps: 1_000_000 }, 1100);
    near(a.latestEstimate(), 850_000 + 850_000 / 30 / 3 / 0.6);
    // Throughput beyond the capacity's upper bound (estimate + 3·sqrt(0.4 · 1000) ≈ 1 060 kbit/s)
    // drops the capacity estimate → multiplicative again.
    const before = a.latestEstimate();
    a.update({ bwState: 'normal', estimatedThroughputBps: 1_200_000 }, 2100);
    assert.equal(a.hasLinkCapacityEstimate, false);
    near(a.latestEstimate(), before * 1.08);
  });

  it('reduces again only after one RTT (clamped 10–200 ms) unless throughput < half the estimate', () => {
    const a = aimd(1_000_000);
    a.setRtt(50);
    a.update({ bwState: 'overusing', estimatedThroughputBps: 1_000_000 }, 1000); // → 850 000 at t=1000
    assert.equal(a.timeToReduceFurther(1040, 800_000), false); // 40 < 50 ms
    assert.equal(a.timeToReduceFurther(1050, 800_000), true); // one RTT later
    assert.equal(a.timeToReduceFurther(1010, 400_000), true); // 400 000 < 0.5 · 850 000
    a.setRtt(1000);
    assert.equal(a.timeToReduceFurther(1199, 800_000), false); // interval clamped to 200 ms
    assert.equal(a.timeToReduceFurther(1200, 800_000), true);
  });

  it('never goes below the minimum bitrate', () => {
    const a = aimd(100_000);
    a.update({ bwState: 'overusing', estimatedThroughputBps: 1000 }, 0);
    assert.equal(a.latestEstimate(), 10_000);
  });
});
