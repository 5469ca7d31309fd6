/**
 * The receiver's decode/render policy on its own, without codecs or timers: complete frames
 * and decode results in, actions out. Decodes here succeed at once unless a test says not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeScheduler, MAX_WAIT_FOR_FRAME_MS, type CompleteFrame, type SchedulerAction } from '../../src/receiver/decode-scheduler';
import type { StreamKind } from '../../src/rtp/types';

const FRAME_MS = 1000 / 30;
const TICKS = 3000;

function frame(frameId: number, o: Partial<CompleteFrame> = {}): CompleteFrame {
  const lastRecvMs = o.lastRecvMs ?? 1000 + frameId * FRAME_MS;
  return { frameId, key: false, refDelta: 1, frameRef: null, rtpTimestamp: 90_000 + frameId * TICKS, firstRecvMs: lastRecvMs - 5, lastRecvMs, sizeBytes: 4000, ...o };
}

/** Drives a scheduler: decodes finish at once (with `pictures` pictures), wake-ups are kept. */
function harness(dual: boolean, low = true) {
  const s = new DecodeScheduler({ startMs: 1000, dual, playoutDelayMs: low ? { min: 0, max: 500 } : undefined });
  const log: SchedulerAction[] = [];
  const wakes = new Map<StreamKind, number>();
  let failNext: StreamKind | null = null;
  const run = (actions: SchedulerAction[], now: number): void => {
    for (const a of actions) {
      log.push(a);
      if (a.kind === 'wake') wakes.set(a.stream, a.atMs);
      if (a.kind === 'cancel-wake') wakes.delete(a.stream);
      if (a.kind === 'decode') {
        const pictures = failNext === a.stream ? 0 : 1;
        if (failNext === a.stream) failNext = null;
        run(s.decoded(a.stream, a.frameId, pictures, now), now);
      }
    }
  };
  return {
    s,
    log,
    complete(stream: StreamKind, f: CompleteFrame, now = f.lastRecvMs): void {
      run(s.complete(stream, f, now), now);
      run(s.schedule(now), now);
    },
    /** Fires every wake-up due by `now`. */
    advance(now: number): void {
      for (const [stream, at] of [...wakes]) {
        if (at <= now) {
          wakes.delete(stream);
          run(s.wake(stream, at), at);
        }
      }
    },
    failNextDecodeOf(stream: StreamKind): void {
      failNext = stream;
    },
    rendered: () => log.filter((a): a is Extract<SchedulerAction, { kind: 'render' }> => a.kind === 'render').map((a) => `${a.stream}:${a.frameId}`),
    settled: () => log.filter((a): a is Extract<SchedulerAction, { kind: 'settle' }> => a.kind === 'settle').map((a) => `${a.stream}:${a.frameId}:${a.fate}:${a.renderedFrom ?? ''}`),
  };
}

