import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  AlrDetector,
  IntervalBudget,
  kAlrBandwidthUsageRatio,
  kAlrStartBudgetLevelRatio,
  kAlrStopBudgetLevelRatio,
} from '../../../src/sender/congestion/alr-detector';

describe('AlrDetector (alr_detector.cc + interval_budget.cc)', () => {
  it('uses 65 % / 80 % / 50 %', () => {
    assert.equal(kAlrBandwidthUsageRatio, 0.65);
    assert.equal(kAlrStartBudgetLevelRatio, 0.8);
    assert.equal(kAlrStopBudgetLevelRatio, 0.5);
  });

  it('enters ALR when the sender stays idle, leaves it when it sends above the budget rate', () => {
    const d = new AlrDetector();
    d.setEstimatedBitrate(1_000_000);
    // Budget fills at 0.65 · 1 Mbit/s = 650 kbit/s = 81.25 B/ms, holds at most
    // 500 ms · 650 kbit/s / 8 = 40 625 B. Sending nothing every 10 ms adds 812.5 B per call:
    // ratio after call k = 812.5·k / 40 625 = k/50 → > 0.8 first at k = 41 (t = 410 ms).
    d.onBytesSent(0, 0); // first call only starts the clock
    let started: number | null = null;
    for (let t = 10; t <= 600 && started === null; t += 10) {
      d.onBytesSent(0, t);
      started = d.applicationLimitedRegionStartTime();
    }
    assert.equal(started, 410);
    // Now 2500 B per 10 ms (2 Mbit/s): net −2500 + 812.5 = −1687.5 B per call from 33 312.5 B.
    // Below 50 % (20 312.5 B) after ⌈13 000 / 1687.5⌉ = 8 calls → t = 490.
    let t = 410;
    while (d.applicationLimitedRegionStartTime() !== null) {
      t += 10;
      d.onBytesSent(2500, t);
    }
    assert.equal(t, 490);
  });

  it('a sender at the estimate never enters ALR', () => {
    const d = new AlrDetector();
    d.setEstimatedBitrate(1_000_000);
    d.onBytesSent(1250, 0);
    for (let t = 10; t <= 5000; t += 10) {
      d.onBytesSent(1250, t); // 1 Mbit/s
      assert.equal(d.applicationLimitedRegionStartTime(), null);
    }
  });

  it('IntervalBudget: underuse is carried over only with can_build_up_underuse', () => {
    const carry = new IntervalBudget(800, true); // 800 kbit/s → 100 B/ms, max 50 000 B
    const noCarry = new IntervalBudget(800, false);
    for (const b of [carry, noCarry]) {
      b.increaseBudget(100); // +10 000
      b.increaseBudget(100);
    }
    assert.equal(carry.budgetRatio(), 20_000 / 50_000);
    assert.equal(noCarry.budgetRatio(), 10_000 / 50_000);
    noCarry.useBudget(80_000); // floored at −max
    assert.equal(noCarry.budgetRatio(), -1);
  });
});
