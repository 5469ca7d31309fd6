/**
 * The send side of a run: captured picture → the state machine's plan → x264 (the
 * primary encoder, and in dual mode the backup encoder) → the paced sender. Encoding
 * runs on libuv's pool (beamcoder), so the pacer's timers never wait behind it.
 *
 * Backup reference strategies (DESIGN.md §2, chosen with --backup-reference):
 * - episodic: one secondary encoder, primed with picture 0 (its IDR goes out on the
 *   backup stream so the receiver's backup decoder has a reference), then encoding only
 *   during episodes; a backup P predicts from the last backup picture of the previous episode;
 * - shared: each episode starts a fresh encoder seeded with a never-sent IDR of the last
 *   decoded primary picture (the sender decodes its own primary stream); the receiver
 *   builds the same seed. For scheduled I-frames the seed is built ahead of time, as soon
 *   as the picture before the I-frame is decoded.
 */
import type { Clock } from '../clock';
import { copyFrame, H264Decoder, H264Encoder, VIDEO_CLOCK_HZ, type EncoderConfig, type VideoFrame } from '../media/codec';
import { seedEncoder, type SenderSeed } from '../media/backup-seed';
import type { CapturedFrame } from '../media/source';
import type { SenderEventRow, SenderFrameRow } from '../metrics/rows';
import { MAX_REF_DELTA } from '../rtp/extensions';
import type { FrameRefExt, StreamKind } from '../rtp/types';
import { BackupStateMachine, type FramePlan } from './backup-state';
import { PacedSender, type StreamSpec } from './paced-sender';

export type BackupReference = 'episodic' | 'shared';

/** Dual mode under a rate controller: the primary's share of the target, and the backup encoder's. */
export const PRIMARY_SHARE = 0.9;
export const BACKUP_SHARE = 0.45;
/** RTP header with our extensions, inside the MTU (bytes). */
const RTP_HEADER_BYTES = 36;
/** Outside the RTP packet: SRTP authentication tag (≤ 16) and UDP/IPv4 (28). */
const BELOW_RTP_BYTES = 44;

/** The share of a rate on the wire that is H.264 payload, for full-size packets. */
export function mediaShare(mtu: number): number {
  return (mtu - RTP_HEADER_BYTES) / (mtu + BELOW_RTP_BYTES);
}

export interface VideoSenderOptions {
  clock: Clock;
  mode: 'single' | 'dual';
  backupReference: BackupReference;
  streams: StreamSpec[];
  mtu: number;
  keyintFrames: number;
  feedbackTimeoutMs: number;
  encoder: EncoderConfig;
  /** Parameters of the backup encoder (and of shared-reference seeds at both ends). */
  backupEncoder: EncoderConfig;
  pacingFactor?: number;
  /** One serialized RTP packet to the transport; returns its bytes on the wire if known (PacedSenderOptions.send). */
  send: (packet: Buffer) => number | void;
  onFrameDone: (row: SenderFrameRow) => void;
  onEvent: (row: SenderEventRow) => void;
}

interface Decoded {
  frameId: number;
  frame: VideoFrame;
  pts: number;
}

export class VideoSender {
  readonly paced: PacedSender;
  readonly machine: BackupStateMachine;
  private readonly primary: H264Encoder;
  private backup: H264Encoder | null = null;
  /** Shared strategy: the sender's own decode of its primary stream. */
  private readonly localDecoder: H264Decoder | null;
  private lastDecoded: Decoded | null = null;
  private decodeChain: Promise<void> = Promise.resolve();
  private readySeed: { forFrameId: number; basis: Decoded; seed: Promise<SenderSeed> } | null = null;
  private busy = false;
  private waiting: CapturedFrame | null = null;
  private working: Promise<void> = Promise.resolve();
  private lastPrimaryId = -1;
  private lastBackupId = -1;
  private stopped = false;
  private readonly rtpBase = Math.floor(Math.random() * 0x1_0000_0000);
  framesEncoded = 0;
  framesDropped = 0;
  /** The backup encoder's current target (seeds are built with the configured one, then switch to this). */
  private backupRateBps: number;
  targetRateBps: number;

