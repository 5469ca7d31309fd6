/**
 * What a backup P-frame predicts from (DESIGN.md §2, chosen with --backup-reference): a
 * strategy behind one interface, so the sender's loop does not branch on it.
 *
 * - episodic: one secondary encoder, primed with picture 0 (its IDR goes out on the
 *   backup stream so the receiver's backup decoder has a reference), then encoding only
 *   during episodes; a backup P predicts from the last backup picture of the previous
 *   episode.
 * - shared: each episode starts a fresh encoder seeded with a never-sent IDR of the last
 *   decoded primary picture (the sender decodes its own primary stream); the receiver
 *   builds the same seed and checks its hash. For a scheduled I-frame the seed is built
 *   ahead of time, as soon as the picture before it is decoded.
 */
import type { EncoderConfig, VideoFrame } from '../media/codec';
import type { Codecs, Decoder, Encoder } from '../media/codecs';
import { seedEncoder, type SenderSeed } from '../media/backup-seed';
import type { FrameRefExt } from '../rtp/types';

export type BackupReferenceKind = 'episodic' | 'shared';

/**
 * Dual mode: the primary's share of the target, and the backup encoder's. Together they
 * are the target: a backup that adds to it takes the headroom the I-frame's backlog needs
 * to drain, and with the caught-up end rule the episode then lasts until its timeout
 * (measured on simulated time, `bench/dual-sim.ts`: with a backup at half the primary's
 * rate, a 1.2 Mbit/s primary on a 1.5 Mbit/s link never caught up, every episode ran to its
 * timeout and the median latency was 4× single's; at 1/9 every episode ended by the
 * caught-up feedback).
 */
export const PRIMARY_SHARE = 0.9;
export const BACKUP_SHARE = 0.1;


/** How picture `frameId` is encoded on the backup stream. */
export interface BackupEncode {
  encoder: Encoder;
  /** Force an IDR (episodic: priming with picture 0). */
  forceKey: boolean;
  /** Sent with an episode's first frame: what it predicts from. */
  frameRef?: FrameRefExt;
  /** This frame is not a backup of an I-frame: it only gives the backup stream its first reference. */
  priming: boolean;
}

export interface BackupReference {
  readonly kind: BackupReferenceKind;
  /**
   * The primary encoder produced picture `frameId`. `keyNext`: the next picture is due an
   * I-frame on schedule (so a seed can be prepared ahead).
   */
  onPrimaryEncoded(frameId: number, au: Buffer, pts: number, keyNext: boolean): void;
  /**
   * The encoder for picture `frameId` given the state machine's plan; null when nothing is
   * encoded on the backup stream; a string when an episode cannot start (the reason).
   */
  encoderFor(frameId: number, plan: 'none' | 'start' | 'continue', lastBackupId: number): Promise<BackupEncode | null | string>;
  /** The episode ended (feedback, timeout): encoders that only serve one episode are released. */
  onEpisodeEnd(): void;
  /** The backup encoder's current target rate. */
  setBitrate(bps: number): void;
}

/**
 * The backup encoder's parameters: the primary's picture format with its own (smaller)
 * rate, since during an episode it adds to the primary's rate on the same link (default
 * BACKUP_SHARE / PRIMARY_SHARE of the primary's, 1/9: the split a rate controller's
 * target gets). With `crf`, constant quality under that VBV cap instead of ABR.
 * Never intra refresh: its short episodes predict from a seed IDR, so a refresh wave would
 * only add intra blocks.
 */
export function backupEncoderConfig(primary: EncoderConfig, o: { bitrateBps: number | null; crf: number | null }): EncoderConfig {
  // Never the primary's threads: the backup's output must be reproducible at the receiver.
  const { intraRefreshFrames: _none, threads: _threads, ...plain } = primary;
  return { ...plain, bitrateBps: o.bitrateBps ?? Math.round((primary.bitrateBps * BACKUP_SHARE) / PRIMARY_SHARE), ...(o.crf === null ? {} : { x264Params: `crf=${o.crf}` }) };
}

