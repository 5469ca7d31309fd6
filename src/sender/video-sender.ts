/**
 * The send side of a run: captured picture → the state machine's plan → the primary
 * encoder, and in dual mode the backup encoder (a `BackupReference` strategy decides what
 * it predicts from) → the paced sender. Encoding runs on libuv's pool (beamcoder), so the
 * pacer's timers never wait behind it. Every frame's fate goes out as a frame event.
 */
import type { Clock, Timer } from '../clock';
import { copyFrame, VIDEO_CLOCK_HZ, type EncodedPicture, type EncoderConfig } from '../media/codec';
import { x264Codecs, type Codecs, type Encoder } from '../media/codecs';
import type { CapturedFrame } from '../media/source';
import type { SenderEventRow } from '../metrics/rows';
import { MAX_REF_DELTA } from '../rtp/extensions';
import type { FrameRefExt, StreamKind } from '../rtp/types';
import { BACKUP_SHARE, createBackupReference, PRIMARY_SHARE, type BackupReference, type BackupReferenceKind } from './backup-reference';
import { BackupStateMachine, type BackupEnd, type FramePlan } from './backup-state';
import type { SenderFrameEvent } from './frame-events';
import { PacedSender, type StreamSpec } from './paced-sender';

/** RTP header with our extensions, inside the MTU (bytes). */
const RTP_HEADER_BYTES = 36;

/** The share of a rate on the wire that is H.264 payload, for full-size packets. */
export function mediaShare(mtu: number, overheadBytes: number): number {
  return (mtu - RTP_HEADER_BYTES) / (mtu + overheadBytes);
}

export interface VideoSenderOptions {
  clock: Clock;
  /** Timers of the pacer and the prober. */
  timer: Timer;
  /** Encoders and decoders (default: beamcoder's x264 / FFmpeg). */
  codecs?: Codecs;
  /** Dual mode when set: what a backup P predicts from. */
  backupReference: BackupReferenceKind | null;
  streams: StreamSpec[];
  mtu: number;
  keyintFrames: number;
  feedbackTimeoutMs: number;
  /** Which receiver feedback ends a backup episode. */
  backupEnd: BackupEnd;
  encoder: EncoderConfig;
  /** Parameters of the backup encoder (and of shared-reference seeds at both ends). */
  backupEncoder: EncoderConfig;
  pacingFactor?: number;
  /** One serialized RTP packet to the transport; returns its bytes on the wire (PacketTransport.sendRtp). */
  send: (packet: Buffer) => number;
  /** Bytes the transport adds to each packet (PacketTransport.overheadBytes). */
  overheadBytes: () => number;
  onFrame: (e: SenderFrameEvent) => void;
  onEvent: (row: SenderEventRow) => void;
}

export class VideoSender {
  readonly paced: PacedSender;
  readonly machine: BackupStateMachine;
  private readonly primary: Encoder;
  private readonly backup: BackupReference | null;
  private busy = false;
  private waiting: CapturedFrame | null = null;
  private working: Promise<void> = Promise.resolve();
  private lastPrimaryId = -1;
  private lastBackupId = -1;
  private stopped = false;
  private linkDown: () => string | null = () => null;
  private readonly rtpBase = Math.floor(Math.random() * 0x1_0000_0000);
  framesEncoded = 0;
  framesDropped = 0;
  /** Pictures replaced while the encoders were busy (metrics/starvation.ts). */
  encoderBusyDrops = 0;
  targetRateBps: number;

  constructor(private readonly o: VideoSenderOptions) {
    const codecs = o.codecs ?? x264Codecs;
    const dual = o.backupReference !== null;
    // The encoder's configured rate is media; the target (pacer, retransmission limit, and
    // what a rate controller's estimate is compared with) is the same rate on the wire,
    // the inverse of setTargetRate. Holding the encoder rate here instead made an estimate
    // equal to --bitrate look already applied, so the encoder kept the whole target
    // without the packet overhead subtracted.
    const initialTargetBps = o.encoder.bitrateBps / (mediaShare(o.mtu, o.overheadBytes()) * (dual ? PRIMARY_SHARE : 1));
    this.paced = new PacedSender({
      clock: o.clock,
      timer: o.timer,
      mtu: o.mtu,
      initialRateBps: initialTargetBps,
      pacingFactor: o.pacingFactor,
      send: o.send,
      onFramePaced: o.onFrame,
    });
    for (const s of o.streams) this.paced.addStream(s);
    this.primary = codecs.openEncoder(o.encoder);
    this.backup = dual ? createBackupReference(o.backupReference!, o.backupEncoder, codecs) : null;
    this.targetRateBps = initialTargetBps;
    this.machine = new BackupStateMachine({
      dual,
      keyintFrames: o.keyintFrames,
      feedbackTimeoutMs: o.feedbackTimeoutMs,
      endRule: o.backupEnd,
      onTransition: (t) => {
        o.onEvent({ time_ms: t.timeMs, event: 'transition', from_state: t.from, to_state: t.to, frame_id: t.frameId, cause: t.cause });
        if (t.from === 'BACKUP') this.backup?.onEpisodeEnd();
      },
    });
  }

