import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  kAccDrift,
  kAccMaxError,
  kAlarmThreshold,
  TimestampExtrapolator,
} from '../../../src/receiver/timing/timestamp-extrapolator';

const FRAME_MS = 100 / 3; // 30 fps
const TICKS_PER_FRAME = 3000; // 90 kHz / 30 fps
const WRAP = 0x1_0000_0000;

describe('TimestampExtrapolator', () => {
  it('returns undefined before the first packet, then extrapolates at 90 kHz from the last one', () => {
    const te = new TimestampExtrapolator(1337);
    assert.equal(te.extrapolateLocalTime(90000), undefined);
    te.update(1377, 90000);
    // Startup (< 2 packets): prev time + ticks / 90 -> 1377 + 90000 / 90 = 2377 ms.
    assert.equal(te.extrapolateLocalTime(90000), 1377);
    assert.equal(te.extrapolateLocalTime(180000), 2377);
    assert.equal(te.extrapolateLocalTime(90000 - 4500), 1327); // 50 ms earlier
  });

  it('maps a clean 30 fps stream back to local time within 1 ms', () => {
    const te = new TimestampExtrapolator(0);
    for (let k = 0; k < 600; k++) {
      const now = 1000 + k * FRAME_MS; // fractional ms
      const rtp = 90000 + TICKS_PER_FRAME * k;
      te.update(now, rtp);
      const local = te.extrapolateLocalTime(rtp)!;
      // t_ms is rounded to whole ms (+-0.5) and the result is whole ms: |error| <= 1 ms.
      assert.ok(Math.abs(local - now) <= 1, `frame ${k}: ${local} vs ${now}`);
    }
    // The fitted rate is 90 ticks/ms; one second ahead (90000 ticks) maps to now + 1000 ms.
    assert.ok(Math.abs(te.ticksPerMs - 90) < 0.001, `rate ${te.ticksPerMs}`);
    const lastNow = 1000 + 599 * FRAME_MS;
    const ahead = te.extrapolateLocalTime(90000 + TICKS_PER_FRAME * 599 + 90000)!;
    assert.ok(Math.abs(ahead - (lastNow + 1000)) <= 1, `${ahead} vs ${lastNow + 1000}`);
    assert.equal(te.delayChangeAlarms, 0);
  });

  it('unwraps the RTP timestamp across 2^32', () => {
    const te = new TimestampExtrapolator(0);
    const first = WRAP - TICKS_PER_FRAME * 100; // wraps at frame 100
    for (let k = 0; k < 300; k++) {
      const now = 5000 + k * FRAME_MS;
      const rtp = (first + TICKS_PER_FRAME * k) % WRAP; // 32-bit value on the wire
      te.update(now, rtp);
      const local = te.extrapolateLocalTime(rtp)!;
      assert.ok(Math.abs(local - now) <= 1, `frame ${k} (rtp ${rtp}): ${local} vs ${now}`);
    }
    // A pre-wrap timestamp still maps to the past: frame 90 was at 5000 + 90 * 33.333 = 8000.
    const old = te.extrapolateLocalTime(first + TICKS_PER_FRAME * 90)!;
    assert.ok(Math.abs(old - 8000) <= 1, `${old}`);
  });

  it('unwraps when the first packet is just below the wrap (upstream test, 25 fps)', () => {
    const te = new TimestampExtrapolator(1337);
    let rtp = WRAP - 1;
    let now = 1337;
    te.update(now, rtp);
    assert.equal(te.extrapolateLocalTime(rtp), 1337);
    rtp = (rtp + 3600) % WRAP; // 40 ms at 90 kHz, crosses the wrap
    now += 40;
    te.update(now, rtp);
    assert.equal(te.extrapolateLocalTime(rtp), now);
    assert.equal(te.extrapolateLocalTime((rtp + 90000) % WRAP), now + 1000);
    // "Not quite 1 s since the math always rounds up": trunc(-999.9 + 0.5) = -999.
    assert.equal(te.extrapolateLocalTime((rtp - 90000 + WRAP) % WRAP), now - 999);
  });

  it('drops reordered frames but runs their residual through the CUSUM detector', () => {
    const te = new TimestampExtrapolator(0);
    let k = 0;
    for (; k < 300; k++) te.update(1000 + k * FRAME_MS, 90000 + TICKS_PER_FRAME * k);
    const lastRtp = 90000 + TICKS_PER_FRAME * (k - 1);
    const rate = te.ticksPerMs;
    const before = te.extrapolateLocalTime(lastRtp)!;
    // Replay a frame 1 s older than the newest one, every ms. Its residual is at least
    // -90000 ticks, clamped to -kAccMaxError = -7000; the negative accumulator moves by
    // -7000 + kAccDrift 6600 = -400 per sample, so it passes -kAlarmThreshold = -60000 at
    // sample ceil(60000 / 400) + 1 = 151 (-60400 < -60000; -60000 itself is no alarm).
    const perSample = -kAccMaxError + kAccDrift;
    assert.equal(perSample, -400);
    const expectedAlarmAt = Math.floor(kAlarmThreshold / -perSample) + 1;
    assert.equal(expectedAlarmAt, 151);
    const t0 = 1000 + (k - 1) * FRAME_MS;
    for (let j = 1; j <= 200; j++) {
      te.update(t0 + j, lastRtp - 90000);
      if (j === expectedAlarmAt - 1) assert.equal(te.delayChangeAlarms, 0);
      if (j === expectedAlarmAt) assert.equal(te.delayChangeAlarms, 1);
    }
    // The filter itself never saw those frames: same rate, same mapping.
    assert.equal(te.ticksPerMs, rate);
    assert.equal(te.extrapolateLocalTime(lastRtp), before);
  });

  it('CUSUM: a persistent delay step alarms, but not before 151 frames', () => {
    const te = new TimestampExtrapolator(0);
    const stepAt = 300;
    let firstAlarm = -1;
    for (let k = 0; k < 1000; k++) {
      const now = 1000 + k * FRAME_MS + (k >= stepAt ? 1000 : 0); // +1 s delay from frame 300
      te.update(now, 90000 + TICKS_PER_FRAME * k);
      if (k < stepAt) assert.equal(te.delayChangeAlarms, 0);
      if (firstAlarm < 0 && te.delayChangeAlarms > 0) firstAlarm = k;
    }
    // Each frame lowers the accumulator by at most 7000 - 6600 = 400 ticks, so the alarm
    // needs at least 151 frames; it does come (the RLS fit alone leaves a large error).
    assert.ok(firstAlarm >= stepAt + 150, `first alarm at ${firstAlarm}`);
    assert.ok(firstAlarm > 0 && firstAlarm < stepAt + 600, `first alarm at ${firstAlarm}`);
  });

  it('resets after 10 s without frames', () => {
    const te = new TimestampExtrapolator(0);
    for (let k = 0; k < 60; k++) te.update(1000 + k * FRAME_MS, 90000 + TICKS_PER_FRAME * k);
    const lastNow = 1000 + 59 * FRAME_MS;
    // 10 s + 1 ms later, a timestamp 20 s ahead (e.g. a new source): full reset, startup mode.
    const now = lastNow + 10_001;
    const rtp = 90000 + TICKS_PER_FRAME * 59 + 20 * 90000;
    te.update(now, rtp);
    assert.equal(te.packetsInFilter, 1);
    assert.equal(te.extrapolateLocalTime(rtp), now);
    assert.equal(te.extrapolateLocalTime(rtp + 9000), now + 100);
  });

  it('optional hard outlier rejection (2025 upstream default) ignores a single late frame', () => {
    const run = (outlierRejectionStddev?: number): number => {
      const te = new TimestampExtrapolator(0, { outlierRejectionStddev });
      for (let k = 0; k < 400; k++) te.update(1000 + k * FRAME_MS, 90000 + TICKS_PER_FRAME * k);
      // Frame 400 arrives 300 ms late.
      te.update(1000 + 400 * FRAME_MS + 300, 90000 + TICKS_PER_FRAME * 400);
      // Error of the mapping for frame 401's on-time arrival.
      return te.extrapolateLocalTime(90000 + TICKS_PER_FRAME * 401)! - (1000 + 401 * FRAME_MS);
    };
    const classic = run(undefined);
    const rejecting = run(2.0);
    // Rejected: the fit is untouched and still within 1 ms.
    assert.ok(Math.abs(rejecting) <= 1, `with rejection: ${rejecting}`);
    // Classic: the late frame drags the fit (residual -27000 ticks with a tiny gain).
    assert.ok(classic > 1, `classic: ${classic}`);
  });
});
