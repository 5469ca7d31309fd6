import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { PacedFrameEvent } from '../../src/sender/frame-events';
import { parseRtp } from '../../src/rtp/packet';
import { PacedSender } from '../../src/sender/paced-sender';
import { RETRANSMIT_WINDOW_MS } from '../../src/sender/rate-limiter';
import { SimTime } from '../emulation/sim-time';
import { rng as seeded } from '../helpers/random';

const SSRC = 0x1234;
const FPS = 30;

interface Wire {
  t: number;
  seq: number;
  bytes: number;
  retransmission: boolean;
}

/** One Annex B access unit of `bytes` (a single non-IDR slice NAL; the fill holds no start code). */
function accessUnit(bytes: number, frameId: number): Buffer {
  const au = Buffer.alloc(bytes, 0x80 | (frameId & 0x7f));
  au.set([0, 0, 0, 1, 0x41]);
  return au;
}

/** A paced sender on simulated time streaming `mediaBps` of video; every packet on the wire is recorded. */
function setup(targetBps: number, mediaBps: number) {
  const time = new SimTime(0);
  const wire: Wire[] = [];
  const seen = new Set<number>();
  const paced = new PacedSender({
    clock: time,
    timer: time,
    mtu: 1200,
    initialRateBps: targetBps,
    send: (b) => {
      const p = parseRtp(b);
      wire.push({ t: time.now(), seq: p.sequenceNumber, bytes: b.length, retransmission: seen.has(p.sequenceNumber) });
      seen.add(p.sequenceNumber);
    },
    onFramePaced: () => {},
  });
  paced.addStream({ kind: 'primary', ssrc: SSRC, payloadType: 96 });
  let frameId = 0;
  const frameBytes = Math.round(mediaBps / 8 / FPS);
  /** Streams frames until `untilMs`, calling `between` after each frame. */
  const streamUntil = async (untilMs: number, between: () => void = () => {}) => {
    while (time.now() < untilMs) {
      paced.enqueueFrame('primary', accessUnit(frameBytes, frameId), { frameId, start: true, end: true, key: false, refDelta: 1 }, frameId * 3000);
      frameId++;
      between();
      await time.runUntil(time.now() + 1000 / FPS);
    }
  };
  return { time, wire, paced, streamUntil };
}

/** Most retransmitted bytes in any window (a − 500 ms, a] from `fromMs` on, by time on the wire. */
function maxRetransmittedPerWindow(wire: Wire[], fromMs: number, toMs = Infinity): number {
  const rtx = wire.filter((w) => w.retransmission && w.t >= fromMs && w.t <= toMs);
  let lo = 0;
  let sum = 0;
  let max = 0;
  for (const w of rtx) {
    sum += w.bytes;
    while (rtx[lo].t <= w.t - RETRANSMIT_WINDOW_MS) sum -= rtx[lo++].bytes;
    max = Math.max(max, sum);
  }
  return max;
}

