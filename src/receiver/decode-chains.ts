/**
 * The decoders behind the scheduler's chains: one per stream, each with its own reference
 * state. The primary decoder lives for the whole run. The backup decoder is rebuilt when an
 * episode starts: on a key frame (episodic priming), or from a seed — a fresh x264 encodes
 * the primary picture the frame names as an IDR that was never sent, exactly as the sender
 * did (DESIGN.md §2); its hash must equal the sender's before anything is decoded, since a
 * decoder seeded from the wrong picture decodes silently into a wrong picture.
 */
import type { EncoderConfig, VideoFrame } from '../media/codec';
import type { Codecs, Decoder } from '../media/codecs';
import { buildReceiverSeed, checkSeed, seedDecoder, type ReceiverSeed } from '../media/backup-seed';
import type { FrameRefExt, StreamKind } from '../rtp/types';

/** Decoded primary pictures kept as possible seeds for shared-reference backups. */
const SEED_CANDIDATES = 8;

export interface DecodeInput {
  frameId: number;
  key: boolean;
  frameRef: FrameRefExt | null;
  annexB: Buffer;
  rtpTimestamp: number;
}

export class DecodeChains {
  private readonly decoders: Record<StreamKind, Decoder | null>;
  private readonly seedCandidates: { frameId: number; frame: VideoFrame; pts: number }[] = [];
  /** A seed built ahead from the picture before a scheduled I-frame (its hash is checked when the backup comes). */
  private prepared: { frameId: number; seed: Promise<ReceiverSeed> } | null = null;

  constructor(
    private readonly codecs: Codecs,
    /** The sender's backup encoder parameters (from the offer), needed to build seeds. */
    private readonly seedEncoder: EncoderConfig | undefined,
    /** A seed was built (for receiver-events.csv). */
    private readonly onSeedBuilt: (frameId: number, detail: string) => void,
    /**
     * The sender's I-frame interval (from the offer; 0: unknown or none): the seed for a
     * scheduled I-frame is built as soon as the picture before it is decoded, as the sender
     * does, rather than when the backup frame arrives (an x264 IDR encode and a decode, 20–60
     * ms at 720p on these machines, on the I-picture's path).
     */
    private readonly keyint = 0,
  ) {
    this.decoders = { primary: codecs.openDecoder(), backup: null };
  }

  /** Decodes `f` on the chain of `stream`; throws when its reference cannot be built. */
  async decode(stream: StreamKind, f: DecodeInput): Promise<VideoFrame[]> {
    if (stream === 'backup') await this.startEpisode(f);
    const dec = this.decoders[stream];
    if (!dec) throw new Error('no decoder state for this frame');
    const pictures = await dec.decode(f.annexB, f.rtpTimestamp);
    if (pictures.length !== 1) {
      if (stream === 'backup') this.decoders.backup = null;
    } else if (stream === 'primary') {
      this.seedCandidates.push({ frameId: f.frameId, frame: pictures[0], pts: f.rtpTimestamp });
      if (this.seedCandidates.length > SEED_CANDIDATES) this.seedCandidates.shift();
      if (this.seedEncoder && this.keyint > 0 && (f.frameId + 1) % this.keyint === 0) {
        const seed = buildReceiverSeed(this.seedEncoder, pictures[0], f.rtpTimestamp, this.codecs);
        seed.catch(() => {});
        this.prepared = { frameId: f.frameId, seed };
      }
    }
    return pictures;
  }

  /** The backup decoder for a frame that starts a new reference chain. */
  private async startEpisode(f: DecodeInput): Promise<void> {
    if (f.key) {
      this.decoders.backup = this.codecs.openDecoder();
      return;
    }
    const ref = f.frameRef;
    if (ref?.seedHash == null) return;
    this.decoders.backup = null;
    const basis = this.seedCandidates.find((p) => p.frameId === ref.refFrameId);
    if (!basis) throw new Error(`no decoded primary picture ${ref.refFrameId} to build the seed from`);
    if (!this.seedEncoder) throw new Error('the offer did not describe the encoder: cannot build a seed');
    const ahead = this.prepared?.frameId === basis.frameId ? this.prepared.seed : null;
    this.prepared = null;
    const seed = ahead ? checkSeed(await ahead, ref.seedHash) : await seedDecoder(this.seedEncoder, basis.frame, basis.pts, ref.seedHash, this.codecs);
    this.decoders.backup = seed.decoder;
    this.onSeedBuilt(f.frameId, `from primary picture ${basis.frameId}${ahead ? ' (built ahead)' : ''}, hash ${seed.hash.toString(16)}`);
  }
}
