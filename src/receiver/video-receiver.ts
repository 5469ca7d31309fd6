/**
 * The receive path of one call: RTP packets → frame assembly (FrameAssembler) → the decode
 * scheduler (jitter buffer, timing and the dual-stream render policy, pure) → the decode
 * chains (FFmpeg, seeds) → the renderer at the render time. This class only carries out
 * what the scheduler decides, on the injected clock and timer, and keeps one record per
 * frame, reported once it settled (rendered, or given up with a reason).
 */
import type { Clock, Timer } from '../clock';
import type { EncoderConfig, VideoFrame } from '../media/codec';
import { x264Codecs, type Codecs } from '../media/codecs';
import type { ReceiverEventRow } from '../metrics/rows';
import { frameKey, type RtpPacket, type StreamKind } from '../rtp/types';
import { DecodeChains } from './decode-chains';
import { DecodeScheduler, MAX_WAIT_FOR_FRAME_MS, type SchedulerAction } from './decode-scheduler';
import { FrameAssembler, type AssembledFrame } from './frame-assembler';
import { FrameRecords, type FrameFate, type ReceivedFrame } from './frame-records';
import { Renderer, type RenderOutput } from './renderer';

export { MAX_WAIT_FOR_FRAME_MS, MAX_WAIT_FOR_KEYFRAME_MS } from './decode-scheduler';

const EXPIRE_INTERVAL_MS = 500;

export interface VideoReceiverOptions {
  clock: Clock;
  timer: Timer;
  /** Decoders (and the encoder that rebuilds shared seeds); default beamcoder's. */
  codecs?: Codecs;
  /** Which stream each media SSRC carries. */
  streams: Map<number, StreamKind>;
  /** The sender's backup encoder parameters, needed to build shared-reference seeds. */
  encoder?: EncoderConfig;
  /** The sender's scheduled I-frame interval, if known: seeds are then built ahead. */
  keyint?: number;
  /** Hands a rendered picture on (the recorder); called in render order, once per picture. */
  render: RenderOutput;
  /** Called once per frame when it settled (rendered or not). */
  onFrameSettled: (frame: ReceivedFrame) => void;
  onEvent?: (row: ReceiverEventRow) => void;
  /** The primary stream needs a key frame (send a PLI). */
  onKeyFrameNeeded?: (reason: string) => void;
  /** Dual mode: feedback on the backup episode of I-frame `frameId` (send it). */
  onEpisodeFeedback?: (feedback: 'iframe-complete' | 'caught-up', frameId: number, pictureId: number) => void;
  /**
   * Playout delay bounds (libwebrtc's playout-delay semantics). min 0 with max ≤ 500 ms
   * selects libwebrtc's low-latency path: render as soon as decoded, decodes paced 8 ms apart.
   */
  playoutDelayMs?: { min: number; max: number };
}

export class VideoReceiver {
  readonly assembler = new FrameAssembler();
  readonly scheduler: DecodeScheduler;
  private readonly chains: DecodeChains;
  private readonly renderer: Renderer;
  private readonly records = new FrameRecords();
  /** Complete frames waiting for their decode. */
  private readonly assembled = new Map<string, AssembledFrame>();
  private readonly wakeTimers: Record<StreamKind, unknown> = { primary: null, backup: null };
  private lastExpireMs = -Infinity;
  malformedPackets = 0;
  paddingPackets = 0;
  /**
   * Packets ignored because their frame is settled: its record was already reported (a
   * retransmission or copy arriving after the frame was rendered or given up), or the
   * assembler had already dropped the frame.
   */
  latePackets = 0;
  framesRendered = 0;
  /** Decodes that started after their render time right as the previous decode ended (metrics/starvation.ts). */
  decoderBacklog = 0;
  private readonly lastDecodeEndMs: Record<StreamKind, number> = { primary: -Infinity, backup: -Infinity };

  constructor(private readonly o: VideoReceiverOptions) {
    const dual = [...o.streams.values()].includes('backup');
    this.scheduler = new DecodeScheduler({ startMs: o.clock.now(), dual, playoutDelayMs: o.playoutDelayMs });
    this.chains = new DecodeChains(o.codecs ?? x264Codecs, o.encoder, (frameId, detail) => this.event('seed-built', 'backup', frameId, detail), o.keyint);
    this.renderer = new Renderer(o.clock, o.timer, o.render);
  }

