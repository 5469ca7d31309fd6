import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { FrameAssembler, type AssembledFrame } from '../../src/receiver/frame-assembler';
import { normalizeAnnexB } from '../../src/rtp/h264';
import { parseRtp, serializeRtp } from '../../src/rtp/packet';
import type { RtpPacket } from '../../src/rtp/types';
import { CLIP_FRAMES, type ClipFrame, decodeAll, rng, shuffle, toRtpPackets, x264Clip } from '../rtp/fixtures';

const SSRC = 0x5eed1234;
const FIRST_FRAME_ID = 500;
const FIRST_SEQ = 65530;
const t0 = 10_000;

interface Setup {
  clip: ClipFrame[];
  /** Packets per frame, as they come off the wire (serialized then parsed). */
  frames: RtpPacket[][];
  flat: RtpPacket[];
}

async function setup(ssrc = SSRC, firstSeq = FIRST_SEQ): Promise<Setup> {
  const clip = await x264Clip();
  const frames = toRtpPackets(clip, { ssrc, firstSeq, mtu: 1200, firstFrameId: FIRST_FRAME_ID }).map((ps) =>
    ps.map((p) => parseRtp(serializeRtp(p))),
  );
  return { clip, frames, flat: frames.flat() };
}

function frameIndexOf(p: RtpPacket): number {
  return (p.extensions.frameId as { frameId: number }).frameId - FIRST_FRAME_ID;
}

/** Feeds packets at t0 + 0.5 ms × position; returns the completions with the position that produced them. */
function feed(asm: FrameAssembler, packets: RtpPacket[], at = (k: number) => t0 + 0.5 * k): { frame: AssembledFrame; pos: number }[] {
  const out: { frame: AssembledFrame; pos: number }[] = [];
  packets.forEach((p, k) => {
    const done = asm.insert(p, at(k));
    assert.ok(done.length <= 1);
    for (const frame of done) out.push({ frame, pos: k });
  });
  return out;
}

async function assertDecodesOnePictureEach(frames: AssembledFrame[], clip: ClipFrame[]): Promise<void> {
  const ordered = [...frames].sort((a, b) => a.frameId - b.frameId);
  const { counts } = await decodeAll(ordered.map((f) => ({ data: f.annexB, pts: clip[f.frameId - FIRST_FRAME_ID].pts })));
  assert.deepEqual(counts, new Array(ordered.length).fill(1));
}

