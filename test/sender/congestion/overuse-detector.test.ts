import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  OveruseDetector,
  kDefaultTrendlineThresholdGain,
  kDown,
  kInitialThreshold,
  kMaxThreshold,
  kMinNumDeltas,
  kMinThreshold,
  kOverUsingTimeThreshold,
  kUp,
} from '../../../src/sender/congestion/overuse-detector';

/** With ≥ 60 deltas, modified trend m = 60 · trend · 4 = 240 · trend: the trend that gives m. */
const trendFor = (m: number) => m / (kMinNumDeltas * kDefaultTrendlineThresholdGain);
const near = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

describe('OveruseDetector (trendline_estimator.cc Detect / UpdateThreshold)', () => {
  it('uses the libwebrtc constants', () => {
    assert.equal(kDefaultTrendlineThresholdGain, 4.0);
    assert.equal(kInitialThreshold, 12.5);
    assert.equal(kUp, 0.0087);
    assert.equal(kDown, 0.039);
    assert.equal(kMinThreshold, 6);
    assert.equal(kMaxThreshold, 600);
    assert.equal(kOverUsingTimeThreshold, 10);
  });

  it('over-use: declared once the over-use timer exceeds 10 ms on the 2nd consecutive sample', () => {
    const d = new OveruseDetector();
    // m = 20 > 12.5 with groups 10 ms apart:
    //   sample 1: timer = ts_delta/2 = 5 ms, counter 1 → still normal
    //   sample 2: timer = 5 + 10 = 15 > 10, counter 2 > 1, trend not decreasing → overusing
    assert.equal(d.detect(trendFor(20), 60, 10, 0), 'normal');
    assert.equal(d.detect(trendFor(20), 60, 10, 10), 'overusing');
    // Threshold: 1st call starts the clock (Δt = 0); 2nd: |m| ≥ thr → k_up:
    //   12.5 + 0.0087 · (20 − 12.5) · 10 = 12.5 + 0.6525 = 13.1525
    near(d.threshold, 13.1525);
  });

  it('over-use needs > 10 ms: with 4 ms groups the 4th sample trips it (2, 6, 10, 14 ms)', () => {
    const d = new OveruseDetector();
    const states = [0, 4, 8, 12].map((t) => d.detect(trendFor(20), 60, 4, t));
    // timer 2 → 6 → 10 (not > 10) → 14
    assert.deepEqual(states, ['normal', 'normal', 'normal', 'overusing']);
  });

  it('a decreasing trend above the threshold does not declare over-use', () => {
    const d = new OveruseDetector();
    assert.equal(d.detect(trendFor(25), 60, 10, 0), 'normal');
    assert.equal(d.detect(trendFor(20), 60, 10, 10), 'normal'); // timer 15 > 10 but trend < previous
    assert.equal(d.detect(trendFor(21), 60, 10, 20), 'overusing'); // rising again, timer 25
  });

  it('under-use: m < −threshold → underusing at once; back inside ±threshold → normal', () => {
    const d = new OveruseDetector();
    assert.equal(d.detect(trendFor(-20), 60, 10, 0), 'underusing');
    assert.equal(d.detect(trendFor(-3), 60, 10, 10), 'normal');
  });

  it('the modified trend is scaled by min(number of deltas, 60)', () => {
    const d = new OveruseDetector();
    // trend 0.1 with 30 deltas: m = 30 · 0.1 · 4 = 12 < 12.5 → normal
    assert.equal(d.detect(0.1, 30, 10, 0), 'normal');
    near(d.modifiedTrend, 12);
    // with 1000 deltas it is capped at 60: m = 60 · 0.1 · 4 = 24
    d.detect(0.1, 1000, 10, 10);
    near(d.modifiedTrend, 24);
    // fewer than 2 deltas: always normal, nothing computed
    const e = new OveruseDetector();
    assert.equal(e.detect(1, 1, 10, 0), 'normal');
    assert.ok(Number.isNaN(e.modifiedTrend));
    assert.equal(e.threshold, 12.5);
  });

  describe('adaptive threshold', () => {
    it('decays towards |m| with k_down when |m| < threshold', () => {
      const d = new OveruseDetector();
      d.detect(trendFor(10), 60, 10, 0); // starts the clock
      // 12.5 + 0.039 · (10 − 12.5) · 10 = 12.5 − 0.975 = 11.525
      d.detect(trendFor(10), 60, 10, 10);
      near(d.threshold, 11.525);
      // 11.525 + 0.039 · (10 − 11.525) · 10 = 11.525 − 0.59475 = 10.93025
      d.detect(trendFor(10), 60, 10, 20);
      near(d.threshold, 10.93025);
    });

    it('grows towards |m| with k_up when |m| ≥ threshold', () => {
      const d = new OveruseDetector();
      d.detect(trendFor(20), 60, 100, 0);
      // 12.5 + 0.0087 · (20 − 12.5) · 100 = 12.5 + 6.525 = 19.025
      d.detect(trendFor(20), 60, 100, 100);
      near(d.threshold, 19.025);
      // negative m counts by its magnitude: 19.025 + 0.0087 · (25 − 19.025) · 100 = 24.223250
      d.detect(trendFor(-25), 60, 100, 200);
      near(d.threshold, 24.22325);
    });

    it('ignores spikes above threshold + 15 but advances its clock', () => {
      const d = new OveruseDetector();
      d.detect(0, 60, 10, 0);
      d.detect(trendFor(40), 60, 10, 50); // 40 > 12.5 + 15: no adaptation
      assert.equal(d.threshold, 12.5);
      // next update measures Δt from 50, not from 0: 12.5 + 0.039 · (0 − 12.5) · 10 = 7.625
      d.detect(0, 60, 10, 60);
      near(d.threshold, 7.625);
    });

    it('caps Δt at 100 ms and clamps to [6, 600]', () => {
      const d = new OveruseDetector();
      d.detect(0, 60, 10, 0);
      // Δt = 5000 → 100: 12.5 − 0.039 · 12.5 · 100 = −36.25 → clamped to 6
      d.detect(0, 60, 10, 5000);
      assert.equal(d.threshold, 6);
      // Push up with m always 10 above the threshold: +0.0087 · 10 · 100 = +8.7 per step, never past 600.
      let t = 5000;
      for (let i = 0; i < 100; i++) {
        t += 100;
        d.detect(trendFor(d.threshold + 10), 60, 10, t);
        assert.ok(d.threshold <= 600);
      }
      assert.equal(d.threshold, 600);
    });
  });
});
