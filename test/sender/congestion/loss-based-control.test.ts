import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  LossBasedControl,
  kDefaultHighLossThreshold,
  kDefaultLowLossThreshold,
  kDraftLossIncreaseFactor,
  kLimitNumPackets,
} from '../../../src/sender/congestion/loss-based-control';

function control(startBps = 1_000_000, increaseFactor?: number): LossBasedControl {
  return new LossBasedControl({ startBps, minBps: 100_000, maxBps: 10_000_000, increaseFactor });
}

describe('LossBasedControl (send_side_bandwidth_estimation.cc loss rules)', () => {
  it('uses 2 % / 10 % thresholds and 1.05 per second', () => {
    assert.equal(kDefaultLowLossThreshold, 0.02);
    assert.equal(kDefaultHighLossThreshold, 0.1);
    assert.equal(kDraftLossIncreaseFactor, 1.05);
    assert.equal(kLimitNumPackets, 20);
  });

  it('loss < 2 %: ×1.05 of the minimum target of the last second, + 1 kbit/s — once per second', () => {
    const c = control();
    // t=0, 1 lost of 100: q8 = floor(256/100) = 2 → 0.78 % → increase:
    //   round(1 000 000 · 1.05) + 1 000 = 1 051 000
    c.updatePacketsLost(1, 100, 0);
    assert.equal(c.targetRate(), 1_051_000);
    assert.equal(c.fractionLoss(), 2 / 256);
    // t=500: the 1-s history still holds 1 000 000 (t=0) → same target, no compounding.
    c.updatePacketsLost(1, 100, 500);
    assert.equal(c.targetRate(), 1_051_000);
    // t=1000: the t=0 entry is older than 1 s (1000 − 0 + 1 > 1000) → min is 1 051 000:
    //   round(1 051 000 · 1.05) + 1 000 = 1 103 550 + 1 000 = 1 104 550
    c.updatePacketsLost(1, 100, 1000);
    assert.equal(c.targetRate(), 1_104_550);
    // Calling more often does not ramp faster (e.g. a process tick every 100 ms).
    for (let t = 1100; t < 2000; t += 100) c.updateEstimate(t);
    assert.equal(c.targetRate(), 1_104_550);
  });

  it('the factor is configurable (libwebrtc uses 1.08)', () => {
    const c = control(1_000_000, 1.08);
    c.updatePacketsLost(1, 100, 0);
    assert.equal(c.targetRate(), 1_081_000); // 1 000 000 · 1.08 + 1 000
  });

  it('2 % ≤ loss ≤ 10 %: hold', () => {
    const c = control();
    // 5 of 100: q8 = floor(1280/100) = 12 → 4.7 %
    c.updatePacketsLost(5, 100, 0);
    assert.equal(c.targetRate(), 1_000_000);
    c.updatePacketsLost(10, 100, 1000); // q8 = 25 → 9.8 %
    assert.equal(c.fractionLoss(), 25 / 256);
    assert.equal(c.targetRate(), 1_000_000);
  });

  it('loss > 10 %: × (1 − 0.5·loss), at most once per 300 ms + RTT and once per report', () => {
    const c = control();
    // 20 of 100: q8 = floor(5120/100) = 51 → loss 51/256 = 19.9 %
    //   1 000 000 · (512 − 51)/512 = 900 390.625 → 900 390  (= 1 000 000 · (1 − 0.5 · 51/256))
    c.updatePacketsLost(20, 100, 0);
    assert.equal(c.targetRate(), 900_390);
    assert.equal(Math.trunc(1_000_000 * (1 - 0.5 * (51 / 256))), 900_390);
    // Process ticks without a new report: already decreased for this report → hold,
    // even once 300 ms have passed.
    c.updateEstimate(100);
    c.updateEstimate(400);
    assert.equal(c.targetRate(), 900_390);
    // A new report at 450 ms (≥ 300 ms after the last decrease) → decrease again:
    //   900 390 · 461/512 = 810 702.2… → 810 702
    c.updatePacketsLost(20, 100, 450);
    assert.equal(c.targetRate(), 810_702);
    // Another report only 150 ms later: too soon → hold.
    c.updatePacketsLost(20, 100, 600);
    assert.equal(c.targetRate(), 810_702);
  });

  it('the RTT lengthens the decrease interval', () => {
    const c = control();
    c.updateRtt(200);
    c.updatePacketsLost(50, 100, 0); // q8 = 128 → 50 % → × 0.75
    assert.equal(c.targetRate(), 750_000);
    c.updatePacketsLost(50, 100, 400); // 400 < 300 + 200 → hold
    assert.equal(c.targetRate(), 750_000);
    c.updatePacketsLost(50, 100, 500); // 500 ≥ 500 → × 0.75
    assert.equal(c.targetRate(), 562_500);
  });

  it('needs ≥ 20 packets for a loss fraction; smaller reports accumulate', () => {
    const c = control();
    c.updatePacketsLost(5, 10, 0); // 10 < 20: accumulated, no fraction yet
    assert.equal(c.fractionLoss(), 0);
    assert.equal(c.targetRate(), 1_000_000);
    c.updatePacketsLost(0, 10, 100); // 5 lost of 20: q8 = 64 → 25 % → × (512 − 64)/512 = 0.875
    assert.equal(c.fractionLoss(), 0.25);
    assert.equal(c.targetRate(), 875_000);
  });

  it('an RTCP-style fraction (q8/256) is one report', () => {
    const c = control();
    c.updateFractionLost(51 / 256, 0);
    assert.equal(c.targetRate(), 900_390);
  });

  it('the delay-based estimate caps the target at once; in the start phase the target follows it up', () => {
    const c = control();
    c.updateDelayBasedEstimate(800_000);
    assert.equal(c.targetRate(), 800_000);
    // First report at t=0 with no loss: start phase (2 s) → target = max(target, delay-based).
    c.updatePacketsLost(0, 100, 0);
    c.updateDelayBasedEstimate(1_500_000);
    c.updateEstimate(100);
    assert.equal(c.targetRate(), 1_500_000);
    // After the start phase the target may only grow at the loss-based pace, still capped.
    c.updateDelayBasedEstimate(3_000_000);
    c.updatePacketsLost(0, 100, 2500);
    assert.equal(c.targetRate(), Math.floor(1_500_000 * 1.05 + 0.5) + 1000);
  });

  it('stays within [min, max]', () => {
    const c = new LossBasedControl({ startBps: 150_000, minBps: 100_000, maxBps: 1_000_000 });
    for (let t = 0; t < 5000; t += 500) c.updatePacketsLost(80, 100, t);
    assert.equal(c.targetRate(), 100_000);
    const d = new LossBasedControl({ startBps: 900_000, minBps: 100_000, maxBps: 1_000_000 });
    for (let t = 0; t < 10_000; t += 1000) d.updatePacketsLost(0, 100, t);
    assert.equal(d.targetRate(), 1_000_000);
  });
});
