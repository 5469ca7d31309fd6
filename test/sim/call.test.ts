/**
 * The middle layer in one process on simulated time: VideoSender in a SendSession ↔
 * SimulatedLink ↔ ReceiveSession around a VideoReceiver, with real x264 and FFmpeg. Each
 * case runs in a few seconds and gives the same frames on every run (the last case checks
 * that). The two-process, tc-shaped versions of these cases are test/e2e/*.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { VideoFrame } from '../../src/media/codec';
import type { JoinedFrameRow } from '../../src/metrics/rows';
import { parseRtp } from '../../src/rtp/packet';
import { runSimulatedCall, type SimulatedCallOptions, type SimulatedCallResult } from '../../src/sim/simulated-call';
import { clipPictures } from '../helpers/clip';

const FPS = 30;
const KEYINT = 60;
let pictures: VideoFrame[] = [];

function call(extra: Partial<SimulatedCallOptions>): Promise<SimulatedCallResult> {
  return runSimulatedCall({
    pictures,
    fps: FPS,
    frames: 150,
    link: { up: { kbit: 2500, queueMs: 1000 }, down: { kbit: 2500 } },
    bitrateBps: 1_000_000,
    keyint: KEYINT,
    dual: null,
    ...extra,
  });
}

function rendered(frames: JoinedFrameRow[]): JoinedFrameRow[] {
  return frames.filter((f) => f.rendered === 1);
}

function assertRenderedOnceInOrder(frames: JoinedFrameRow[]): void {
  const r = rendered(frames);
  const ids = r.map((f) => f.frame_id);
  assert.equal(new Set(ids).size, ids.length, 'no picture rendered twice');
  const byTime = [...r].sort((a, b) => Number(a.render_ms) - Number(b.render_ms)).map((f) => f.frame_id);
  assert.deepEqual(byTime, [...byTime].sort((a, b) => a - b), 'pictures rendered in order');
}

/** A loss pattern: the last packet of primary frame `frameId`, on its first transmission only or on every one. */
function dropLastPacketOf(frameId: number, always: boolean) {
  let dropped = 0;
  const pattern = (packet: Buffer) => {
    if (packet[1] >= 192 && packet[1] <= 223) return false; // RTCP
    const p = parseRtp(packet);
    const hit = p.ssrc === 0x11111111 && p.marker && p.extensions.frameId?.frameId === frameId && (always || dropped === 0);
    if (hit) dropped++;
    return hit;
  };
  return { pattern, dropped: () => dropped };
}

