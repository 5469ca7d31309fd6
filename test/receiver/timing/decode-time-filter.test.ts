import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DecodeTimePercentileFilter } from '../../../src/receiver/timing/decode-time-filter';
import { PercentileFilter } from '../../../src/receiver/timing/percentile-filter';

describe('PercentileFilter', () => {
  it('picks index trunc(0.95f * (n - 1)) of the sorted samples', () => {
    const p = new PercentileFilter(0.95);
    assert.equal(p.getPercentileValue(), 0); // empty
    for (let v = 1; v <= 20; v++) p.insert(21 - v); // 20..1
    // trunc(0.95 * 19) = trunc(18.05) = 18 -> sorted[18] = 19.
    assert.equal(p.getPercentileValue(), 19);
    for (let v = 21; v <= 21; v++) p.insert(v);
    // n = 21: 0.95f * 20 = 19.0 in float -> sorted[19] = 20.
    assert.equal(p.getPercentileValue(), 20);
    assert.equal(p.erase(20), true);
    assert.equal(p.erase(99), false);
    // n = 20 again: {1..19, 21} -> sorted[18] = 19.
    assert.equal(p.getPercentileValue(), 19);
  });
});

describe('DecodeTimePercentileFilter', () => {
  it('ignores the first 5 samples', () => {
    const f = new DecodeTimePercentileFilter();
    for (let i = 0; i < 5; i++) f.addSample(500, i * 33);
    assert.equal(f.requiredDecodeTimeMs(), 0);
    assert.equal(f.sampleCount, 0);
    f.addSample(7, 200);
    assert.equal(f.requiredDecodeTimeMs(), 7);
  });

  it('is the 95th percentile over the last 10 s, with expiry', () => {
    const f = new DecodeTimePercentileFilter();
    for (let i = 0; i < 5; i++) f.addSample(1000, 0); // ignored warm-up
    // Two slow decodes at t = 0 and t = 500, then 18 fast ones every 500 ms up to t = 9500.
    f.addSample(40, 0);
    f.addSample(40, 500);
    for (let t = 1000; t <= 9500; t += 500) f.addSample(10, t);
    // n = 20: sorted = [10 x 18, 40, 40]; index trunc(0.95 * 19) = 18 -> 40.
    assert.equal(f.sampleCount, 20);
    assert.equal(f.requiredDecodeTimeMs(), 40);
    // At t = 10000 the t = 0 sample is exactly 10 s old: kept (expiry is "> 10000").
    f.addSample(10, 10000);
    // n = 21: [10 x 19, 40, 40]; index trunc(0.95f * 20) = 19 -> 40.
    assert.equal(f.sampleCount, 21);
    assert.equal(f.requiredDecodeTimeMs(), 40);
    // At t = 10001 the t = 0 sample expires: n = 21: [10 x 20, 40]; index 19 -> 10.
    f.addSample(10, 10001);
    assert.equal(f.sampleCount, 21);
    assert.equal(f.requiredDecodeTimeMs(), 10);
    // At t = 10501 the second slow sample expires too: all 10s.
    f.addSample(12, 10501);
    // [10 x 20, 12] -> index trunc(0.95f * 20) = 19 -> 10; the 12 is the top 5 %.
    assert.equal(f.requiredDecodeTimeMs(), 10);
    f.addSample(12, 10502);
    // [10 x 20, 12, 12] (n = 22) -> index trunc(0.95f * 21) = 19 -> 10 still.
    assert.equal(f.requiredDecodeTimeMs(), 10);
  });
});
