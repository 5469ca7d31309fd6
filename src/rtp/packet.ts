/**
 * RTP packets: RFC 3550 §5.1 fixed header, RFC 8285 header extensions.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers (CC × 32)   |
 * |  0xBEDE (one-byte) or 0x100x (two-byte) |  length in words    |  (if X)
 * |                     extension elements ...                    |
 * |                          payload ...  [padding ... count]     |  (count if P)
 *
 * We send the one-byte form only (RFC 8285 §4.2): all our elements are ≤ 16 bytes
 * and it costs one byte per element instead of two. The two-byte form (§4.3) is
 * walked on receipt so a peer that negotiated extmap-allow-mixed still parses.
 * Parsing never reads past the buffer: every length is checked before use and any
 * inconsistency raises RtpParseError (the receive path treats that as "drop and count").
 */
import { EXT_ID, type RtpHeaderExtensions, type RtpPacket } from './types';
import {
  ABS_SEND_TIME_BYTES,
  FRAME_ID_BYTES,
  FRAME_REF_BYTES,
  readFrameRef,
  writeFrameRef,
  TRANSPORT_WIDE_SEQ_BYTES,
  readAbsSendTime,
  readFrameId,
  readTransportWideSeq,
  writeAbsSendTime,
  writeFrameId,
  writeTransportWideSeq,
} from './extensions';

export class RtpParseError extends Error {
  override name = 'RtpParseError';
}

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_BYTES = 12;
/** RFC 8285 §4.2. */
export const ONE_BYTE_PROFILE = 0xbede;
/** RFC 8285 §4.3: 0x100 followed by 4 "appbits" the receiver ignores. */
export const TWO_BYTE_PROFILE = 0x1000;
const TWO_BYTE_PROFILE_MASK = 0xfff0;
/** RFC 8285 §4.2: id 15 is reserved; on sight, stop processing the extension block. */
const ONE_BYTE_RESERVED_ID = 15;

/** The extensions we know, in the order they are written (ascending id). */
const KNOWN = [
  {
    key: 'absSendTime',
    id: EXT_ID.absSendTime,
    size: ABS_SEND_TIME_BYTES,
    write: (b: Buffer, o: number, e: RtpHeaderExtensions) => writeAbsSendTime(b, o, e.absSendTime as number),
    read: (b: Buffer, o: number, e: RtpHeaderExtensions) => (e.absSendTime = readAbsSendTime(b, o)),
  },
  {
    key: 'transportWideSeq',
    id: EXT_ID.transportWideSeq,
    size: TRANSPORT_WIDE_SEQ_BYTES,
    write: (b: Buffer, o: number, e: RtpHeaderExtensions) =>
      writeTransportWideSeq(b, o, e.transportWideSeq as number),
    read: (b: Buffer, o: number, e: RtpHeaderExtensions) => (e.transportWideSeq = readTransportWideSeq(b, o)),
  },
  {
    key: 'frameId',
    id: EXT_ID.frameMarking,
    size: FRAME_ID_BYTES,
    write: (b: Buffer, o: number, e: RtpHeaderExtensions) => writeFrameId(b, o, e.frameId!),
    read: (b: Buffer, o: number, e: RtpHeaderExtensions) => (e.frameId = readFrameId(b, o)),
  },
  {
    key: 'frameRef',
    id: EXT_ID.frameRef,
    size: FRAME_REF_BYTES,
    write: (b: Buffer, o: number, e: RtpHeaderExtensions) => writeFrameRef(b, o, e.frameRef!),
    read: (b: Buffer, o: number, e: RtpHeaderExtensions) => (e.frameRef = readFrameRef(b, o)),
  },
] as const;

function present(ext: RtpHeaderExtensions): (typeof KNOWN)[number][] {
  return KNOWN.filter((k) => ext[k.key] !== undefined).sort((a, b) => a.id - b.id);
}

/** Bytes of the extension block (0xBEDE word + elements + zero padding to 32 bits), 0 if none. */
function extensionBlockSize(ext: RtpHeaderExtensions): number {
  const elems = present(ext);
  if (elems.length === 0) return 0;
  const body = elems.reduce((n, k) => n + 1 + k.size, 0);
  return 4 + Math.ceil(body / 4) * 4;
}

/**
 * Header bytes of a packet carrying these extensions (no CSRCs, no padding): the sender's
 * payload budget is MTU − rtpHeaderSize(extensions). Depends only on which extensions
 * are present, not their values, so one budget holds for every packet of a stream.
 */
export function rtpHeaderSize(extensions: RtpHeaderExtensions): number {
  return RTP_FIXED_HEADER_BYTES + extensionBlockSize(extensions);
}

export interface SerializeRtpOptions {
  /**
   * RFC 3550 §5.1 padding octets to append (1..255, the last one holds the count). For
   * padding-only probe packets and for tests; media packets normally carry none.
   */
  paddingBytes?: number;
}

