/**
 * The receive path of one video stream: RTP → frame assembly → jitter buffer
 * (libwebrtc's jitter estimator and timing) → H.264 decode → render at the render
 * time. Decoding runs on libuv's pool (beamcoder); frames are decoded one at a time,
 * in order, and rendered at most once, in order.
 */
import type { Clock } from '../clock';
import { H264Decoder, type VideoFrame } from '../media/codec';
import type { NotRenderedReason, ReceiverFrameRow } from '../metrics/rows';
import { parseRtp } from '../rtp/packet';
import type { RtpPacket, StreamKind } from '../rtp/types';
import { FrameAssembler, type AssembledFrame } from './frame-assembler';
import { ReceiveStatistics } from './receive-statistics';
import { InterFrameDelayVariation, JitterEstimator, Timing } from './timing';

/** libwebrtc's max wait for a decodable frame: 200 ms when a key frame is required, 3000 ms otherwise. */
export const MAX_WAIT_FOR_KEYFRAME_MS = 200;
export const MAX_WAIT_FOR_FRAME_MS = 3000;
const EXPIRE_INTERVAL_MS = 500;

export interface VideoReceiverOptions {
  clock: Clock;
  /** Which stream each media SSRC carries. */
  streams: Map<number, StreamKind>;
  /** Hands a rendered picture on (the recorder); called in render order, once per picture. */
  render: (frame: VideoFrame, frameId: number, renderMs: number) => void;
  /** Called once per frame when its row is final. */
  onFrameDone: (row: ReceiverFrameRow) => void;
  /**
   * Playout delay bounds (libwebrtc's playout-delay semantics). min 0 with max ≤ 500 ms
   * selects libwebrtc's low-latency path: render as soon as decoded, decodes paced 8 ms apart.
   */
  playoutDelayMs?: { min: number; max: number };
  /** Called when a packet does not parse as RTP (counted, never fatal). */
  onMalformed?: (err: unknown) => void;
}

export class VideoReceiver {
  readonly stats = new Map<number, ReceiveStatistics>();
  readonly assembler = new FrameAssembler();
  readonly timing: Timing;
  readonly jitter = new JitterEstimator();
  private readonly ifd = new InterFrameDelayVariation();
  private readonly decoder = new H264Decoder();
  private readonly rows = new Map<number, ReceiverFrameRow>();
  private readonly complete = new Map<number, AssembledFrame>();
  private lastDecodedId = -1;
  private needKey = true;
  private busy = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private waitingSinceMs: number | null = null;
  private renderChain: Promise<void> = Promise.resolve();
  private lastRenderMs = -Infinity;
  private lastExpireMs = -Infinity;
  private stopped = false;
  packetsReceived = 0;
  malformedPackets = 0;
  lastPacketMs: number | null = null;
  framesRendered = 0;
  decoderErrors = 0;

  constructor(private readonly o: VideoReceiverOptions) {
    this.timing = new Timing({
      startMs: o.clock.now(),
      minPlayoutDelayMs: o.playoutDelayMs?.min,
      maxPlayoutDelayMs: o.playoutDelayMs?.max,
    });
  }

  onRtp(buf: Buffer, arrivalMs: number): void {
    let pkt: RtpPacket;
    try {
      pkt = parseRtp(buf);
    } catch (e) {
      this.malformedPackets++;
      this.o.onMalformed?.(e);
      return;
    }
    const stream = this.o.streams.get(pkt.ssrc);
    const fid = pkt.extensions.frameId;
    if (!stream || !fid) {
      this.malformedPackets++;
      return;
    }
    this.packetsReceived++;
    this.lastPacketMs = arrivalMs;
    let st = this.stats.get(pkt.ssrc);
    if (!st) this.stats.set(pkt.ssrc, (st = new ReceiveStatistics(pkt.ssrc)));
    st.onPacket(pkt.sequenceNumber, pkt.timestamp, arrivalMs);

    const row = this.rowFor(fid.frameId, stream);
    if (row.first_recv_ms === '') row.first_recv_ms = arrivalMs;
    row.last_recv_ms = arrivalMs;
    row.packets++;
    if (fid.key) row.frame_type = 'I';

    for (const f of this.assembler.insert(pkt, arrivalMs)) this.onComplete(f);
    if (arrivalMs - this.lastExpireMs > EXPIRE_INTERVAL_MS) this.expire(arrivalMs);
    this.schedule();
  }

