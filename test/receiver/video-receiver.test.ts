/**
 * The receive path fed with real x264 frames as RTP: one receiver-frames.csv row per
 * (frame id, stream), whatever arrives after a frame's row was written (a retransmission
 * that crossed the original, a duplicate). Real clock and timers, low-latency playout
 * (render as soon as decoded), so a test takes a few hundred ms.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { monotonicClock, realTimer } from '../../src/clock';
import { receiverRow } from '../../src/metrics/receiver-frames';
import type { ReceiverFrameRow } from '../../src/metrics/rows';
import { parseRtp, serializeRtp } from '../../src/rtp/packet';
import type { RtpPacket } from '../../src/rtp/types';
import { VideoReceiver } from '../../src/receiver/video-receiver';
import { CLIP_FRAMES, CLIP_KEYS, toRtpPackets, x264Clip } from '../rtp/fixtures';

const SSRC = 0x1234abcd;

interface Run {
  rx: VideoReceiver;
  rows: ReceiverFrameRow[];
  rendered: number[];
  send: (p: RtpPacket) => void;
}

function receiver(): Run {
  const rows: ReceiverFrameRow[] = [];
  const rendered: number[] = [];
  const rx = new VideoReceiver({
    clock: monotonicClock,
    timer: realTimer,
    streams: new Map([[SSRC, 'primary']]),
    playoutDelayMs: { min: 0, max: 500 },
    render: (_frame, frameId) => rendered.push(frameId),
    onFrameSettled: (f) => rows.push(receiverRow(f)),
  });
  return { rx, rows, rendered, send: (p) => rx.onPacket(parseRtp(serializeRtp(p)), 'primary', monotonicClock.now()) };
}

async function frames(): Promise<RtpPacket[][]> {
  return toRtpPackets(await x264Clip(), { ssrc: SSRC, firstSeq: 65500, mtu: 1200, firstFrameId: 0 });
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function assertOneRowPerFrame(rows: ReceiverFrameRow[]): void {
  const keys = rows.map((r) => `${r.stream}:${r.frame_id}`);
  assert.deepEqual(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    [],
    'no (frame_id, stream) is written twice',
  );
}

describe('VideoReceiver rows', () => {
  it('a retransmission arriving after its frame was rendered is counted as late, never a second row', async () => {
    const ps = await frames();
    const { rx, rows, rendered, send } = receiver();
    for (const f of ps) for (const p of f) send(p);
    await until('every picture rendered', () => rendered.length === CLIP_FRAMES);
    await until('every row written', () => rows.length === CLIP_FRAMES);
    // The original was only delayed: NACK's retransmission (same packet) and then the
    // original itself turn up after the frame's row was written.
    send(ps[3][0]);
    send(ps[3][0]);
    send(ps[0][ps[0].length - 1]);
    await rx.drainAndClose(1000);

    assertOneRowPerFrame(rows);
    assert.equal(rows.length, CLIP_FRAMES);
    assert.ok(rows.every((r) => r.rendered === 1 && r.not_rendered_reason === ''));
    const r3 = rows.find((r) => r.frame_id === 3)!;
    assert.equal(r3.packets, ps[3].length);
    assert.equal(rx.latePackets, 3);
  });

  it('a duplicate while the frame is open counts on that frame; packets stay the distinct ones', async () => {
    const ps = await frames();
    const { rx, rows, rendered, send } = receiver();
    for (const [i, f] of ps.entries()) {
      for (const p of f) {
        send(p);
        // Frame 5: its first packet twice while the frame is still assembling.
        if (i === 5 && p === f[0]) send(p);
      }
    }
    await until('every picture rendered', () => rendered.length === CLIP_FRAMES);
    await rx.drainAndClose(1000);
    assertOneRowPerFrame(rows);
    const r5 = rows.find((r) => r.frame_id === 5)!;
    assert.equal(r5.duplicates, 1);
    assert.equal(r5.packets, ps[5].length);
    assert.equal(rx.latePackets, 0);
  });

  it('the lost packet of a frame given up (the chain jumped to the next key frame) arriving late adds no row', async () => {
    const ps = await frames();
    assert.ok(CLIP_KEYS.has(8) && ps[5].length >= 1);
    const lost = ps[5][ps[5].length - 1];
    const { rx, rows, rendered, send } = receiver();
    for (const f of ps) for (const p of f) if (p !== lost) send(p);
    // Frames 0–4 and 8–11 render; 5 is incomplete, 6 and 7 cannot be decoded without it.
    await until('the pictures around the gap rendered', () => rendered.length === CLIP_FRAMES - 3);
    await until('the rows of the skipped frames written', () => rows.length === CLIP_FRAMES);
    assert.equal(rows.find((r) => r.frame_id === 5)!.not_rendered_reason, 'incomplete');
    // Now the retransmission: it completes frame 5 in the assembler, long after its row closed.
    send(lost);
    await rx.drainAndClose(1000);

    assertOneRowPerFrame(rows);
    assert.equal(rows.length, CLIP_FRAMES);
    assert.deepEqual(
      rows.filter((r) => r.rendered === 0).map((r) => [r.frame_id, r.not_rendered_reason]).sort(),
      [
        [5, 'incomplete'],
        [6, 'undecodable'],
        [7, 'undecodable'],
      ],
    );
    assert.equal(rx.latePackets, 1);
  });
});