describe('FrameAssembler on real x264 frames', () => {
  it('in order: each frame completes on its last packet, with the fields of the sender’s frame', async () => {
    const { clip, frames, flat } = await setup();
    // The first frame (the IDR, ~48 packets) wraps the sequence number.
    const firstSeqs = frames[0].map((p) => p.sequenceNumber);
    assert.ok(firstSeqs.includes(65535) && firstSeqs.includes(0));
    assert.ok(frames.some((ps) => ps.length === 1), 'some frames are a single packet');

    const asm = new FrameAssembler();
    const done = feed(asm, flat);
    assert.equal(done.length, CLIP_FRAMES);
    let k = 0;
    frames.forEach((ps, i) => {
      const first = k;
      k += ps.length;
      const { frame, pos } = done[i];
      assert.equal(pos, k - 1, `frame ${i} completes on its last packet`);
      assert.equal(frame.ssrc, SSRC);
      assert.equal(frame.frameId, FIRST_FRAME_ID + i);
      assert.equal(frame.rtpTimestamp, ps[0].timestamp);
      assert.equal(frame.key, clip[i].key);
      assert.deepEqual(frame.annexB, normalizeAnnexB(clip[i].data));
      assert.equal(frame.sizeBytes, ps.reduce((n, p) => n + p.payload.length, 0));
      assert.equal(frame.packets, ps.length);
      assert.equal(frame.firstSeq, ps[0].sequenceNumber);
      assert.equal(frame.lastSeq, ps[ps.length - 1].sequenceNumber);
      assert.equal(frame.firstRecvMs, t0 + 0.5 * first);
      assert.equal(frame.lastRecvMs, t0 + 0.5 * (k - 1));
      assert.equal(frame.completeMs, t0 + 0.5 * (k - 1));
      assert.equal(frame.duplicates, 0);
    });
    assert.deepEqual(asm.counters, {
      packets: flat.length,
      duplicates: 0,
      framesCompleted: CLIP_FRAMES,
      framesDropped: 0,
      framesMalformed: 0,
      latePackets: 0,
      packetsWithoutFrameId: 0,
    });
    assert.equal(asm.pendingCount, 0);
    assert.deepEqual(asm.expire(t0 + 1e6, 0), []);
    await assertDecodesOnePictureEach(done.map((d) => d.frame), clip);
  });

  it('shuffled (seeded): every frame completes when its last missing packet arrives', async () => {
    const { clip, flat } = await setup();
    const order = shuffle(flat, rng(2024));
    const asm = new FrameAssembler();
    const done = feed(asm, order);
    assert.equal(done.length, CLIP_FRAMES);
    assert.deepEqual(
      done.map((d) => d.frame.frameId).sort((a, b) => a - b),
      Array.from({ length: CLIP_FRAMES }, (_, i) => FIRST_FRAME_ID + i),
    );
    const completionOrder = done.map((d) => d.frame.frameId);
    assert.notDeepEqual(completionOrder, [...completionOrder].sort((a, b) => a - b), 'older frames complete after newer ones');
    for (const { frame, pos } of done) {
      const i = frame.frameId - FIRST_FRAME_ID;
      const positions = order.map((p, k) => (frameIndexOf(p) === i ? k : -1)).filter((k) => k >= 0);
      assert.equal(pos, Math.max(...positions));
      assert.equal(frame.completeMs, t0 + 0.5 * Math.max(...positions));
      assert.equal(frame.lastRecvMs, frame.completeMs);
      assert.equal(frame.firstRecvMs, t0 + 0.5 * Math.min(...positions));
      assert.deepEqual(frame.annexB, normalizeAnnexB(clip[i].data));
    }
    assert.equal(asm.counters.framesCompleted, CLIP_FRAMES);
    await assertDecodesOnePictureEach(done.map((d) => d.frame), clip);
  });

  it('every packet duplicated: duplicates are counted and never complete a frame twice', async () => {
    const { clip, frames, flat } = await setup();
    const asm = new FrameAssembler();
    const doubled = flat.flatMap((p) => [p, p]);
    const done = feed(asm, doubled);
    assert.equal(done.length, CLIP_FRAMES);
    let k = 0;
    frames.forEach((ps, i) => {
      k += 2 * ps.length;
      assert.equal(done[i].pos, k - 2, 'completes on the first copy of the last packet');
      // Copies of all but the last packet arrive while the frame is pending.
      assert.equal(done[i].frame.duplicates, ps.length - 1);
      assert.deepEqual(done[i].frame.annexB, normalizeAnnexB(clip[i].data));
    });
    assert.equal(asm.counters.duplicates, flat.length);
    assert.equal(asm.counters.packets, 2 * flat.length);

    // Duplicates mixed in at random: still exactly one completion per frame.
    const asm2 = new FrameAssembler();
    const done2 = feed(asm2, shuffle(doubled, rng(5)));
    assert.equal(done2.length, CLIP_FRAMES);
    assert.equal(new Set(done2.map((d) => d.frame.frameId)).size, CLIP_FRAMES);
    assert.equal(asm2.counters.duplicates, flat.length);
    await assertDecodesOnePictureEach(done2.map((d) => d.frame), clip);
  });

  it('one packet lost: the frame stays pending, later frames complete, expire() reports it once', async () => {
    const { frames, flat } = await setup();
    const lost = frames[0][10];
    const asm = new FrameAssembler();
    const done = feed(asm, flat.filter((p) => p !== lost));
    assert.deepEqual(
      done.map((d) => d.frame.frameId),
      Array.from({ length: CLIP_FRAMES - 1 }, (_, i) => FIRST_FRAME_ID + 1 + i),
    );
    assert.equal(asm.pendingCount, 1);
    const lastArrival = t0 + 0.5 * (flat.length - 2);
    assert.deepEqual(asm.expire(t0 + 100, 200), [], 'not old enough yet');
    const dropped = asm.expire(t0 + 300, 200);
    assert.deepEqual(dropped, [
      {
        ssrc: SSRC,
        frameId: FIRST_FRAME_ID,
        rtpTimestamp: frames[0][0].timestamp,
        key: true,
        reason: 'expired',
        packetsReceived: frames[0].length - 1,
        expectedPackets: frames[0].length,
        haveStart: true,
        haveEnd: true,
        duplicates: 0,
        firstRecvMs: t0,
        // One position earlier than in the full stream: the lost packet left a gap.
        lastRecvMs: t0 + 0.5 * (frames[0].length - 2),
        droppedMs: t0 + 300,
      },
    ]);
    assert.ok(lastArrival < t0 + 300);
    assert.equal(asm.pendingCount, 0);
    assert.equal(asm.counters.framesDropped, 1);
    assert.equal(asm.counters.framesCompleted, CLIP_FRAMES - 1);
    // The lost packet turning up after the drop is late: ignored, and not reported again.
    assert.deepEqual(asm.insert(lost, t0 + 400), []);
    assert.equal(asm.counters.latePackets, 1);
    assert.deepEqual(asm.expire(t0 + 10_000, 200), []);
  });

  it('a frame missing its first or last packet is dropped with what it had', async () => {
    const { frames } = await setup();
    const asm = new FrameAssembler();
    feed(asm, frames[0].slice(1));
    feed(asm, frames[8].slice(0, -1));
    const dropped = asm.expire(t0 + 1000, 10);
    assert.deepEqual(
      dropped.map((d) => [d.frameId - FIRST_FRAME_ID, d.packetsReceived, d.expectedPackets, d.haveStart, d.haveEnd]),
      [
        [0, frames[0].length - 1, null, false, true],
        [8, frames[8].length - 1, null, true, false],
      ],
    );
  });

  it('the lost packet arriving late completes the frame then, even after newer frames', async () => {
    const { clip, frames, flat } = await setup();
    const late = frames[0][10];
    const asm = new FrameAssembler();
    const done = feed(asm, flat.filter((p) => p !== late));
    assert.equal(done.length, CLIP_FRAMES - 1);
    const lateMs = t0 + 500;
    const [frame, ...rest] = asm.insert(late, lateMs);
    assert.equal(rest.length, 0);
    assert.equal(frame.frameId, FIRST_FRAME_ID);
    assert.equal(frame.completeMs, lateMs);
    assert.equal(frame.lastRecvMs, lateMs);
    assert.equal(frame.firstRecvMs, t0);
    assert.equal(frame.packets, frames[0].length);
    assert.deepEqual(frame.annexB, normalizeAnnexB(clip[0].data));
    assert.equal(asm.pendingCount, 0);
    await assertDecodesOnePictureEach([frame, ...done.map((d) => d.frame)], clip);
  });

  it('a duplicate after completion is counted and ignored', async () => {
    const { frames } = await setup();
    const asm = new FrameAssembler();
    const done = feed(asm, frames[3]);
    assert.equal(done.length, 1);
    assert.deepEqual(asm.insert(frames[3][0], t0 + 50), []);
    assert.deepEqual(asm.insert(frames[3][frames[3].length - 1], t0 + 60), []);
    assert.equal(asm.counters.duplicates, 2);
    assert.equal(asm.counters.framesCompleted, 1);
    assert.equal(asm.pendingCount, 0);
  });

  it('place() tells how each packet was taken: new, duplicate (pending or completed), late, no frame id', async () => {
    const { frames } = await setup();
    const asm = new FrameAssembler();
    const [a, b] = frames[0];
    assert.deepEqual(asm.place(a, t0), { outcome: 'new', frames: [] });
    assert.deepEqual(asm.place(a, t0 + 1), { outcome: 'duplicate', frames: [] });
    const rest = frames[0].slice(1).map((p, k) => asm.place(p, t0 + 2 + k));
    assert.ok(rest.every((r) => r.outcome === 'new'));
    assert.equal(rest[rest.length - 1].frames.length, 1, 'the last packet completes it');
    assert.equal(asm.place(b, t0 + 50).outcome, 'duplicate', 'a copy after completion');
    // The other IDR (many packets) loses its last packet and is dropped: what follows is late.
    const [first, second] = frames[8];
    asm.place(first, t0 + 60);
    assert.equal(asm.expire(t0 + 10_000, 100).length, 1);
    assert.equal(asm.place(second, t0 + 10_001).outcome, 'late');
    assert.equal(asm.place({ ...frames[1][0], extensions: {} }, t0).outcome, 'no-frame-id');
  });

  it('the RTP marker alone ends a frame', async () => {
    const { clip, frames } = await setup();
    const ps = frames[0].map((p) => ({
      ...p,
      extensions: { ...p.extensions, frameId: { ...(p.extensions.frameId as NonNullable<RtpPacket['extensions']['frameId']>), end: false } },
    }));
    const asm = new FrameAssembler();
    const done = feed(asm, ps);
    assert.equal(done.length, 1);
    assert.equal(done[0].pos, ps.length - 1);
    assert.deepEqual(done[0].frame.annexB, normalizeAnnexB(clip[0].data));
  });

  it('keeps the same frame id of two SSRCs apart (primary and backup)', async () => {
    const a = await setup(0xa, 100);
    const b = await setup(0xb, 65000);
    const mixed = a.frames.slice(1, 4).flat().flatMap((p, k) => [p, b.frames[1 + (k % 3)][0]]).concat(b.frames.slice(1, 4).flat());
    const asm = new FrameAssembler();
    const done = feed(asm, mixed);
    assert.deepEqual(
      done.map((d) => `${d.frame.ssrc}:${d.frame.frameId - FIRST_FRAME_ID}`).sort(),
      ['10:1', '10:2', '10:3', '11:1', '11:2', '11:3'],
    );
    for (const { frame } of done) assert.deepEqual(frame.annexB, normalizeAnnexB(a.clip[frame.frameId - FIRST_FRAME_ID].data));
  });

  it('a frame whose payloads do not depacketize is dropped as malformed, never thrown', async () => {
    const { frames } = await setup();
    const broken = frames[0].map((p, k) => {
      if (k !== 1) return p;
      const payload = Buffer.from(p.payload);
      assert.equal(payload[0] & 0x1f, 28, 'the second packet of the IDR is an FU-A start');
      payload[1] &= ~0x80; // clear S: the fragmented unit now has no start
      return { ...p, payload };
    });
    const asm = new FrameAssembler();
    let out: AssembledFrame[] = [];
    for (const p of broken) out = out.concat(asm.insert(p, t0));
    assert.deepEqual(out, []);
    assert.equal(asm.pendingCount, 0);
    const [d, ...more] = asm.expire(t0, 1e9);
    assert.equal(more.length, 0);
    assert.equal(d.reason, 'malformed');
    assert.equal(d.frameId, FIRST_FRAME_ID);
    assert.equal(d.packetsReceived, frames[0].length);
    assert.match(d.detail ?? '', /FU-A/);
    assert.equal(asm.counters.framesMalformed, 1);
    assert.equal(asm.counters.framesDropped, 1);
    assert.deepEqual(asm.insert(broken[0], t0 + 1), []);
    assert.equal(asm.counters.latePackets, 1);
  });

  it('packets without the frame-id extension are counted and ignored', async () => {
    const { frames } = await setup();
    const asm = new FrameAssembler();
    assert.deepEqual(asm.insert({ ...frames[1][0], extensions: {} }, t0), []);
    assert.equal(asm.counters.packetsWithoutFrameId, 1);
    assert.equal(asm.pendingCount, 0);
  });
});
