import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { RateLimiter, RETRANSMIT_WINDOW_MS } from '../../src/sender/rate-limiter';
import { rng as seeded } from '../helpers/random';

describe('RateLimiter (libwebrtc rtc_base/rate_limiter.cc)', () => {
  it('allows up to max × window in the window, then refuses until old uses leave it', () => {
    // 96 kbit/s over 500 ms: 6000 bytes.
    const l = new RateLimiter(500, 96_000);
    for (let i = 0; i < 5; i++) assert.equal(l.tryUseRate(1200, i * 10), true, `use ${i}`);
    assert.equal(l.usedInWindow(40), 6000);
    assert.equal(l.tryUseRate(1, 50), false, '6001 bytes > 6000');
    assert.equal(l.usedInWindow(50), 6000, 'a refused use is not counted');
    assert.equal(l.tryUseRate(1200, 499), false, 'the use at 0 is still in (−1, 499]');
    assert.equal(l.tryUseRate(1200, 500), true, 'at 500 the use at 0 left the window');
    assert.equal(l.tryUseRate(1200, 505), false);
    assert.equal(l.tryUseRate(1200, 510), true, 'the use at 10 left');
  });

  it('allows one use of any size into an empty window (no current rate), as libwebrtc', () => {
    const l = new RateLimiter(500, 8_000); // 500 bytes per window
    assert.equal(l.tryUseRate(1500, 0), true, 'a single packet larger than the budget');
    assert.equal(l.tryUseRate(1, 100), false);
    assert.equal(l.tryUseRate(1500, 500), true, 'window empty again');
  });

  it('follows the max rate set later; unlimited until the first setMaxRate', () => {
    const l = new RateLimiter();
    assert.equal(l.windowMs, RETRANSMIT_WINDOW_MS);
    for (let i = 0; i < 1000; i++) assert.ok(l.tryUseRate(1200, i * 0.1));
    l.setMaxRate(1_000_000); // 62 500 bytes per 500 ms
    assert.equal(l.tryUseRate(1200, 100), false, '1.2 MB already used');
    assert.equal(l.tryUseRate(1200, 600), true, 'everything left by 600 ms');
    l.setMaxRate(0);
    assert.equal(l.tryUseRate(1, 601), false, 'a zero rate refuses all but the empty-window use');
  });

  it('never lets more than max × window through any window, on a random load (simulated time)', () => {
    const rng = seeded(7);
    const maxBps = 800_000;
    const budget = (maxBps * RETRANSMIT_WINDOW_MS) / 8000;
    const l = new RateLimiter(RETRANSMIT_WINDOW_MS, maxBps);
    const allowed: { t: number; bytes: number }[] = [];
    let t = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      t += rng() * 2; // ~1 request per ms: far above the cap
      const bytes = 100 + Math.floor(rng() * 1100);
      if (l.tryUseRate(bytes, t)) allowed.push({ t, bytes });
      else refused++;
    }
    assert.ok(refused > 0);
    // Every window (a − 500, a], with a at each allowed use (the worst placements).
    let lo = 0;
    let sum = 0;
    for (const u of allowed) {
      sum += u.bytes;
      while (allowed[lo].t <= u.t - RETRANSMIT_WINDOW_MS) sum -= allowed[lo++].bytes;
      assert.ok(sum <= budget, `${sum} bytes in the window ending at ${u.t.toFixed(1)} ms > ${budget}`);
    }
    // And it is used: over the run the allowed rate is close to the cap.
    const rate = (allowed.reduce((a, u) => a + u.bytes, 0) * 8000) / t;
    assert.ok(rate > 0.95 * maxBps && rate <= maxBps * 1.01, `allowed ${Math.round(rate)} bit/s`);
  });

  it('does not let time go back, and rejects nonsense', () => {
    const l = new RateLimiter(500, 96_000);
    assert.ok(l.tryUseRate(6000, 1000));
    assert.equal(l.tryUseRate(1, 200), false, 'an earlier time counts as 1000');
    assert.throws(() => l.tryUseRate(-1, 1000), RangeError);
    assert.throws(() => l.tryUseRate(1, Number.NaN), RangeError);
    assert.throws(() => l.setMaxRate(-5), RangeError);
    assert.throws(() => new RateLimiter(0), RangeError);
  });
});
