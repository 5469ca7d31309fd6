import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { RttFilter } from '../../../src/receiver/timing/rtt-filter';

describe('RttFilter', () => {
  it('ignores zero RTTs until the first non-zero one and clamps at 3 s', () => {
    const f = new RttFilter();
    f.update(0);
    assert.equal(f.rttMs(), 0);
    f.update(5000);
    // kMaxRtt = 3 s.
    assert.equal(f.rttMs(), 3000);
    assert.equal(f.avgRttMs, 3000);
  });

  it('a steady RTT gives that RTT with zero variance', () => {
    const f = new RttFilter();
    for (let i = 0; i < 10; i++) f.update(100);
    assert.equal(f.rttMs(), 100);
    assert.equal(f.avgRttMs, 100);
    assert.equal(f.varRttMs2, 0);
  });

  it('a jump needs 5 consecutive samples to move the average (the max moves at once)', () => {
    const f = new RttFilter();
    for (let i = 0; i < 10; i++) f.update(100); // filt_fact_count is now 11
    // 1st 300 ms sample: factor 10/11 -> avg = 90.909 + 27.273 = 118.182 ms,
    // delta = round(300 - 118.182) = 182, var = trunc(182^2 / 11) = 3011,
    // jump threshold 2.5 * sqrt(3011) = 137.2 ms < |118.182 - 300| -> jump candidate:
    // statistics reverted to avg 100 / var 0, but max_rtt_ = 300 already.
    f.update(300);
    assert.equal(f.avgRttMs, 100);
    assert.equal(f.varRttMs2, 0);
    assert.equal(f.rttMs(), 300);
    for (let i = 0; i < 3; i++) f.update(300);
    assert.equal(f.avgRttMs, 100);
    // 5th sample: factor 14/15 -> avg 113.333, delta = round(186.667) = 187,
    // var = trunc(187^2 / 15) = trunc(2331.27) = 2331; 5 jump samples -> ShortRttFilter:
    // avg = max = mean/max of the five 300s = 300; the new variance is kept.
    f.update(300);
    assert.equal(f.avgRttMs, 300);
    assert.equal(f.varRttMs2, 2331);
    assert.equal(f.rttMs(), 300);
  });

  it('reset() returns to the initial state', () => {
    const f = new RttFilter();
    f.update(80);
    f.reset();
    assert.equal(f.rttMs(), 0);
    f.update(0);
    assert.equal(f.rttMs(), 0);
    f.update(40);
    assert.equal(f.rttMs(), 40);
  });
});