describe('PacedSender: retransmission rate limit (libwebrtc retransmission_rate_limiter_)', () => {
  it('under a NACK storm keeps retransmitted bytes per 500 ms within target × 0.5 s, following the target', async () => {
    const target = 1_000_000;
    const { time, wire, paced, streamUntil } = setup(target, 900_000);
    await streamUntil(1000);
    // Storm: every frame interval the receiver asks again for everything of the last
    // second, with a 20 ms RTT (so every packet is eligible again after 25 ms).
    const storm = () => {
      const recent = wire.filter((w) => !w.retransmission && w.t > time.now() - 1000).map((w) => w.seq);
      paced.retransmit(SSRC, recent, 20);
    };
    await streamUntil(4000, storm);
    const budget = (target * RETRANSMIT_WINDOW_MS) / 8000;
    const worst = maxRetransmittedPerWindow(wire, 1000);
    assert.ok(worst <= budget, `${worst} bytes retransmitted in 500 ms > ${budget}`);
    assert.ok(worst > 0.9 * budget, `the limit is used: ${worst} of ${budget}`);
    assert.ok(paced.retransmissionsRateLimited > 1000, `refused ${paced.retransmissionsRateLimited}`);
    const rtxBytes = wire.filter((w) => w.retransmission).reduce((a, w) => a + w.bytes, 0);
    assert.equal(paced.retransmissionBytesSent, rtxBytes);
    const rtxRate = (rtxBytes * 8000) / 3000;
    assert.ok(rtxRate <= target, `retransmissions averaged ${Math.round(rtxRate)} bit/s over the storm`);

    // The target halves: once the uses at the old rate left the window, the new cap holds.
    paced.setTargetRate(target / 2);
    const changedAt = time.now();
    await streamUntil(changedAt + 3000, storm);
    const worstAfter = maxRetransmittedPerWindow(wire, changedAt + RETRANSMIT_WINDOW_MS + 250);
    assert.ok(worstAfter <= budget / 2, `${worstAfter} bytes in 500 ms > ${budget / 2} after the target halved`);
    paced.stop();
  });

  it('serves every isolated NACK', async () => {
    const rand = seeded(3);
    const { time, wire, paced, streamUntil } = setup(1_000_000, 900_000);
    await streamUntil(500);
    const requested: number[] = [];
    let frame = 0;
    await streamUntil(5500, () => {
      // Every 6th frame (200 ms) one or two lost packets of the last 100 ms are asked for.
      if (++frame % 6 !== 0) return;
      const recent = wire.filter((w) => !w.retransmission && w.t > time.now() - 100).map((w) => w.seq);
      const lost = [...new Set([recent[Math.floor(rand() * recent.length)], recent[Math.floor(rand() * recent.length)]])];
      assert.equal(paced.retransmit(SSRC, lost, 30), lost.length);
      requested.push(...lost);
    });
    await time.runUntil(time.now() + 100);
    assert.ok(requested.length >= 40);
    assert.equal(paced.retransmissionsRateLimited, 0);
    assert.deepEqual(wire.filter((w) => w.retransmission).map((w) => w.seq), requested);
    paced.stop();
  });

  it('gives up the rest of a NACK at the first refused packet, and serves it when asked again later', async () => {
    const { time, wire, paced, streamUntil } = setup(200_000, 150_000);
    await streamUntil(1000);
    const eight = wire.slice(-8);
    // A target whose 500 ms allow exactly five of these packets.
    const five = eight.slice(0, 5).reduce((a, w) => a + w.bytes, 0);
    paced.setTargetRate(((five + eight[5].bytes / 2) * 8000) / RETRANSMIT_WINDOW_MS);
    const seqs = eight.map((w) => w.seq);
    assert.equal(paced.retransmit(SSRC, seqs, 30), 5);
    assert.equal(paced.retransmissionsRateLimited, 3, 'the 6th refused, the 7th and 8th given up');
    await time.runUntil(time.now() + RETRANSMIT_WINDOW_MS);
    assert.equal(paced.retransmit(SSRC, seqs.slice(5), 30), 3, 'the window emptied');
    await time.runUntil(time.now() + 200);
    assert.deepEqual(wire.filter((w) => w.retransmission).map((w) => w.seq), seqs);
    paced.stop();
  });
});

describe('PacedSender probe clusters (libwebrtc PacingController with an active cluster)', () => {
  /** Feedback saying every packet sent so far arrived at its send time; the results by transport seq. */
  function allArrived(paced: PacedSender, sent: { transportSeq: number; sendTimeMs: number }[]) {
    return paced.history.onTransportFeedback(
      {
        type: 'twcc',
        senderSsrc: 1,
        mediaSsrc: SSRC,
        baseSeq: sent[0].transportSeq,
        referenceTimeMs: 0,
        feedbackCount: 0,
        packets: sent.map((s) => ({ seq: s.transportSeq, receivedAtMs: Math.round(s.sendTimeMs * 4) / 4 })),
      },
      0,
    );
  }

  it('carries the queued media at the probe rate, pads only when the queue is empty, and tags every packet', async () => {
    // 300 kbit/s target: one 30 kB frame waits in the pacer for ~300 ms.
    const { time, wire, paced } = setup(300_000, 0);
    const sent: { transportSeq: number; sendTimeMs: number }[] = [];
    paced.onPacketSent = (p) => sent.push(p);
    paced.enqueueFrame('primary', accessUnit(30_000, 0), { frameId: 0, start: true, end: true, key: true, refDelta: 0 }, 0);
    await time.runUntil(20);
    const before = wire.length;
    const queuedBefore = 26 - before; // 30 kB in ≤ 1200-byte packets: 26 packets
    // A 2 Mbit/s cluster of at least 15 ms (3750 B) and 5 packets, then one of 60 kB that outlasts the queue.
    paced.sendProbeCluster({ id: 7, targetBps: 2_000_000, minPackets: 5, minBytes: 3750 });
    await time.runUntil(40);
    const first = wire.slice(before);
    assert.ok(first.length >= 4 && first.every((w) => w.bytes > 1000), `media, not padding: ${first.map((w) => w.bytes)}`);
    const span = first[first.length - 1].t - first[0].t;
    assert.ok(span <= 20, `sent at the probe rate: ${first.length} packets over ${span} ms`);
    paced.sendProbeCluster({ id: 8, targetBps: 4_000_000, minPackets: 5, minBytes: 60_000 });
    await time.runUntil(400);
    const padding = wire.filter((w) => w.bytes < 300);
    assert.ok(padding.length > 0, 'padding once the media ran out');
    const media = wire.filter((w) => w.bytes > 1000);
    assert.equal(media.length, 26, 'every media packet sent once');
    assert.ok(queuedBefore > 10);
    const lastMedia = Math.max(...media.map((w) => w.t));
    assert.ok(padding.every((w) => w.t >= lastMedia), 'no padding while media waited');
    assert.equal(paced.probePaddingBytesSent, padding.reduce((a, w) => a + w.bytes, 0), 'padding counted apart from media');

    const results = allArrived(paced, sent);
    const byCluster = (id: number) => results.filter((r) => r.probeClusterId === id);
    assert.ok(byCluster(7).length >= 5 && byCluster(7).every((r) => r.sizeBytes > 1000), 'cluster 7: media packets, tagged');
    const bytes8 = byCluster(8).reduce((a, r) => a + r.sizeBytes, 0);
    assert.ok(bytes8 >= 60_000 && bytes8 < 60_000 + 1300, `cluster 8: ${bytes8} B, media and padding`);
    assert.ok(results.filter((r) => r.probeClusterId === undefined).length === before, 'packets paced before the clusters are untagged');
    paced.stop();
  });
});