describe('a call on simulated time (sessions ↔ simulated link)', { timeout: 120_000 }, () => {
  before(async () => {
    pictures = await clipPictures(30, { width: 640, height: 360 });
  });

  it('single stream on a fixed link: every frame rendered once, in order', async () => {
    const r = await call({});
    assert.equal(r.frames.length, 150);
    assert.equal(rendered(r.frames).length, 150, 'every picture rendered');
    assertRenderedOnceInOrder(r.frames);
    assert.equal(r.counters.decoderErrors, 0);
    assert.equal(r.link.up.queueDrops + r.link.up.lossDrops, 0);
    // Fixed rate: the network log has a row per 100 ms with the encoder's target.
    assert.ok(r.network.length >= 45 && r.network.every((n) => n.controller === 'fixed' && n.target_bps === 1_000_000 && n.detector === ''));
    assert.ok(r.network.some((n) => typeof n.rtt_ms === 'number' && n.rtt_ms >= 0), 'RTT from receiver reports');
  });

  it('a packet lost once is recovered by NACK: no frame lost, no key frame asked for', async () => {
    const loss = dropLastPacketOf(40, false);
    const r = await call({ link: { up: { kbit: 2500, drop: loss.pattern }, down: { kbit: 2500 } } });
    assert.equal(loss.dropped(), 1);
    assert.ok(r.counters.retransmissionsSent >= 1, 'retransmitted');
    assert.equal(rendered(r.frames).length, 150, 'every picture rendered, frame 40 too');
    assert.equal(r.counters.keyFrameRequests, 0);
    assertRenderedOnceInOrder(r.frames);
  });

  it('the last picture\'s last packet lost: the end-of-stream handshake has it repaired before goodbye', async () => {
    // No tail after the pacer drains: only the handshake (the sender's last sequence
    // number puts the lost tail on the receiver's NACK list) can save picture 149.
    const loss = dropLastPacketOf(149, false);
    const r = await call({ tailMs: 0, link: { up: { kbit: 2500, drop: loss.pattern }, down: { kbit: 2500 } } });
    assert.equal(loss.dropped(), 1);
    assert.equal(rendered(r.frames).length, 150, 'every picture rendered, the last too');
    assert.deepEqual({ ...r.lastPicture, waitedMs: 0 }, { reported: true, rendered: true, frameId: 149, waitedMs: 0 });
    // A one-picture call: the only picture streams and renders.
    const one = await call({ frames: 1, tailMs: 0 });
    assert.equal(rendered(one.frames).length, 1);
    assert.equal(one.lastPicture?.rendered, true);
  });

  it('a packet lost on every transmission: PLI, a forced I-frame, and the stream goes on from it', async () => {
    // No scheduled I-frame to rescue the stream: the receiver gives up on frame 40 after
    // libwebrtc's 3 s max wait and asks for one.
    const loss = dropLastPacketOf(40, true);
    const r = await call({ frames: 200, keyint: 0, link: { up: { kbit: 2500, drop: loss.pattern }, down: { kbit: 2500 } } });
    assert.ok(loss.dropped() >= 2, `dropped ${loss.dropped()} times (original and retransmissions)`);
    assert.ok(r.counters.keyFrameRequests >= 1, 'the receiver asked for a key frame');
    const pli = r.senderEvents.find((e) => e.to_state === 'IFRAME_DUE' && /PLI/.test(e.cause));
    assert.ok(pli, 'the sender forced an I-frame on the PLI');
    assert.ok(pli.frame_id > 40 + 3000 / (1000 / FPS) && pli.frame_id < 150, `I-frame at ${pli.frame_id}`);
    assert.equal(r.frames.find((f) => f.frame_id === pli.frame_id)!.frame_type, 'I');
    const f40 = r.frames.find((f) => f.stream === 'primary' && f.frame_id === 40)!;
    assert.equal(f40.rendered, 0);
    // Nothing between the loss and the I-frame can be decoded; everything from it on is.
    const lostIds = r.frames.filter((f) => f.rendered === 0).map((f) => f.frame_id);
    assert.ok(lostIds.every((id) => id >= 40 && id < pli.frame_id), `not rendered: ${lostIds}`);
    assert.equal(rendered(r.frames).filter((f) => f.frame_id >= pli.frame_id).length, 200 - pli.frame_id);
    assertRenderedOnceInOrder(r.frames);
  });

  describe('dual stream on a 1.5 Mbit/s link, an I-frame every 2 s', () => {
    // As test/e2e/dual-shaped.test.ts: the pacer just under the link rate, so queues build in
    // the pacer, where the backup's priority applies.
    const dual = (extra: Partial<SimulatedCallOptions>) =>
      call({ frames: 300, dual: 'shared', link: { up: { kbit: 1500, queueMs: 1000 }, down: { kbit: 1500 } }, pacingFactor: (0.95 * 1500 * 1000) / 1_000_000, ...extra });

    for (const rule of ['iframe-complete', 'caught-up'] as const) {
      it(`end rule ${rule}: every I picture is rendered from its backup P; the I-frame is decoded, not rendered; that feedback ends each episode`, async () => {
        const r = await dual({ backupEnd: rule });
        assert.equal(r.counters.decoderErrors, 0);
        assertRenderedOnceInOrder(r.frames);
        assert.equal(rendered(r.frames).length, 300, 'every picture rendered once');
        const iPictures = r.sender.filter((s) => s.stream === 'primary' && s.frame_type === 'I' && s.frame_id > 0).map((s) => s.frame_id);
        assert.deepEqual(iPictures, [60, 120, 180, 240]);
        const detail = rule === 'iframe-complete' ? /I-frame complete/ : /caught up/;
        const cause = rule === 'iframe-complete' ? /^feedback: I-frame \d+ complete/ : /^feedback: I-frame \d+ caught up/;
        for (const n of iPictures) {
          const primary = r.frames.find((f) => f.stream === 'primary' && f.frame_id === n)!;
          const backup = r.frames.find((f) => f.stream === 'backup' && f.frame_id === n)!;
          assert.equal(backup.frame_type, 'P');
          assert.equal(backup.rendered, 1, `picture ${n} rendered from the backup`);
          assert.equal(primary.rendered, 0);
          assert.notEqual(primary.decode_end_ms, '', `picture ${n}: the I-frame is decoded as a reference`);
          assert.equal(primary.not_rendered_reason, 'superseded');
          assert.ok(Number(backup.e2e_ms) < Number(primary.complete_ms) - primary.capture_ms, `picture ${n}: shown before its I-frame was complete`);
          // The receiver built the seed ahead, from the picture before the I-frame, as the sender did.
          assert.ok(r.receiverEvents.some((e) => e.event === 'seed-built' && e.frame_id === n && e.detail === `from primary picture ${n - 1} (built ahead), hash ${e.detail.split('hash ')[1]}`), `seed for ${n} built ahead`);
          const fb = r.receiverEvents.find((e) => e.event === 'feedback-sent' && e.frame_id === n && detail.test(e.detail));
          assert.ok(fb, `${rule} feedback for I-frame ${n}`);
          const end = r.senderEvents.find((e) => e.from_state === 'BACKUP' && e.to_state === 'NORMAL' && e.frame_id === n);
          assert.ok(end && cause.test(end.cause), `episode ${n} ended by the ${rule} feedback: ${end?.cause}`);
          // The backup stops within one link round trip (a few ms here) + 50 ms of the feedback.
          const lastBackupSent = Math.max(...r.sender.filter((s) => s.stream === 'backup' && s.frame_id >= n && s.frame_id < n + KEYINT).map((s) => Number(s.last_sent_ms)));
          assert.ok(lastBackupSent - fb.time_ms <= 60, `picture ${n}: backup stopped ${lastBackupSent - fb.time_ms} ms after the feedback`);
        }
        // Rendering returned to the primary stream after each episode.
        assert.equal(rendered(r.frames).at(-1)!.stream, 'primary');
      });
    }

    it('caught-up: an episode ends only once the primary caught up, and the jitter estimate returns to its value before the episode', async (t) => {
      const byRule = new Map<string, SimulatedCallResult>();
      for (const rule of ['iframe-complete', 'caught-up'] as const) byRule.set(rule, await dual({ backupEnd: rule }));
      const r = byRule.get('caught-up')!;
      const frameMs = 1000 / FPS;
      const version = (stream: 'primary' | 'backup', id: number) => r.frames.find((f) => f.stream === stream && f.frame_id === id);
      for (const n of [60, 120, 180, 240]) {
        const fb = r.receiverEvents.find((e) => e.event === 'feedback-sent' && e.frame_id === n && /caught up/.test(e.detail))!;
        const m = Number(/picture (\d+)/.exec(fb.detail)![1]);
        // Before picture m every primary P-frame of the episode arrived behind the I-frame's
        // backlog (over a frame interval after its backup twin); m arrived right behind its twin.
        for (let p = n + 1; p <= m; p++) {
          const gap = Number(version('primary', p)!.first_recv_ms) - Number(version('backup', p)!.complete_ms);
          if (p < m) assert.ok(gap > frameMs, `episode ${n}: primary ${p} ${gap.toFixed(1)} ms behind its backup twin, yet no caught-up`);
          else assert.ok(gap <= frameMs, `episode ${n}: caught up at ${m}, ${gap.toFixed(1)} ms behind`);
        }
        // The I-frame never fed the jitter estimator: the backup P, complete first, did.
        assert.equal(version('primary', n)!.jitter_frame_delay_ms, '', `I-frame ${n} fed the estimator`);
        assert.equal(typeof version('backup', n)!.jitter_frame_delay_ms, 'number');
        // No late primary frame was shown: every picture of the episode up to m came from the backup.
        for (let p = n; p < m; p++) assert.equal(version('backup', p)!.rendered, 1, `episode ${n}: picture ${p} from the backup`);
      }
      // The playout delay does not inflate: at the end of each GOP the jitter estimate is within
      // 10 ms of its value before the episode (the frame before the I-frame).
      const estimateAt = (res: SimulatedCallResult, id: number) => Number(res.frames.find((f) => f.frame_id === id && f.rendered === 1)!.jitter_estimate_ms);
      for (const [rule, res] of byRule) {
        const pairs = [60, 120, 180].map((n) => [estimateAt(res, n - 1), estimateAt(res, n + KEYINT - 1)]);
        t.diagnostic(`${rule}: jitter estimate before → after each episode: ${pairs.map(([a, b]) => `${a.toFixed(1)} → ${b.toFixed(1)}`).join(', ')} ms`);
        if (rule === 'caught-up') for (const [before, after] of pairs) assert.ok(after - before <= 10, `${before} → ${after} ms`);
      }
    });

    it('with the feedback suppressed, the timeout ends every episode after 500 ms', async () => {
      const r = await dual({ iframeFeedback: false, feedbackTimeoutMs: 500 });
      assert.ok(!r.receiverEvents.some((e) => e.event === 'feedback-sent'));
      const ends = r.senderEvents.filter((e) => e.from_state === 'BACKUP' && e.to_state === 'NORMAL' && e.frame_id > 0);
      assert.equal(ends.length, 4);
      for (const e of ends) assert.match(e.cause, /timeout/);
      const backupIds = r.sender.filter((s) => s.stream === 'backup').map((s) => s.frame_id);
      for (const n of [60, 120, 180, 240]) {
        // Simulated time: no encoder is ever busy, so an episode is exactly 500 ms of pictures.
        assert.equal(backupIds.filter((id) => id >= n && id < n + KEYINT).length, 15, `episode ${n}`);
      }
      assertRenderedOnceInOrder(r.frames);
      assert.equal(r.counters.decoderErrors, 0);
    });
  });

  it('gives the same result on every run', async () => {
    const run = async () => {
      const r = await call({ frames: 90, dual: 'shared', link: { up: { kbit: 1500, reorder: { every: 7, delayMs: 3 } }, down: { kbit: 1500 } } });
      // RTP timestamps and sequence numbers start at random values (RFC 3550 §5.1); nothing else may differ.
      return { frames: r.frames.map((f) => ({ ...f, rtp_timestamp: 0 })), events: r.senderEvents, rx: r.receiverEvents, network: r.network };
    };
    assert.deepEqual(await run(), await run());
  });
});