  constructor(private readonly o: VideoSenderOptions) {
    // The encoder's configured rate is media; the target (pacer, retransmission limit, and
    // what a rate controller's estimate is compared with) is the same rate on the wire,
    // the inverse of setTargetRate. Holding the encoder rate here instead made an estimate
    // equal to --bitrate look already applied, so the encoder kept the whole target
    // without the packet overhead subtracted.
    const initialTargetBps = o.encoder.bitrateBps / (mediaShare(o.mtu) * (o.mode === 'dual' ? PRIMARY_SHARE : 1));
    this.paced = new PacedSender({
      clock: o.clock,
      mtu: o.mtu,
      initialRateBps: initialTargetBps,
      pacingFactor: o.pacingFactor,
      send: o.send,
      onFrameDone: o.onFrameDone,
    });
    for (const s of o.streams) this.paced.addStream(s);
    this.primary = H264Encoder.open(o.encoder);
    this.backupRateBps = o.backupEncoder.bitrateBps;
    this.targetRateBps = initialTargetBps;
    const dual = o.mode === 'dual';
    this.localDecoder = dual && o.backupReference === 'shared' ? new H264Decoder() : null;
    if (dual && o.backupReference === 'episodic') this.backup = H264Encoder.open(o.backupEncoder);
    this.machine = new BackupStateMachine({
      dual,
      keyintFrames: o.keyintFrames,
      feedbackTimeoutMs: o.feedbackTimeoutMs,
      onTransition: (t) =>
        o.onEvent({ time_ms: t.timeMs, event: 'transition', from_state: t.from, to_state: t.to, frame_id: t.frameId, cause: t.cause }),
    });
  }

  /**
   * RTP timestamp of a moment on our clock: 90 kHz capture time. Both streams share one
   * base so the receiver's single timing model sees one timeline.
   */
  rtpTimestampAt(ms: number): number {
    return (this.rtpBase + Math.round((ms * VIDEO_CLOCK_HZ) / 1000)) >>> 0;
  }

  /** Feedback from the receiver: the I-frame of picture `frameId` is complete. */
  onIFrameComplete(frameId: number): void {
    const now = this.o.clock.now();
    this.o.onEvent({
      time_ms: now,
      event: 'feedback-received',
      from_state: this.machine.state,
      to_state: this.machine.state,
      frame_id: frameId,
      cause: 'I-frame complete',
    });
    if (this.machine.onFeedback(frameId, now) && this.o.backupReference === 'shared') this.backup = null;
  }

