import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  kDefaultRenderDelayMs,
  kDelayMaxChangeMsPerS,
  Timing,
} from '../../../src/receiver/timing/timing';

const FRAME_MS = 100 / 3;

describe('Timing (VCMTiming)', () => {
  it('uses render delay 10 ms and 100 ms/s max delay change', () => {
    assert.equal(kDefaultRenderDelayMs, 10);
    assert.equal(kDelayMaxChangeMsPerS, 100);
    const t = new Timing();
    assert.equal(t.renderDelayMs(), 10);
    // target = max(min playout 0, jitter 0 + decode 0 + render 10) = 10.
    assert.equal(t.targetDelayMs(), 10);
    assert.equal(t.currentDelayMs(), 0);
  });

  it('moves the current delay by at most 100 ms per second of RTP time', () => {
    const t = new Timing();
    const rtp0 = 90000;
    t.updateCurrentDelay(rtp0);
    // Not initialised: current = target = 0 + 0 + 10 = 10.
    assert.equal(t.currentDelayMs(), 10);
    t.setJitterDelayMs(500); // target 510; current stays 10 (already initialised)
    assert.equal(t.targetDelayMs(), 510);
    assert.equal(t.currentDelayMs(), 10);
    // 1 s of RTP time (90000 ticks): max change 100 * 90000 / 90000 = 100 -> 110.
    t.updateCurrentDelay(rtp0 + 90000);
    assert.equal(t.currentDelayMs(), 110);
    // One 30 fps frame (3000 ticks): trunc(100 * 3000 / 90000) = trunc(3.33) = 3 -> 113.
    t.updateCurrentDelay(rtp0 + 93000);
    assert.equal(t.currentDelayMs(), 113);
    // 500 ticks: trunc(0.556) = 0 -> postponed (previous timestamp kept) ...
    t.updateCurrentDelay(rtp0 + 93500);
    assert.equal(t.currentDelayMs(), 113);
    // ... so 500 more ticks count 1000 since 93000: trunc(1.11) = 1 -> 114.
    t.updateCurrentDelay(rtp0 + 94000);
    assert.equal(t.currentDelayMs(), 114);
    // An older timestamp (reordering) is ignored.
    t.updateCurrentDelay(rtp0 + 3000);
    assert.equal(t.currentDelayMs(), 114);
    // Downwards too: target 10, 0.5 s -> -50 -> 64; 1 s more -> max(-100, 10 - 64) -> 10.
    t.setJitterDelayMs(0);
    assert.equal(t.targetDelayMs(), 10);
    t.updateCurrentDelay(rtp0 + 94000 + 45000);
    assert.equal(t.currentDelayMs(), 64);
    t.updateCurrentDelay(rtp0 + 94000 + 135000);
    assert.equal(t.currentDelayMs(), 10);
  });

  it('the first jitter delay becomes the current delay; 30 fps moves 90 ms per second', () => {
    const t = new Timing();
    t.setJitterDelayMs(40); // initial state: current = 40
    assert.equal(t.currentDelayMs(), 40);
    t.updateCurrentDelay(3000); // prev was 0: 3000 ticks -> 3 ms; target 50 -> 43
    assert.equal(t.currentDelayMs(), 43);
    t.setJitterDelayMs(400); // target 410
    for (let k = 2; k <= 31; k++) t.updateCurrentDelay(3000 * k);
    // 30 frames of 3000 ticks, 3 ms each (truncation of 3.33): 43 + 90 = 133.
    assert.equal(t.currentDelayMs(), 133);
  });

  it('the first update after the jitter delay set the current delay does not depend on the RTP timestamp base', () => {
    // setJitterDelayMs initialises the current delay before any timestamp was seen; the first
    // updateCurrentDelay then moves to the target as upstream's uint32 difference from 0 does,
    // whether the random base is below or above 2^31 (it used to be ignored above).
    for (const base of [0x1000_0000, 0x9000_0000]) {
      const t = new Timing();
      t.setJitterDelayMs(1);
      assert.equal(t.currentDelayMs(), 1);
      t.setJitterDelayMs(20);
      t.updateCurrentDelay(base);
      assert.equal(t.currentDelayMs(), 30, `base ${base.toString(16)}`);
    }
  });

  it('handles the RTP wrap in the max change', () => {
    const t = new Timing();
    const prev = 0xffffffff - 44999; // 4294922296 > 0xffff0000
    t.updateCurrentDelay(prev); // current = 10
    t.setJitterDelayMs(1000);
    // Wrap branch: 45000 + 2^32 - 4294922296 = 90000 ticks -> 100 ms.
    t.updateCurrentDelay(45000);
    assert.equal(t.currentDelayMs(), 110);
    // Wrap of 0x10000 + ... (outside the explicit wrap branch): uint32 difference
    // (70000 - 4294967000) mod 2^32 = 70296 ticks -> trunc(78.1) = 78.
    const u = new Timing();
    u.updateCurrentDelay(4294967000);
    u.setJitterDelayMs(1000);
    u.updateCurrentDelay(70000);
    assert.equal(u.currentDelayMs(), 10 + 78);
  });

  it('render time = extrapolated local time + current delay (clamped to the playout range)', () => {
    const t = new Timing();
    // Before any frame: extrapolation unknown -> now + current delay.
    t.setJitterDelayMs(40); // current 40
    assert.equal(t.renderTimeMs(90000, 5000), 5040);
    let last = 0;
    for (let k = 0; k < 60; k++) {
      const now = 1000 + k * FRAME_MS;
      t.incomingTimestamp(90000 + 3000 * k, now);
      last = now;
    }
    const rtp = 90000 + 3000 * 59;
    const local = t.extrapolator.extrapolateLocalTime(rtp)!;
    assert.ok(Math.abs(local - last) <= 1);
    assert.equal(t.renderTimeMs(rtp, last), local + 40);
    // A frame one second later in RTP time renders ~1 s later.
    const next = t.renderTimeMs(rtp + 90000, last);
    assert.ok(Math.abs(next - (last + 1000 + 40)) <= 1, `${next}`);
    // min playout delay 100 > current 40 -> 100.
    t.setMinPlayoutDelayMs(100);
    assert.equal(t.renderTimeMs(rtp, last), local + 100);
    // max playout delay 20 < current 40 (min 5) -> 20.
    t.setMinPlayoutDelayMs(5);
    t.setMaxPlayoutDelayMs(20);
    assert.equal(t.renderTimeMs(rtp, last), local + 20);
  });

  it('maxWaitingTime = render - now - decode (p95) - render delay', () => {
    const t = new Timing();
    // Decode times: 5 ignored samples, then 18 x 5 ms and 2 x 12 ms within 10 s.
    let now = 0;
    for (let i = 0; i < 5; i++) t.addDecodeTime(100, (now += 33));
    for (let i = 0; i < 18; i++) t.addDecodeTime(5, (now += 33));
    t.addDecodeTime(12, (now += 33));
    t.addDecodeTime(11.6, (now += 33)); // rounded to 12 ms as TimeDelta::ms() does
    // p95 of [5 x 18, 12, 12]: index trunc(0.95 * 19) = 18 -> 12 ms.
    assert.equal(t.requiredDecodeTimeMs(), 12);
    // 2000 - 1900 - 12 - 10 = 78 ms.
    assert.equal(t.maxWaitingTimeMs(2000, 1900), 78);
    // Negative when the frame is already late: 1920 - 1900 - 12 - 10 = -2.
    assert.equal(t.maxWaitingTimeMs(1920, 1900), -2);
    // Target delay includes the decode time: jitter 30 + 12 + 10 = 52.
    t.setJitterDelayMs(30);
    assert.equal(t.targetDelayMs(), 52);
    assert.equal(t.getTimings().maxDecodeDurationMs, 12);
    assert.equal(t.getTimings().numDecodedFrames, 25);
  });

  it('updateCurrentDelayAfterDecode adds how late the decode started, up to the target', () => {
    const t = new Timing();
    for (let i = 0; i < 6; i++) t.addDecodeTime(4, i * 33); // 6th sample is the first kept: 4 ms
    assert.equal(t.requiredDecodeTimeMs(), 4);
    t.setJitterDelayMs(20); // current 20, target 20 + 4 + 10 = 34
    // Decode started at 1000 for render time 1010: delayed = (1000 - 1010) + 4 + 10 = 4.
    t.updateCurrentDelayAfterDecode(1010, 1000);
    assert.equal(t.currentDelayMs(), 24);
    // Way too late: (1100 - 1010) + 14 = 104 -> 24 + 104 > 34 -> current = target 34.
    t.updateCurrentDelayAfterDecode(1010, 1100);
    assert.equal(t.currentDelayMs(), 34);
    // Early (delayed = 950 - 1010 + 14 = -46 < 0): no change.
    t.updateCurrentDelayAfterDecode(1010, 950);
    assert.equal(t.currentDelayMs(), 34);
  });

  it('low-latency path: min 0 / max <= 500 renders ASAP (0) and paces decodes at 8 ms', () => {
    const t = new Timing({ maxPlayoutDelayMs: 400 });
    assert.equal(t.useLowLatencyRendering(), true);
    t.incomingTimestamp(90000, 1000);
    assert.equal(t.renderTimeMs(90000, 1000), 0);
    t.setLastDecodeScheduledTimestamp(1000);
    assert.equal(t.maxWaitingTimeMs(0, 1003), 5); // 1000 + 8 - 1003
    assert.equal(t.maxWaitingTimeMs(0, 1010), 0);
    assert.equal(t.maxWaitingTimeMs(0, 1003, true), 0); // too many frames queued
    // Default options (max 10 s) are not low latency, and a render time of 0 is just a time.
    const u = new Timing();
    assert.equal(u.useLowLatencyRendering(), false);
    assert.equal(u.maxWaitingTimeMs(0, 0), -10);
  });
});