export function createBackupReference(kind: BackupReferenceKind, config: EncoderConfig, codecs: Codecs): BackupReference {
  return kind === 'episodic' ? new EpisodicReference(config, codecs) : new SharedSeedReference(config, codecs);
}

class EpisodicReference implements BackupReference {
  readonly kind = 'episodic' as const;
  private readonly encoder: Encoder;

  constructor(config: EncoderConfig, codecs: Codecs) {
    this.encoder = codecs.openEncoder(config);
  }

  onPrimaryEncoded(): void {}

  async encoderFor(frameId: number, plan: 'none' | 'start' | 'continue', lastBackupId: number): Promise<BackupEncode | null> {
    // Picture 0 primes the secondary encoder with an IDR: nothing to predict from yet.
    if (frameId === 0 && lastBackupId < 0) return { encoder: this.encoder, forceKey: true, priming: true };
    if (plan === 'none') return null;
    const frameRef = plan === 'start' ? { refFrameId: lastBackupId, seedHash: null } : undefined;
    return { encoder: this.encoder, forceKey: false, frameRef, priming: false };
  }

  onEpisodeEnd(): void {}

  setBitrate(bps: number): void {
    this.encoder.setBitrate(bps);
  }
}

interface Decoded {
  frameId: number;
  frame: VideoFrame;
  pts: number;
}

class SharedSeedReference implements BackupReference {
  readonly kind = 'shared' as const;
  private readonly localDecoder: Decoder;
  private lastDecoded: Decoded | null = null;
  private decodeChain: Promise<void> = Promise.resolve();
  private readySeed: { basis: Decoded; seed: Promise<SenderSeed> } | null = null;
  private encoder: Encoder | null = null;
  private rateBps: number;

  constructor(
    private readonly config: EncoderConfig,
    private readonly codecs: Codecs,
  ) {
    this.localDecoder = codecs.openDecoder();
    this.rateBps = config.bitrateBps;
  }

  onPrimaryEncoded(frameId: number, au: Buffer, pts: number, keyNext: boolean): void {
    this.decodeChain = this.decodeChain.then(async () => {
      const pics = await this.localDecoder.decode(au, pts).catch(() => []);
      if (pics.length !== 1) return;
      this.lastDecoded = { frameId, frame: pics[0], pts };
      if (keyNext) {
        const seed = seedEncoder(this.config, pics[0], pts, this.codecs);
        seed.catch(() => {});
        this.readySeed = { basis: this.lastDecoded, seed };
      }
    });
  }

  async encoderFor(frameId: number, plan: 'none' | 'start' | 'continue'): Promise<BackupEncode | null | string> {
    if (plan === 'none') return null;
    if (plan === 'continue') return this.encoder && { encoder: this.encoder, forceKey: false, priming: false };
    const seeded = await this.seedFor(frameId);
    if (!seeded) return 'no decoded primary picture to seed the backup from';
    // The seed was built with the configured rate (the receiver rebuilds it with that); the
    // backup P-frames on the wire follow the current one.
    this.encoder = seeded.seed.encoder;
    this.encoder.setBitrate(this.rateBps);
    return { encoder: this.encoder, forceKey: false, frameRef: { refFrameId: seeded.basis.frameId, seedHash: seeded.seed.hash }, priming: false };
  }

  /**
   * The seed for picture `frameId`: the one prepared ahead while it is still built on the
   * newest decoded picture (it stays valid when a busy encoder moved the I-frame to a later
   * picture: a seed only needs a picture before `frameId` that both ends hold), or one built
   * now from the last decoded picture.
   */
  private async seedFor(frameId: number): Promise<{ basis: Decoded; seed: SenderSeed } | null> {
    await this.decodeChain;
    const ready = this.readySeed;
    this.readySeed = null;
    const basis = this.lastDecoded;
    if (!basis || basis.frameId >= frameId) return null;
    if (ready && ready.basis === basis) return { basis, seed: await ready.seed };
    return { basis, seed: await seedEncoder(this.config, basis.frame, basis.pts, this.codecs) };
  }

  onEpisodeEnd(): void {
    this.encoder = null;
  }

  setBitrate(bps: number): void {
    this.rateBps = bps;
    this.encoder?.setBitrate(bps);
  }
}