  /**
   * Frees frames that can no longer complete in time (older than libwebrtc's 3 s max
   * wait) and reports frames whose packets do not form a valid H.264 payload.
   */
  private expire(now: number): void {
    this.lastExpireMs = now;
    for (const d of this.assembler.expire(now, MAX_WAIT_FOR_FRAME_MS)) {
      const row = this.rows.get(d.frameId);
      if (row && d.reason === 'malformed') this.finish(row, 'undecodable');
    }
  }

  private rowFor(frameId: number, stream: StreamKind): ReceiverFrameRow {
    let row = this.rows.get(frameId);
    if (!row) {
      row = {
        frame_id: frameId,
        stream,
        frame_type: '',
        size_bytes: 0,
        packets: 0,
        duplicates: 0,
        first_recv_ms: '',
        last_recv_ms: '',
        complete_ms: '',
        decode_start_ms: '',
        decode_end_ms: '',
        render_ms: '',
        rendered: 0,
        not_rendered_reason: '',
        jitter_estimate_ms: '',
        current_delay_ms: '',
      };
      this.rows.set(frameId, row);
    }
    return row;
  }

  private onComplete(f: AssembledFrame): void {
    const row = this.rowFor(f.frameId, this.o.streams.get(f.ssrc) ?? 'primary');
    row.complete_ms = f.completeMs;
    row.size_bytes = f.sizeBytes;
    row.frame_type = f.key ? 'I' : 'P';
    row.duplicates = f.duplicates;
    if (f.frameId <= this.lastDecodedId) {
      // Completed after the decoder moved past it: it can never be shown.
      this.finish(row, 'late');
      return;
    }
    // libwebrtc feeds the jitter estimator with the frame delay variation between
    // consecutive complete frames (arrival of the last packet vs RTP timestamp delta).
    const now = this.o.clock.now();
    const delay = this.ifd.calculate(f.rtpTimestamp, f.lastRecvMs);
    if (delay !== undefined) this.jitter.updateEstimate(delay, f.sizeBytes, now);
    this.timing.incomingTimestamp(f.rtpTimestamp, f.lastRecvMs);
    this.complete.set(f.frameId, f);
  }

  /** The next frame the decoder can take, in order; skips to a key frame when the chain broke. */
  private nextDecodable(): AssembledFrame | null {
    if (!this.needKey) {
      // The oldest complete frame ahead, if it predicts from the last decoded one.
      let next: AssembledFrame | null = null;
      for (const f of this.complete.values()) if (f.frameId > this.lastDecodedId && (!next || f.frameId < next.frameId)) next = f;
      if (next && (next.key || next.frameId - (next.refDelta || 1) === this.lastDecodedId)) return next;
      return null;
    }
    let best: AssembledFrame | null = null;
    for (const f of this.complete.values()) {
      if (f.key && f.frameId > this.lastDecodedId && (!best || f.frameId < best.frameId)) best = f;
    }
    return best;
  }

  private schedule(): void {
    if (this.busy || this.stopped) return;
    const now = this.o.clock.now();
    const f = this.nextDecodable();
    if (!f) {
      this.armGiveUp(now);
      return;
    }
    this.waitingSinceMs = null;
    this.timing.setJitterDelayMs(this.jitter.getJitterEstimateMs(1, undefined, now));
    this.timing.updateCurrentDelay(f.rtpTimestamp);
    const renderMs = this.timing.renderTimeMs(f.rtpTimestamp, now);
    const waitMs = this.timing.maxWaitingTimeMs(renderMs, now);
    if (waitMs > 0) {
      this.wake(waitMs, () => this.decodeAt(f.frameId));
      return;
    }
    this.decode(f, renderMs);
  }

  private decodeAt(frameId: number): void {
    const f = this.complete.get(frameId);
    if (!f || this.busy) return this.schedule();
    const now = this.o.clock.now();
    this.decode(f, this.timing.renderTimeMs(f.rtpTimestamp, now));
  }