  /**
   * RTP timestamp of a moment on our clock: 90 kHz capture time. Both streams share one
   * base so the receiver's single timing model sees one timeline.
   */
  rtpTimestampAt(ms: number): number {
    return (this.rtpBase + Math.round((ms * VIDEO_CLOCK_HZ) / 1000)) >>> 0;
  }

  /** Feedback from the receiver on the episode of I-frame `frameId`; the end rule decides whether it ends it. */
  onEpisodeFeedback(kind: BackupEnd, frameId: number, pictureId: number): void {
    const now = this.o.clock.now();
    const state = this.machine.state;
    const cause = kind === 'iframe-complete' ? 'I-frame complete' : `caught up at picture ${pictureId}`;
    this.o.onEvent({ time_ms: now, event: 'feedback-received', from_state: state, to_state: state, frame_id: frameId, cause });
    this.machine.onFeedback(kind, frameId, now);
  }

  /**
   * A new target from the rate controller, for all media: in dual mode it covers both
   * streams — the primary gets PRIMARY_SHARE of it and the backup encoder, which runs only
   * during episodes, BACKUP_SHARE (the benchmarks measure the backup's actual byte share).
   * The primary keeps PRIMARY_SHARE outside episodes too: giving it the whole target there
   * was measured (bench/dual-sim.ts, GCC over 4g-1, 4g-2 and the step trace, 9 offsets each)
   * to gain 0.5–0.75 dB PSNR but to lose on every tail (p99 vs single 0.85 → 1.00×,
   * 0.82 → 0.85×, 1.61 → 1.96×) and to leave 1.1–1.75× as many pictures unrendered: the
   * idle 10 % is headroom that keeps the queue GCC's I-frame bursts build shorter.
   * (--backup-bitrate sets the backup's rate only until the first estimate is applied.)
   * The pacer paces the whole target (× pacing factor).
   */
  setTargetRate(bps: number): void {
    this.targetRateBps = bps;
    // As libwebrtc, the encoder gets the target minus packet overhead (the estimate counts
    // whole packets on the wire): RTP header and extensions, and what the transport adds.
    const media = bps * mediaShare(this.o.mtu, this.o.overheadBytes());
    this.primary.setBitrate(Math.round(this.backup ? media * PRIMARY_SHARE : media));
    this.backup?.setBitrate(Math.round(media * BACKUP_SHARE));
    this.paced.setTargetRate(bps);
  }

  /**
   * Who judges whether the link can carry a backup now (SendSession: transport feedback
   * stopped → an outage); returns the reason it cannot, or null.
   */
  setLinkDown(judge: () => string | null): void {
    this.linkDown = judge;
  }

  /** The last picture the primary stream carries (null before the first): what the end-of-stream handshake waits for. */
  get lastFrameId(): number | null {
    return this.lastPrimaryId < 0 ? null : this.lastPrimaryId;
  }

  requestKeyFrame(cause: string): void {
    this.machine.requestKeyFrame(cause);
  }

  /**
   * A picture arrives. If the encoders are still busy with the previous one, the newest
   * picture waits (replacing an older waiting one, which is dropped and logged), as a
   * real-time encoder does rather than building a queue.
   */
  onCapture(cap: CapturedFrame): void {
    if (this.stopped) return;
    if (this.busy) {
      if (this.waiting) this.drop(this.waiting, 'encoder-busy');
      this.waiting = cap;
      return;
    }
    this.working = this.process(cap);
  }