  get decoderErrors(): number {
    return this.scheduler.decoderErrors;
  }

  /** One received RTP packet of `stream` (parsed and counted by the session). */
  onPacket(pkt: RtpPacket, stream: StreamKind, arrivalMs: number): void {
    const fid = pkt.extensions.frameId;
    if (!fid) {
      // Padding-only packets (bandwidth probes) count for reception statistics, transport
      // feedback and NACK, not for frames.
      if (pkt.payload.length === 0) this.paddingPackets++;
      else this.malformedPackets++;
      return;
    }
    const rec = this.records.openRecord(stream, fid.frameId);
    if (!rec) {
      // Its record is reported: a second one for the same frame would contradict the first.
      this.latePackets++;
      return;
    }
    const { outcome, frames } = this.assembler.place(pkt, arrivalMs);
    if (outcome === 'new') {
      rec.firstRecvMs ??= arrivalMs;
      rec.lastRecvMs = arrivalMs;
      rec.packets++;
      if (fid.key) rec.frameType = 'I';
    } else if (outcome === 'duplicate') {
      // Not a receive time of the frame: lastRecvMs stays its last new packet's arrival,
      // which the latency components are measured along.
      rec.duplicates++;
    } else {
      this.latePackets++;
    }
    const now = this.o.clock.now();
    for (const f of frames) this.onComplete(f, stream, now);
    if (arrivalMs - this.lastExpireMs > EXPIRE_INTERVAL_MS) this.expire(arrivalMs);
    this.run(this.scheduler.schedule(now));
  }

  /**
   * Frees frames that can no longer complete in time (older than libwebrtc's 3 s max
   * wait) and reports frames whose packets do not form a valid H.264 payload.
   */
  private expire(now: number): void {
    this.lastExpireMs = now;
    for (const d of this.assembler.expire(now, MAX_WAIT_FOR_FRAME_MS)) {
      const stream = this.o.streams.get(d.ssrc);
      const rec = stream && this.records.get(stream, d.frameId);
      if (rec && d.reason === 'malformed') this.settle(rec, 'undecodable');
    }
  }

  private onComplete(f: AssembledFrame, stream: StreamKind, now: number): void {
    // The packet completing it opened (or found) its record in onPacket.
    const rec = this.records.get(stream, f.frameId);
    if (!rec) return;
    rec.completeMs = f.completeMs;
    rec.sizeBytes = f.sizeBytes;
    rec.frameType = f.key ? 'I' : 'P';
    this.assembled.set(frameKey(stream, f.frameId), f);
    this.run(this.scheduler.complete(stream, f, now));
  }