describe('PacedSender: sizes on the wire', () => {
  it('counts what the transport reports per packet (SRTP tag + UDP/IP), for media and probe padding alike', async () => {
    const OVERHEAD = 38;
    const time = new SimTime(0);
    const rtpBytes: number[] = [];
    const paced = new PacedSender({
      clock: time,
      timer: time,
      mtu: 1200,
      initialRateBps: 1_000_000,
      send: (b) => {
        rtpBytes.push(b.length);
        return b.length + OVERHEAD;
      },
      onFramePaced: (f) => pacedFrames.push(f),
    });
    const pacedFrames: PacedFrameEvent[] = [];
    paced.addStream({ kind: 'primary', ssrc: SSRC, payloadType: 96 });
    const reported: number[] = [];
    paced.onPacketSent = (p) => reported.push(p.sizeBytes);
    paced.enqueueFrame('primary', accessUnit(5000, 0), { frameId: 0, start: true, end: true, key: false, refDelta: 1 }, 0);
    await time.runUntil(100);
    // The frame's own event: every packet left, first and last on the wire.
    assert.equal(pacedFrames.length, 1);
    assert.deepEqual({ ...pacedFrames[0], firstSentMs: null, lastSentMs: null }, { kind: 'paced', frameId: 0, stream: 'primary', packets: rtpBytes.length, enqueueMs: 0, firstSentMs: null, lastSentMs: null, complete: true, unsent: null });
    assert.ok(pacedFrames[0].firstSentMs === 0 && pacedFrames[0].lastSentMs! > 0 && pacedFrames[0].lastSentMs! < 100);
    paced.sendProbeCluster({ id: 1, targetBps: 2_000_000, minPackets: 5, minBytes: 3750 });
    await time.runUntil(200);
    assert.ok(rtpBytes.length > 5 + 4, `${rtpBytes.length} packets`);
    assert.deepEqual(reported, rtpBytes.map((n) => n + OVERHEAD));
    // The sent rate (network.csv's sent_bps) counts the same sizes; the counters stay RTP bytes.
    assert.equal(paced.sentBitrateBps(200), (reported.reduce((a, b) => a + b, 0) * 8 * 1000) / 1000);
    assert.equal(paced.counters('primary').bytesSent + paced.probePaddingBytesSent, rtpBytes.reduce((a, b) => a + b, 0));
  });
});

describe('PacedSender: key-frame flushing', () => {
  it('drops the queued packets of the stream before a key frame, reports the frames flushed, and never flushes a queued key frame', async () => {
    const time = new SimTime(0);
    const frames: PacedFrameEvent[] = [];
    const paced = new PacedSender({ clock: time, timer: time, mtu: 1200, initialRateBps: 200_000, send: (b) => b.length, onFramePaced: (f) => frames.push(f) });
    paced.addStream({ kind: 'primary', ssrc: SSRC, payloadType: 96 });
    // Three 12 kB P-frames at 200 kbit/s × 2.5: far more than 100 ms of queue.
    for (let id = 0; id < 3; id++) paced.enqueueFrame('primary', accessUnit(12_000, id), { frameId: id, start: true, end: true, key: false, refDelta: 1 }, id * 3000);
    await time.runUntil(50);
    const flushed = paced.flushStream('primary');
    assert.ok(flushed > 15, `${flushed} packets flushed`);
    assert.equal(paced.packetsFlushed, flushed);
    assert.deepEqual(frames.map((f) => [f.frameId, f.complete, f.unsent]), [[0, false, 'flushed'], [1, false, 'flushed'], [2, false, 'flushed']].slice(frames.length === 3 ? 0 : 1));
    paced.enqueueFrame('primary', accessUnit(20_000, 3), { frameId: 3, start: true, end: true, key: true, refDelta: 0 }, 9000);
    assert.equal(paced.flushStream('primary'), 0, 'a key frame is queued: nothing flushed');
    await time.runUntil(2000);
    assert.deepEqual(frames.at(-1), { ...frames.at(-1)!, frameId: 3, complete: true, unsent: null });
    paced.stop();
  });
});
