import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { InterFrameDelayVariation } from '../../../src/receiver/timing/inter-frame-delay';

function near(actual: number | undefined, expected: number, tol = 1e-9): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);
}

describe('InterFrameDelayVariation', () => {
  it('returns 0 for the first frame and dT - dTS afterwards', () => {
    const c = new InterFrameDelayVariation();
    assert.equal(c.calculate(90000, 1000), 0);
    // 3000 ticks = 33.333 ms of RTP time, 40 ms of wall clock: 40 - 33.333 = 6.667 ms late.
    near(c.calculate(93000, 1040), 40 - 3000 / 90);
    // Next frame on time relative to its predecessor: 33.333 - 33.333 = 0.
    near(c.calculate(96000, 1040 + 100 / 3), 0);
    // 2 frames of RTP time (66.667 ms) in 50 ms: arrived 16.667 ms early -> negative.
    near(c.calculate(102000, 1040 + 100 / 3 + 50), 50 - 6000 / 90);
  });

  it('returns undefined for reordered or repeated timestamps and keeps its state', () => {
    const c = new InterFrameDelayVariation();
    c.calculate(90000, 1000);
    c.calculate(96000, 1066);
    assert.equal(c.calculate(93000, 1070), undefined); // older than 96000
    assert.equal(c.calculate(96000, 1075), undefined); // same timestamp
    // Next frame is compared to 96000 @ 1066: (1100 - 1066) - 3000/90 = 0.667 ms.
    near(c.calculate(99000, 1100), 34 - 3000 / 90);
  });

  it('unwraps the 32-bit RTP timestamp', () => {
    const c = new InterFrameDelayVariation();
    const beforeWrap = 0x1_0000_0000 - 1500; // 4294965796
    c.calculate(beforeWrap, 5000);
    // 1500 after the wrap is 3000 ticks later: (5040 - 5000) - 3000 / 90 = 6.667 ms.
    near(c.calculate(1500, 5040), 40 - 3000 / 90);
    // A pre-wrap timestamp arriving after the wrap is reordering.
    assert.equal(c.calculate(beforeWrap + 1000, 5050), undefined);
  });
});