  /**
   * Carries out the scheduler's decisions. `decoded`: the picture of the decode these
   * actions answer (DecodeScheduler.decoded), which its 'render' action shows.
   */
  private run(actions: SchedulerAction[], decoded?: VideoFrame): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'decode':
          this.decode(a);
          break;
        case 'jitter-input': {
          const rec = this.records.get(a.stream, a.frameId);
          if (rec) rec.jitterFrameDelayMs = a.frameDelayMs;
          break;
        }
        case 'give-up':
          for (const rec of this.records.openRecords()) {
            if (rec.stream === a.stream && rec.frameId > a.afterId && rec.frameId < a.beforeId) {
              this.settle(rec, rec.completeMs === null ? 'incomplete' : 'undecodable');
            }
          }
          break;
        case 'settle': {
          const rec = this.records.get(a.stream, a.frameId);
          if (rec) {
            rec.renderedFrom = a.renderedFrom;
            this.settle(rec, a.fate);
          }
          break;
        }
        case 'render':
          this.render(a.stream, a.frameId, a.atMs, decoded!);
          break;
        case 'key-frame-needed':
          this.event('keyframe-request', 'primary', a.frameId, a.reason);
          this.o.onKeyFrameNeeded?.(a.reason);
          break;
        case 'episode-feedback':
          this.o.onEpisodeFeedback?.(a.feedback, a.frameId, a.pictureId);
          break;
        case 'wake':
          this.setWake(a.stream, a.atMs);
          break;
        case 'cancel-wake':
          this.clearWake(a.stream);
          break;
        case 'event':
          this.event(a.event, a.stream, a.frameId, a.detail);
          break;
      }
    }
  }

  private setWake(stream: StreamKind, atMs: number): void {
    this.clearWake(stream);
    this.wakeTimers[stream] = this.o.timer.setTimeout(() => {
      this.wakeTimers[stream] = null;
      this.run(this.scheduler.wake(stream, this.o.clock.now()));
    }, atMs - this.o.clock.now());
  }

  private clearWake(stream: StreamKind): void {
    if (this.wakeTimers[stream] !== null) this.o.timer.clearTimeout(this.wakeTimers[stream]);
    this.wakeTimers[stream] = null;
  }

  private decode({ stream, frameId, renderAtMs, jitterEstimateMs, currentDelayMs, targetDelayMs }: Extract<SchedulerAction, { kind: 'decode' }>): void {
    const now = this.o.clock.now();
    const k = frameKey(stream, frameId);
    const f = this.assembled.get(k)!;
    this.assembled.delete(k);
    // The record is open: every path that settles a frame first takes it out of the scheduler.
    const rec = this.records.get(stream, frameId)!;
    // Complete before its render time, yet decoded after it, starting the moment the previous
    // decode ended: it waited on the decoder. (Frames delivered late, e.g. queued behind a big
    // I-frame on the link, are late before they are complete and do not count.)
    if (renderAtMs !== null && now > renderAtMs && rec.completeMs !== null && rec.completeMs < renderAtMs && now - this.lastDecodeEndMs[stream] < 1) {
      this.decoderBacklog++;
    }
    rec.decodeStartMs = now;
    rec.jitterEstimateMs = jitterEstimateMs;
    rec.currentDelayMs = currentDelayMs;
    rec.targetDelayMs = targetDelayMs;
    this.chains
      .decode(stream, f)
      .catch((e: Error) => {
        this.event('seed-failed', stream, frameId, e.message);
        return [] as VideoFrame[];
      })
      .then((pictures) => {
        rec.decodeEndMs = this.o.clock.now();
        this.lastDecodeEndMs[stream] = rec.decodeEndMs;
        this.run(this.scheduler.decoded(stream, frameId, pictures.length, this.o.clock.now()), pictures[0]);
      });
  }

  private render(stream: StreamKind, frameId: number, atMs: number, picture: VideoFrame): void {
    const rec = this.records.get(stream, frameId)!;
    this.renderer.render(picture, frameId, stream, atMs, (renderMs) => {
      rec.renderMs = renderMs;
      rec.renderedFrom = stream;
      this.framesRendered++;
      this.settle(rec, null);
    });
  }

  private event(event: ReceiverEventRow['event'], stream: StreamKind | '', frameId: number, detail: string): void {
    this.o.onEvent?.({ time_ms: this.o.clock.now(), event, stream, frame_id: frameId, detail });
  }

  private settle(rec: ReceivedFrame, fate: FrameFate | null): void {
    if (!this.records.close(rec)) return;
    this.assembled.delete(frameKey(rec.stream, rec.frameId));
    rec.fate = fate;
    rec.renderedFrom ??= this.scheduler.renderedFromOf(rec.frameId);
    this.o.onFrameSettled(rec);
  }

  /** Waits until every decodable frame is decoded and rendered (bounded), then settles every open frame. */
  async drainAndClose(timeoutMs: number): Promise<void> {
    const deadline = this.o.clock.now() + timeoutMs;
    const sleep = (ms: number) => new Promise<void>((r) => this.o.timer.setTimeout(r, ms));
    while (this.scheduler.pending() && this.o.clock.now() < deadline) await sleep(10);
    await Promise.race([this.renderer.idle(), sleep(Math.max(0, deadline - this.o.clock.now()))]);
    // Cancels the wake-ups (the scheduler's and these timers are set and cleared together).
    this.run(this.scheduler.stop());
    for (const rec of this.records.openRecords().sort((a, b) => a.frameId - b.frameId)) {
      this.settle(rec, rec.completeMs === null ? 'incomplete' : 'stopped');
    }
  }
}
