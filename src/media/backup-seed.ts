/**
 * The `shared` backup-reference strategy (DESIGN.md §2): both ends hold the same decoded
 * primary picture m. Each starts a fresh x264 instance with identical parameters
 * (one thread) and encodes m as an IDR that is never transmitted. A fresh encoder's
 * first frame depends only on its parameters and its input, so both ends get the same
 * bytes and the same reconstruction: the sender then encodes pictures n, n+1, … as
 * P-frames predicting from it (the backup stream), and the receiver feeds its own IDR
 * to a fresh decoder before the backup P-frames from the wire. The seed's hash travels
 * with the first backup frame so the receiver can verify it built the same seed.
 */
import { createHash } from 'node:crypto';
import { copyFrame, MediaError, type EncoderConfig, type VideoFrame } from './codec';
import { x264Codecs, type Codecs, type Decoder, type Encoder } from './codecs';

/** First 32 bits of the SHA-256 of the seed IDR. */
export function seedHash(idr: Buffer): number {
  return createHash('sha256').update(idr).digest().readUInt32BE(0);
}

export interface SenderSeed {
  /** The encoder that continues with the backup P-frames. */
  encoder: Encoder;
  hash: number;
  idrBytes: number;
}

/** Sender side: a fresh encoder primed with an IDR of `picture` (pts in 90 kHz). */
export async function seedEncoder(config: EncoderConfig, picture: VideoFrame, pts: number, codecs: Codecs = x264Codecs): Promise<SenderSeed> {
  const encoder = codecs.openEncoder(config);
  // A copy: the decoded picture may be in another encode at the same time (see copyFrame).
  const idr = await encoder.encode(copyFrame(picture), pts, true);
  if (!idr.key) throw new MediaError('the seed encode did not produce an IDR');
  return { encoder, hash: seedHash(idr.data), idrBytes: idr.data.length };
}

export interface ReceiverSeed {
  decoder: Decoder;
  hash: number;
  /** The seed's reconstruction (what the backup P-frames predict from). */
  reconstruction: VideoFrame;
}

/**
 * Receiver side: builds the same IDR from its own decoded copy of the picture and a fresh
 * decoder holding it. Throws when the hash differs from the sender's: decoding the
 * backup P-frames would then use a wrong reference.
 */
export async function seedDecoder(
  config: EncoderConfig,
  picture: VideoFrame,
  pts: number,
  expectedHash: number,
  codecs: Codecs = x264Codecs,
): Promise<ReceiverSeed> {
  return checkSeed(await buildReceiverSeed(config, picture, pts, codecs), expectedHash);
}

/** The receiver's seed built ahead of the backup frame that names it (the hash is checked when it comes). */
export async function buildReceiverSeed(config: EncoderConfig, picture: VideoFrame, pts: number, codecs: Codecs = x264Codecs): Promise<ReceiverSeed> {
  const encoder = codecs.openEncoder(config);
  const idr = await encoder.encode(copyFrame(picture), pts, true);
  const decoder = codecs.openDecoder();
  const pics = await decoder.decode(idr.data, pts);
  if (pics.length !== 1) throw new MediaError('the seed IDR did not decode to one picture');
  return { decoder, hash: seedHash(idr.data), reconstruction: pics[0] };
}

/** The seed itself when its hash is the sender's; throws otherwise. */
export function checkSeed(seed: ReceiverSeed, expectedHash: number): ReceiverSeed {
  if (seed.hash !== expectedHash >>> 0) {
    throw new MediaError(`backup seed mismatch: built ${seed.hash.toString(16)}, sender announced ${(expectedHash >>> 0).toString(16)}`);
  }
  return seed;
}