  private async process(cap: CapturedFrame): Promise<void> {
    this.busy = true;
    try {
      const plan = this.machine.planFrame(cap.frameId, cap.captureMs, this.backup ? this.linkDown() : null);
      const pts = this.rtpTimestampAt(cap.captureMs);
      await Promise.all([this.encodePrimary(cap, pts, plan), this.encodeBackup(cap, pts, plan)]);
    } finally {
      this.busy = false;
    }
    const next = this.waiting;
    this.waiting = null;
    if (next && !this.stopped) await this.process(next);
  }

  /** `rtpTimestamp`: the picture's capture time on the 90 kHz clock, both streams alike. */
  private async encode(enc: Encoder, cap: CapturedFrame, rtpTimestamp: number, stream: StreamKind, forceKey: boolean): Promise<EncodedPicture> {
    const encodeStartMs = this.o.clock.now();
    // The primary encoder holds cap.frame while it works: the backup encodes its own copy.
    const pic = await enc.encode(stream === 'primary' ? cap.frame : copyFrame(cap.frame), rtpTimestamp, forceKey);
    this.framesEncoded++;
    this.o.onFrame({
      kind: 'encoded',
      frameId: cap.frameId,
      stream,
      sourceIndex: cap.sourceIndex,
      rtpTimestamp,
      captureMs: cap.captureMs,
      encodeStartMs,
      encodeEndMs: this.o.clock.now(),
      key: pic.key,
      sizeBytes: pic.data.length,
      qp: pic.qp,
    });
    return pic;
  }

  private async encodePrimary(cap: CapturedFrame, pts: number, plan: FramePlan): Promise<void> {
    const pic = await this.encode(this.primary, cap, pts, 'primary', plan.primaryKey);
    // x264 predicts from the previous *encoded* picture: tell the receiver how far back
    // that is, so a picture dropped before encoding does not look like a loss.
    const refDelta = pic.key || this.lastPrimaryId < 0 ? 0 : Math.min(MAX_REF_DELTA, cap.frameId - this.lastPrimaryId);
    this.lastPrimaryId = cap.frameId;
    if (plan.flush && pic.key) {
      this.paced.flushStream('primary');
      // The backup's queued frames carry pictures older than this I-frame: after an outage
      // they would leave first (the backup has priority) and hold the I-frame back.
      if (this.backup) this.paced.flushStream('backup');
    }
    this.paced.enqueueFrame('primary', pic.data, { frameId: cap.frameId, start: true, end: true, key: pic.key, refDelta }, pts);
    this.backup?.onPrimaryEncoded(cap.frameId, pic.data, pts, !this.stopped && this.machine.scheduledKeyDue(cap.frameId + 1));
  }

  private async encodeBackup(cap: CapturedFrame, pts: number, plan: FramePlan): Promise<void> {
    if (!this.backup) return;
    const how = await this.backup.encoderFor(cap.frameId, plan.backup, this.lastBackupId);
    if (typeof how === 'string') {
      this.machine.abandonEpisode(how, cap.frameId, this.o.clock.now());
      return;
    }
    if (!how) return;
    const pic = await this.encode(how.encoder, cap, pts, 'backup', how.forceKey);
    const frameRef: FrameRefExt | undefined = how.frameRef;
    const refDelta = frameRef || pic.key || this.lastBackupId < 0 ? 0 : Math.min(MAX_REF_DELTA, cap.frameId - this.lastBackupId);
    this.lastBackupId = cap.frameId;
    if (this.stopped) return;
    this.paced.enqueueFrame('backup', pic.data, { frameId: cap.frameId, start: true, end: true, key: pic.key, refDelta }, pts, frameRef);
    if (how.priming && plan.backup === 'start') {
      this.machine.abandonEpisode('picture 0: the backup stream starts with its own IDR', cap.frameId, this.o.clock.now());
    }
  }

  private drop(cap: CapturedFrame, reason: string): void {
    this.framesDropped++;
    if (reason === 'encoder-busy') this.encoderBusyDrops++;
    this.o.onFrame({
      kind: 'dropped',
      frameId: cap.frameId,
      stream: 'primary',
      sourceIndex: cap.sourceIndex,
      rtpTimestamp: this.rtpTimestampAt(cap.captureMs),
      captureMs: cap.captureMs,
      reason,
    });
  }

  /** Resolves when every encoded frame has left the pacer (or `timeoutMs` passed). */
  async drain(timeoutMs: number): Promise<boolean> {
    await this.working;
    return this.paced.drain(timeoutMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.waiting) this.drop(this.waiting, 'stopped');
    this.waiting = null;
    this.paced.stop();
  }
}