describe('DecodeScheduler', () => {
  it('single stream, frames in order: each decoded and rendered once, in order', () => {
    const h = harness(false);
    for (let i = 0; i < 10; i++) h.complete('primary', frame(i, { key: i === 0, refDelta: i === 0 ? 0 : 1 }));
    assert.deepEqual(h.rendered(), [...Array(10).keys()].map((i) => `primary:${i}`));
    assert.deepEqual(h.settled(), []);
  });

  it('dual: the backup P renders the I picture; the late I-frame is a reference only; the primary takes over when it holds the picture due', () => {
    const h = harness(true);
    for (let i = 0; i < 5; i++) h.complete('primary', frame(i, { key: i === 0, refDelta: i === 0 ? 0 : 1 }));
    // Picture 5's I-frame is in flight; its backup P (seeded from primary picture 4) arrives first,
    // and the backup stream goes on while the I-frame is late.
    h.complete('backup', frame(5, { refDelta: 0, frameRef: { refFrameId: 4, seedHash: 0xabc } }));
    h.complete('backup', frame(6));
    h.complete('backup', frame(7));
    assert.ok(!h.log.some((a) => a.kind === 'episode-feedback' && a.frameId === 5));
    // The I-frame completes (late), then the primary P-frames queued behind it, all before 8.
    h.complete('primary', frame(5, { key: true, refDelta: 0, lastRecvMs: 1000 + 7.5 * FRAME_MS }), 1000 + 7.5 * FRAME_MS);
    assert.ok(h.log.some((a) => a.kind === 'episode-feedback' && a.feedback === 'iframe-complete' && a.frameId === 5), 'the I-frame-complete feedback');
    h.complete('primary', frame(6, { lastRecvMs: 1000 + 7.6 * FRAME_MS }), 1000 + 7.6 * FRAME_MS);
    h.complete('primary', frame(7, { lastRecvMs: 1000 + 7.7 * FRAME_MS }), 1000 + 7.7 * FRAME_MS);
    h.complete('primary', frame(8));
    h.complete('backup', frame(8));
    h.complete('primary', frame(9));
    assert.deepEqual(h.rendered(), ['primary:0', 'primary:1', 'primary:2', 'primary:3', 'primary:4', 'backup:5', 'backup:6', 'backup:7', 'primary:8', 'primary:9']);
    assert.deepEqual(h.settled(), ['primary:5:superseded:backup', 'primary:6:superseded:backup', 'primary:7:superseded:backup', 'backup:8:superseded:primary']);
    // Decoded as references: no render time.
    const refs = h.log.filter((a) => a.kind === 'decode' && a.renderAtMs === null).map((a) => (a as { stream: string; frameId: number }).stream + ':' + (a as { frameId: number }).frameId);
    assert.deepEqual(refs, ['primary:5', 'primary:6', 'primary:7', 'backup:8']);
    const switches = h.log.filter((a) => a.kind === 'event' && a.event === 'render-switch').map((a) => (a as { frameId: number }).frameId);
    assert.deepEqual(switches, [5, 8]);
  });

  it('a backup episode start waits until the primary chain decoded its seed picture', () => {
    const h = harness(true);
    h.complete('primary', frame(0, { key: true, refDelta: 0 }));
    h.complete('backup', frame(2, { refDelta: 0, frameRef: { refFrameId: 1, seedHash: 1 } }));
    assert.deepEqual(h.rendered(), ['primary:0'], 'no seed picture 1 yet');
    h.complete('primary', frame(1));
    // (The low-latency path paces decodes 8 ms apart.)
    h.advance(frame(1).lastRecvMs + 8);
    assert.deepEqual(h.rendered(), ['primary:0', 'primary:1', 'backup:2']);
  });

  it('a missing primary frame: after 3 s the receiver asks for a key frame, and again every 200 ms', () => {
    const h = harness(false);
    h.complete('primary', frame(0, { key: true, refDelta: 0 }));
    h.complete('primary', frame(2)); // 1 never completes
    const t = frame(2).lastRecvMs;
    h.advance(t + MAX_WAIT_FOR_FRAME_MS - 1);
    assert.ok(!h.log.some((a) => a.kind === 'key-frame-needed'));
    h.advance(t + MAX_WAIT_FOR_FRAME_MS);
    h.advance(t + MAX_WAIT_FOR_FRAME_MS + 200);
    const asks = h.log.filter((a) => a.kind === 'key-frame-needed').map((a) => (a as { reason: string }).reason);
    assert.deepEqual(asks, [`no decodable frame for ${MAX_WAIT_FOR_FRAME_MS} ms`, 'still no key frame']);
    // The key frame starts a new sequence: the frames before it are given up.
    h.complete('primary', frame(3, { key: true, refDelta: 0 }), t + 3300);
    assert.deepEqual(h.rendered(), ['primary:0', 'primary:3']);
    assert.ok(h.log.some((a) => a.kind === 'give-up' && a.stream === 'primary' && a.afterId === 0 && a.beforeId === 3));
  });

  it('a decode without a picture is never rendered: undecodable, and the primary waits for a key frame', () => {
    const h = harness(false);
    h.complete('primary', frame(0, { key: true, refDelta: 0 }));
    h.failNextDecodeOf('primary');
    h.complete('primary', frame(1));
    h.complete('primary', frame(2));
    assert.deepEqual(h.rendered(), ['primary:0']);
    assert.deepEqual(h.settled(), ['primary:1:undecodable:']);
    assert.equal(h.s.decoderErrors, 1);
    assert.ok(h.log.some((a) => a.kind === 'key-frame-needed' && a.reason === 'decoder error'));
  });

  it('default timing: a frame waits for its render time (a wake-up), then decodes', () => {
    const h = harness(false, false);
    h.complete('primary', frame(0, { key: true, refDelta: 0 }));
    const first = h.log.find((a) => a.kind === 'wake' || a.kind === 'decode')!;
    if (first.kind === 'wake') {
      assert.deepEqual(h.rendered(), []);
      h.advance(first.atMs);
    }
    assert.deepEqual(h.rendered(), ['primary:0']);
  });
});