  /**
   * A new target from the rate controller, for all media: in dual mode it covers both
   * streams — the primary gets PRIMARY_SHARE of it and the backup encoder, which runs only
   * during episodes, BACKUP_SHARE (the benchmarks measure the backup's actual byte share).
   * The pacer paces the whole target (× pacing factor).
   */
  setTargetRate(bps: number): void {
    this.targetRateBps = bps;
    const dual = this.o.mode === 'dual';
    // As libwebrtc, the encoder gets the target minus packet overhead (the estimate counts
    // whole packets on the wire): RTP header and extensions, SRTP tag, UDP/IPv4.
    const media = bps * mediaShare(this.o.mtu);
    this.primary.setBitrate(Math.round(dual ? media * PRIMARY_SHARE : media));
    this.backupRateBps = Math.round(media * BACKUP_SHARE);
    this.backup?.setBitrate(this.backupRateBps);
    this.paced.setTargetRate(bps);
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
      const plan = this.machine.planFrame(cap.frameId, cap.captureMs);
      await Promise.all([this.encodePrimary(cap, plan), this.encodeBackup(cap, plan)]);
    } finally {
      this.busy = false;
    }
    const next = this.waiting;
    this.waiting = null;
    if (next && !this.stopped) await this.process(next);
  }

  private newRow(cap: CapturedFrame, stream: StreamKind): SenderFrameRow {
    return {
      frame_id: cap.frameId,
      stream,
      source_index: cap.sourceIndex,
      frame_type: '',
      size_bytes: 0,
      qp: '',
      packets: 0,
      rtp_timestamp: this.rtpTimestampAt(cap.captureMs),
      capture_ms: cap.captureMs,
      encode_start_ms: '',
      encode_end_ms: '',
      pacer_enqueue_ms: '',
      first_sent_ms: '',
      last_sent_ms: '',
      dropped: '',
    };
  }

  private async encodePrimary(cap: CapturedFrame, plan: FramePlan): Promise<void> {
    const row = this.newRow(cap, 'primary');
    row.encode_start_ms = this.o.clock.now();
    const pic = await this.primary.encode(cap.frame, row.rtp_timestamp, plan.primaryKey);
    this.finishEncode(row, pic.data.length, pic.key, pic.qp);
    // x264 predicts from the previous *encoded* picture: tell the receiver how far back
    // that is, so a picture dropped before encoding does not look like a loss.
    const refDelta = pic.key || this.lastPrimaryId < 0 ? 0 : Math.min(MAX_REF_DELTA, cap.frameId - this.lastPrimaryId);
    this.lastPrimaryId = cap.frameId;
    this.paced.enqueueFrame('primary', pic.data, { frameId: cap.frameId, start: true, end: true, key: pic.key, refDelta }, row.rtp_timestamp, row);
    if (this.localDecoder) this.decodeOwn(cap.frameId, pic.data, row.rtp_timestamp);
  }

  /** Shared strategy: decode our own primary stream, and prepare the seed for a scheduled I-frame. */
  private decodeOwn(frameId: number, au: Buffer, pts: number): void {
    const dec = this.localDecoder!;
    this.decodeChain = this.decodeChain.then(async () => {
      const pics = await dec.decode(au, pts).catch(() => []);
      if (pics.length !== 1) return;
      this.lastDecoded = { frameId, frame: pics[0], pts };
      const k = this.o.keyintFrames;
      if (k > 0 && (frameId + 1) % k === 0 && !this.stopped) {
        const basis = this.lastDecoded;
        const seed = seedEncoder(this.o.backupEncoder, basis.frame, basis.pts);
        seed.catch(() => {});
        this.readySeed = { forFrameId: frameId + 1, basis, seed };
      }
    });
  }

  private async encodeBackup(cap: CapturedFrame, plan: FramePlan): Promise<void> {
    const episodic = this.o.backupReference === 'episodic';
    // Episodic: prime the secondary encoder with picture 0 (an IDR; nothing to predict from yet).
    const prime = episodic && this.backup !== null && this.lastBackupId < 0 && cap.frameId === 0;
    if (plan.backup === 'none' && !prime) return;
    const row = this.newRow(cap, 'backup');
    row.encode_start_ms = this.o.clock.now();
    let frameRef: FrameRefExt | undefined;
    if (plan.backup === 'start' && !prime) {
      if (episodic) {
        frameRef = { refFrameId: this.lastBackupId, seedHash: null };
      } else {
        const seeded = await this.seedFor(cap.frameId);
        if (!seeded) {
          this.machine.abandonEpisode('no decoded primary picture to seed the backup from', cap.frameId, this.o.clock.now());
          return;
        }
        this.backup = seeded.seed.encoder;
        // The seed was built with the configured rate (the receiver rebuilds it with that); the
        // backup P-frames on the wire follow the current one.
        this.backup.setBitrate(this.backupRateBps);
        frameRef = { refFrameId: seeded.basis.frameId, seedHash: seeded.seed.hash };
      }
    }
    const enc = this.backup;
    if (!enc) return;
    // The primary encoder holds cap.frame right now: the backup encodes its own copy.
    const pic = await enc.encode(copyFrame(cap.frame), row.rtp_timestamp, prime);
    this.finishEncode(row, pic.data.length, pic.key, pic.qp);
    const refDelta = frameRef || pic.key || this.lastBackupId < 0 ? 0 : Math.min(MAX_REF_DELTA, cap.frameId - this.lastBackupId);
    this.lastBackupId = cap.frameId;
    if (this.stopped) return;
    this.paced.enqueueFrame('backup', pic.data, { frameId: cap.frameId, start: true, end: true, key: pic.key, refDelta }, row.rtp_timestamp, row, frameRef);
    if (prime && plan.backup === 'start') this.machine.abandonEpisode('picture 0: the backup stream starts with its own IDR', cap.frameId, this.o.clock.now());
  }

  /** The seed for picture `frameId`: the one prepared ahead, or one built now from the last decoded picture. */
  private async seedFor(frameId: number): Promise<{ basis: Decoded; seed: SenderSeed } | null> {
    const ready = this.readySeed;
    if (ready && ready.forFrameId === frameId) {
      this.readySeed = null;
      return { basis: ready.basis, seed: await ready.seed };
    }
    await this.decodeChain;
    const basis = this.lastDecoded;
    if (!basis || basis.frameId >= frameId) return null;
    return { basis, seed: await seedEncoder(this.o.backupEncoder, basis.frame, basis.pts) };
  }

  private finishEncode(row: SenderFrameRow, size: number, key: boolean, qp: number | null): void {
    row.encode_end_ms = this.o.clock.now();
    row.frame_type = key ? 'I' : 'P';
    row.size_bytes = size;
    row.qp = qp ?? '';
    this.framesEncoded++;
  }

  private drop(cap: CapturedFrame, reason: string): void {
    this.framesDropped++;
    this.o.onFrameDone({ ...this.newRow(cap, 'primary'), dropped: reason });
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
