/**
 * The RTP header extensions we send (RFC 8285 elements; ids in EXT_ID, types.ts):
 *
 *  - abs-send-time (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time):
 *    3 bytes, 24-bit unsigned 6.18 fixed-point seconds, so it wraps every 64 s and has
 *    a resolution of 2^-18 s ≈ 3.8 µs. GCC's delay-based estimator only ever uses
 *    differences between packets, which is why the wrap is harmless if deltas are
 *    taken modulo 2^24 (absSendTimeDeltaMs).
 *  - transport-wide sequence number
 *    (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2): 2 bytes, one counter
 *    shared by every SSRC of the transport, so feedback covers all streams at once.
 *  - our frame id (urn:testbed:rtp-hdrext:frame-id): 5 bytes
 *        0                   1                   2                   3
 *        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |S|E|K|  rsvd   |               frame id (32 bits) ...
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       ... frame id    |
 *       +-+-+-+-+-+-+-+-+
 *    The frame id is carried per packet because the receiver runs two decoders that
 *    restart their own counters (DESIGN.md §2): the picture number must come from the
 *    sender, not be inferred from decoder output order. Reserved bits are sent as 0
 *    and ignored on receipt so the flags can grow.
 */
import type { FrameIdExt, FrameRefExt } from './types';

export const ABS_SEND_TIME_BYTES = 3;
export const TRANSPORT_WIDE_SEQ_BYTES = 2;
export const FRAME_ID_BYTES = 5;

/** 2^18: units of abs-send-time per second (6.18 fixed point). */
const ABS_SEND_TIME_UNITS_PER_S = 1 << 18;
/** 2^24: abs-send-time wraps every 64 s. */
const ABS_SEND_TIME_MODULUS = 1 << 24;
const ABS_SEND_TIME_PERIOD_MS = 64_000;

const FLAG_START = 0x80;
const FLAG_END = 0x40;
const FLAG_KEY = 0x20;
/** The flag byte's low 5 bits carry the reference distance. */
export const MAX_REF_DELTA = 0x1f;

// ---------------------------------------------------------------------------
// abs-send-time

/**
 * The 24-bit abs-send-time of a time in ms on any timeline (libwebrtc
 * AbsoluteSendTime::To24Bits: reduce modulo 64 s first, then round to nearest, so large
 * epoch values keep their sub-ms precision).
 */
export function absSendTimeFromMs(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`abs-send-time: time must be finite, got ${ms}`);
  const inPeriod = ((ms % ABS_SEND_TIME_PERIOD_MS) + ABS_SEND_TIME_PERIOD_MS) % ABS_SEND_TIME_PERIOD_MS;
  return Math.round((inPeriod * ABS_SEND_TIME_UNITS_PER_S) / 1000) % ABS_SEND_TIME_MODULUS;
}

/** The position of an abs-send-time value inside its 64 s period, in ms. */
export function absSendTimeToMs(value: number): number {
  return ((value & 0xffffff) * 1000) / ABS_SEND_TIME_UNITS_PER_S;
}

/**
 * a − b in ms, taken modulo 2^24 and mapped to the shortest signed distance
 * ([-32 s, +32 s)), so a pair straddling the 64 s wrap gives the small true difference.
 */
export function absSendTimeDeltaMs(a: number, b: number): number {
  let d = ((a & 0xffffff) - (b & 0xffffff)) & 0xffffff;
  if (d >= ABS_SEND_TIME_MODULUS / 2) d -= ABS_SEND_TIME_MODULUS;
  return (d * 1000) / ABS_SEND_TIME_UNITS_PER_S;
}

export function writeAbsSendTime(buf: Buffer, offset: number, value: number): void {
  checkUint(value, 24, 'abs-send-time');
  buf.writeUIntBE(value, offset, ABS_SEND_TIME_BYTES);
}

export function readAbsSendTime(buf: Buffer, offset: number): number {
  return buf.readUIntBE(offset, ABS_SEND_TIME_BYTES);
}

export function encodeAbsSendTime(value: number): Buffer {
  const b = Buffer.alloc(ABS_SEND_TIME_BYTES);
  writeAbsSendTime(b, 0, value);
  return b;
}