export function serializeRtp(p: RtpPacket, opts: SerializeRtpOptions = {}): Buffer {
  checkUint(p.payloadType, 7, 'payload type');
  checkUint(p.sequenceNumber, 16, 'sequence number');
  checkUint(p.timestamp, 32, 'timestamp');
  checkUint(p.ssrc, 32, 'ssrc');
  const pad = opts.paddingBytes ?? 0;
  if (!Number.isInteger(pad) || pad < 0 || pad > 255) throw new RangeError(`padding must be 0..255 bytes, got ${pad}`);

  const elems = present(p.extensions);
  const extBytes = extensionBlockSize(p.extensions);
  const headerBytes = RTP_FIXED_HEADER_BYTES + extBytes;
  const buf = Buffer.alloc(headerBytes + p.payload.length + pad);
  buf[0] = (RTP_VERSION << 6) | (pad > 0 ? 0x20 : 0) | (extBytes > 0 ? 0x10 : 0);
  buf[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  buf.writeUInt16BE(p.sequenceNumber, 2);
  buf.writeUInt32BE(p.timestamp, 4);
  buf.writeUInt32BE(p.ssrc, 8);
  if (extBytes > 0) {
    let o = RTP_FIXED_HEADER_BYTES;
    buf.writeUInt16BE(ONE_BYTE_PROFILE, o);
    buf.writeUInt16BE((extBytes - 4) / 4, o + 2);
    o += 4;
    for (const k of elems) {
      // RFC 8285 §4.2: the 4-bit length field is (data bytes − 1).
      buf[o] = (k.id << 4) | (k.size - 1);
      k.write(buf, o + 1, p.extensions);
      o += 1 + k.size;
    }
    // The rest of the block stays 0: padding bytes that the receiver skips (§4.2).
  }
  p.payload.copy(buf, headerBytes);
  if (pad > 0) buf[buf.length - 1] = pad;
  return buf;
}

/**
 * Parses one RTP packet. The payload is a copy, so callers may keep it after the
 * receive buffer is reused. Unknown extension ids, known ids with an unexpected length,
 * and extension blocks of other profiles are ignored (RFC 3550 §5.3.1, RFC 8285 §4.1).
 */
export function parseRtp(buf: Buffer): RtpPacket {
  const len = buf.length;
  if (len < RTP_FIXED_HEADER_BYTES) throw new RtpParseError(`RTP packet truncated: ${len} bytes < 12-byte header`);
  const b0 = buf[0];
  const version = b0 >> 6;
  if (version !== RTP_VERSION) throw new RtpParseError(`RTP version ${version}, expected 2`);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = buf[1];

  // CSRCs only matter to mixers; we have none, so skip them (RFC 3550 §5.1).
  let offset = RTP_FIXED_HEADER_BYTES + 4 * csrcCount;
  if (offset > len) throw new RtpParseError(`RTP packet truncated inside the CSRC list (${csrcCount} CSRCs)`);

  const extensions: RtpHeaderExtensions = {};
  if (hasExtension) {
    if (offset + 4 > len) throw new RtpParseError('RTP packet truncated inside the extension header');
    const profile = buf.readUInt16BE(offset);
    const end = offset + 4 + 4 * buf.readUInt16BE(offset + 2);
    if (end > len) throw new RtpParseError(`RTP header extension runs past the packet (${end} > ${len})`);
    if (profile === ONE_BYTE_PROFILE) parseOneByte(buf, offset + 4, end, extensions);
    else if ((profile & TWO_BYTE_PROFILE_MASK) === TWO_BYTE_PROFILE) parseTwoByte(buf, offset + 4, end, extensions);
    offset = end;
  }

  let payloadEnd = len;
  if (hasPadding) {
    // RFC 3550 §5.1: the last octet counts the padding, itself included, so it is ≥ 1.
    if (payloadEnd <= offset) throw new RtpParseError('RTP padding bit set but no room for the padding count');
    const count = buf[len - 1];
    if (count === 0) throw new RtpParseError('RTP padding count is 0');
    if (count > payloadEnd - offset) throw new RtpParseError(`RTP padding (${count}) larger than the payload area`);
    payloadEnd -= count;
  }

  return {
    payloadType: b1 & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    marker: (b1 & 0x80) !== 0,
    extensions,
    payload: Buffer.from(buf.subarray(offset, payloadEnd)),
  };
}

function parseOneByte(buf: Buffer, start: number, end: number, out: RtpHeaderExtensions): void {
  let o = start;
  while (o < end) {
    const b = buf[o];
    // RFC 8285 §4.2: zero bytes are padding, between or after elements.
    if (b === 0) {
      o++;
      continue;
    }
    const id = b >> 4;
    const size = (b & 0x0f) + 1;
    // id 15: stop processing, keep what came before (§4.2). A non-zero byte with id 0 is
    // not valid padding either; libwebrtc (RtpPacket::ParseBuffer) stops there too.
    if (id === ONE_BYTE_RESERVED_ID || id === 0) return;
    if (o + 1 + size > end) throw new RtpParseError(`RTP extension element id ${id} (${size} bytes) runs past its block`);
    store(buf, id, o + 1, size, out);
    o += 1 + size;
  }
}

function parseTwoByte(buf: Buffer, start: number, end: number, out: RtpHeaderExtensions): void {
  let o = start;
  while (o < end) {
    const id = buf[o];
    if (id === 0) {
      o++; // padding (RFC 8285 §4.3)
      continue;
    }
    if (o + 2 > end) throw new RtpParseError(`RTP two-byte extension element id ${id} truncated`);
    const size = buf[o + 1];
    if (o + 2 + size > end) throw new RtpParseError(`RTP extension element id ${id} (${size} bytes) runs past its block`);
    store(buf, id, o + 2, size, out);
    o += 2 + size;
  }
}

function store(buf: Buffer, id: number, offset: number, size: number, out: RtpHeaderExtensions): void {
  const k = KNOWN.find((e) => e.id === id);
  // A known id with the wrong size is someone else's mapping: ignore it as libwebrtc does.
  if (k && k.size === size) k.read(buf, offset, out);
}

function checkUint(v: number, bits: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new RangeError(`RTP ${what} must be an unsigned ${bits}-bit integer, got ${v}`);
  }
}