  /** Missing frames: after libwebrtc's max wait, give up on them and wait for a key frame. */
  private armGiveUp(now: number): void {
    const missingAhead = [...this.complete.keys()].some((id) => id > this.lastDecodedId);
    if (!missingAhead) {
      this.waitingSinceMs = null;
      return;
    }
    this.waitingSinceMs ??= now;
    const limit = this.needKey ? MAX_WAIT_FOR_KEYFRAME_MS : MAX_WAIT_FOR_FRAME_MS;
    const left = this.waitingSinceMs + limit - now;
    if (left <= 0) {
      this.needKey = true;
      this.waitingSinceMs = now;
      return;
    }
    this.wake(left, () => this.schedule());
  }

  private wake(ms: number, fn: () => void): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      fn();
    }, ms);
  }

  private decode(f: AssembledFrame, renderMs: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    this.busy = true;
    this.complete.delete(f.frameId);
    // Frames skipped over to reach this one (a broken chain) can never be decoded now.
    for (const [id, row] of this.rows) {
      if (id < f.frameId && id > this.lastDecodedId && row.rendered === 0 && row.not_rendered_reason === '') {
        this.complete.delete(id);
        this.finish(row, row.complete_ms === '' ? 'incomplete' : 'undecodable');
      }
    }
    const row = this.rowFor(f.frameId, this.o.streams.get(f.ssrc) ?? 'primary');
    const start = this.o.clock.now();
    row.decode_start_ms = start;
    this.timing.setLastDecodeScheduledTimestamp(start);
    row.jitter_estimate_ms = this.timing.jitterDelayMs();
    row.current_delay_ms = this.timing.currentDelayMs();
    this.decoder
      .decode(f.annexB, f.rtpTimestamp)
      .then(
        (pictures) => this.onDecoded(f, row, renderMs, start, pictures),
        () => this.onDecoded(f, row, renderMs, start, []),
      )
      .finally(() => {
        this.busy = false;
        this.schedule();
      });
  }

  private onDecoded(f: AssembledFrame, row: ReceiverFrameRow, renderMs: number, start: number, pictures: VideoFrame[]): void {
    const end = this.o.clock.now();
    row.decode_end_ms = end;
    this.timing.addDecodeTime(end - start, end);
    this.lastDecodedId = f.frameId;
    if (pictures.length !== 1) {
      // A decode that yields no picture (or several) means the reference chain is not
      // what the encoder used: never render it, wait for a key frame instead.
      this.decoderErrors++;
      this.needKey = true;
      this.finish(row, 'undecodable');
      return;
    }
    this.needKey = false;
    this.timing.updateCurrentDelayAfterDecode(renderMs, end);
    const pic = pictures[0];
    // Renders are chained so pictures reach the recorder in order even if render
    // times were to cross.
    const at = Math.max(renderMs, this.lastRenderMs);
    this.lastRenderMs = at;
    this.renderChain = this.renderChain.then(async () => {
      const wait = at - this.o.clock.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.stopped && row.not_rendered_reason !== '') return;
      const now = this.o.clock.now();
      this.o.render(pic, f.frameId, now);
      row.render_ms = now;
      row.rendered = 1;
      this.framesRendered++;
      this.finish(row, '');
    });
  }

  private finish(row: ReceiverFrameRow, reason: NotRenderedReason): void {
    if (!this.rows.has(row.frame_id)) return;
    row.not_rendered_reason = reason;
    this.rows.delete(row.frame_id);
    this.o.onFrameDone(row);
  }

  /** Waits until every complete frame is decoded and rendered (bounded), then finalizes all rows. */
  async drainAndClose(timeoutMs: number): Promise<void> {
    const deadline = this.o.clock.now() + timeoutMs;
    while ((this.busy || this.nextDecodable()) && this.o.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.race([this.renderChain, new Promise((r) => setTimeout(r, Math.max(0, deadline - this.o.clock.now())))]);
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    for (const row of [...this.rows.values()].sort((a, b) => a.frame_id - b.frame_id)) {
      this.finish(row, row.complete_ms === '' ? 'incomplete' : 'stopped');
    }
  }
}