export function decodeAbsSendTime(data: Buffer): number {
  checkLength(data, ABS_SEND_TIME_BYTES, 'abs-send-time');
  return readAbsSendTime(data, 0);
}

// ---------------------------------------------------------------------------
// transport-wide sequence number

export function writeTransportWideSeq(buf: Buffer, offset: number, seq: number): void {
  checkUint(seq, 16, 'transport-wide sequence number');
  buf.writeUInt16BE(seq, offset);
}

export function readTransportWideSeq(buf: Buffer, offset: number): number {
  return buf.readUInt16BE(offset);
}

export function encodeTransportWideSeq(seq: number): Buffer {
  const b = Buffer.alloc(TRANSPORT_WIDE_SEQ_BYTES);
  writeTransportWideSeq(b, 0, seq);
  return b;
}

export function decodeTransportWideSeq(data: Buffer): number {
  checkLength(data, TRANSPORT_WIDE_SEQ_BYTES, 'transport-wide sequence number');
  return readTransportWideSeq(data, 0);
}

// ---------------------------------------------------------------------------
// frame id

export function writeFrameId(buf: Buffer, offset: number, ext: FrameIdExt): void {
  checkUint(ext.frameId, 32, 'frame id');
  const ref = ext.refDelta ?? 0;
  if (!Number.isInteger(ref) || ref < 0 || ref > MAX_REF_DELTA) throw new RangeError(`frame reference delta must be 0..${MAX_REF_DELTA}, got ${ref}`);
  buf[offset] = (ext.start ? FLAG_START : 0) | (ext.end ? FLAG_END : 0) | (ext.key ? FLAG_KEY : 0) | ref;
  buf.writeUInt32BE(ext.frameId, offset + 1);
}

export function readFrameId(buf: Buffer, offset: number): FrameIdExt {
  const flags = buf[offset];
  const ext: FrameIdExt = {
    frameId: buf.readUInt32BE(offset + 1),
    start: (flags & FLAG_START) !== 0,
    end: (flags & FLAG_END) !== 0,
    key: (flags & FLAG_KEY) !== 0,
  };
  if (flags & MAX_REF_DELTA) ext.refDelta = flags & MAX_REF_DELTA;
  return ext;
}

export function encodeFrameId(ext: FrameIdExt): Buffer {
  const b = Buffer.alloc(FRAME_ID_BYTES);
  writeFrameId(b, 0, ext);
  return b;
}

export function decodeFrameId(data: Buffer): FrameIdExt {
  checkLength(data, FRAME_ID_BYTES, 'frame id');
  return readFrameId(data, 0);
}

// ---------------------------------------------------------------------------
// frame reference: flags (bit7: seeded from a primary picture), reference id, seed hash

export const FRAME_REF_BYTES = 9;
const FLAG_SEEDED = 0x80;

export function writeFrameRef(buf: Buffer, offset: number, ext: FrameRefExt): void {
  checkUint(ext.refFrameId, 32, 'reference frame id');
  if (ext.seedHash !== null) checkUint(ext.seedHash, 32, 'seed hash');
  buf[offset] = ext.seedHash !== null ? FLAG_SEEDED : 0;
  buf.writeUInt32BE(ext.refFrameId, offset + 1);
  buf.writeUInt32BE(ext.seedHash ?? 0, offset + 5);
}

export function readFrameRef(buf: Buffer, offset: number): FrameRefExt {
  const seeded = (buf[offset] & FLAG_SEEDED) !== 0;
  return { refFrameId: buf.readUInt32BE(offset + 1), seedHash: seeded ? buf.readUInt32BE(offset + 5) : null };
}

// ---------------------------------------------------------------------------

function checkUint(v: number, bits: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new RangeError(`${what} must be an unsigned ${bits}-bit integer, got ${v}`);
  }
}

function checkLength(data: Buffer, n: number, what: string): void {
  if (data.length !== n) throw new RangeError(`${what} extension is ${n} bytes, got ${data.length}`);
}
