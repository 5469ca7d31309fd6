/**
 * RTCP: RFC 3550 §6.4 SR/RR, §6.6 BYE, RFC 4585 §6.1/§6.4 payload-specific feedback
 * (PT 206) FMT 15 "application layer feedback", and compound packets (RFC 3550 §6.1).
 *
 * Common header of every RTCP packet (RFC 3550 §6.4.1):
 *   V=2 (2 bits) | P (1) | count or FMT (5) | PT (8) | length in 32-bit words − 1 (16)
 * The length field is what lets a parser skip a packet it does not understand, so
 * unknown types come back as { type: 'unknown' } and the walk goes on.
 *
 * Application-layer feedback is carried the way REMB is (draft-alvestrand-rmcat-remb
 * §2.2): PSFB FMT 15, sender SSRC, media SSRC, then an FCI that starts with a 4-byte
 * ASCII identifier ('REMB' there, 'TBED' for this testbed's "I-frame received"
 * message, DESIGN.md §2). The FCI must fill whole 32-bit words (the length field
 * counts words and RFC 4585 §6.1 gives no finer size), so `data` must be a multiple of
 * 4 bytes: a message carries its own inner lengths, as REMB does.
 *
 * We parse compounds leniently about order (RFC 5506 reduced-size RTCP allows a
 * feedback packet without a leading SR/RR) but strictly about structure: a wrong
 * version, a length that runs past the buffer, a count that does not fit the packet,
 * or impossible padding raises RtcpParseError. Nothing is ever read out of bounds.
 */
import type { ReportBlock, RtcpPacket } from './types';

export class RtcpParseError extends Error {
  override name = 'RtcpParseError';
}

export const RTCP_PT = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  RTPFB: 205,
  PSFB: 206,
} as const;

/** RFC 4585 §6.3: PSFB FMT 15 = application layer feedback. */
export const PSFB_FMT_AFB = 15;
/** The identifier of our own application-layer feedback (DESIGN.md §2). */
export const TESTBED_FEEDBACK_ID = 'TBED';

const HEADER_BYTES = 4;
const REPORT_BLOCK_BYTES = 24;
/** SR sender info: NTP sec, NTP frac, RTP timestamp, packet count, octet count. */
const SENDER_INFO_BYTES = 20;
/** 5-bit count field. */
const MAX_COUNT = 31;
/** RFC 3550 Appendix A.3: cumulative loss is a signed 24-bit value, clamped on overflow. */
const CUMULATIVE_LOST_MAX = 0x7fffff;
const CUMULATIVE_LOST_MIN = -0x800000;

// ---------------------------------------------------------------------------
// Parsing

export function parseRtcpCompound(buf: Buffer): RtcpPacket[] {
  if (buf.length === 0) throw new RtcpParseError('empty RTCP packet');
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER_BYTES) throw new RtcpParseError(`RTCP header truncated at byte ${off}`);
    const b0 = buf[off];
    const version = b0 >> 6;
    if (version !== 2) throw new RtcpParseError(`RTCP version ${version} at byte ${off}, expected 2`);
    const count = b0 & 0x1f;
    const pt = buf[off + 1];
    const size = (buf.readUInt16BE(off + 2) + 1) * 4;
    const end = off + size;
    if (end > buf.length) throw new RtcpParseError(`RTCP packet (PT ${pt}) of ${size} bytes runs past the buffer`);
    let bodyEnd = end;
    if (b0 & 0x20) {
      // RFC 3550 §6.4.1: the last octet counts the padding, itself included.
      const pad = buf[end - 1];
      if (pad === 0 || pad > size - HEADER_BYTES) throw new RtcpParseError(`RTCP padding count ${pad} invalid`);
      bodyEnd -= pad;
    }
    out.push(parseOne(buf.subarray(off + HEADER_BYTES, bodyEnd), pt, count));
    off = end;
  }
  return out;
}

function parseOne(body: Buffer, pt: number, count: number): RtcpPacket {
  switch (pt) {
    case RTCP_PT.SR: {
      need(body, 4 + SENDER_INFO_BYTES + count * REPORT_BLOCK_BYTES, `SR with ${count} report blocks`);
      return {
        type: 'sr',
        ssrc: body.readUInt32BE(0),
        ntpSec: body.readUInt32BE(4),
        ntpFrac: body.readUInt32BE(8),
        rtpTimestamp: body.readUInt32BE(12),
        packetCount: body.readUInt32BE(16),
        octetCount: body.readUInt32BE(20),
        // Anything after the blocks is a profile-specific extension (§6.4.1): ignored.
        reports: readBlocks(body, 4 + SENDER_INFO_BYTES, count),
      };
    }
    case RTCP_PT.RR:
      need(body, 4 + count * REPORT_BLOCK_BYTES, `RR with ${count} report blocks`);
      return { type: 'rr', ssrc: body.readUInt32BE(0), reports: readBlocks(body, 4, count) };
    case RTCP_PT.BYE: {
      need(body, 4 * count, `BYE with ${count} SSRCs`);
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(body.readUInt32BE(4 * i));
      const r = 4 * count;
      // §6.6: an optional length-prefixed reason follows the SSRC list; zero bytes after
      // it (or instead of it) are padding to the 32-bit boundary.
      if (r < body.length && body[r] !== 0) {
        const n = body[r];
        need(body, r + 1 + n, `BYE reason of ${n} bytes`);
        return { type: 'bye', ssrcs, reason: body.subarray(r + 1, r + 1 + n).toString('utf8') };
      }
      return { type: 'bye', ssrcs };
    }
    case RTCP_PT.PSFB: {
      need(body, 8, 'PSFB sender and media SSRC');
      if (count !== PSFB_FMT_AFB) return { type: 'unknown', packetType: pt, fmt: count };
      const fci = body.subarray(8);
      // An AFB without a 4-character identifier is some other application's format.
      if (fci.length < 4 || !isPrintableAscii(fci.subarray(0, 4))) return { type: 'unknown', packetType: pt, fmt: count };
      return {
        type: 'app-feedback',
        senderSsrc: body.readUInt32BE(0),
        mediaSsrc: body.readUInt32BE(4),
        identifier: fci.subarray(0, 4).toString('latin1'),
        data: Buffer.from(fci.subarray(4)),
      };
    }
    default:
      return { type: 'unknown', packetType: pt, fmt: count };
  }
}

function readBlocks(body: Buffer, off: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++, off += REPORT_BLOCK_BYTES) {
    const lossWord = body.readUInt32BE(off + 4);
    const cum = lossWord & 0xffffff;
    blocks.push({
      ssrc: body.readUInt32BE(off),
      fractionLost: lossWord >>> 24,
      cumulativeLost: cum & 0x800000 ? cum - 0x1000000 : cum,
      highestSeq: body.readUInt32BE(off + 8),
      jitter: body.readUInt32BE(off + 12),
      lsr: body.readUInt32BE(off + 16),
      dlsr: body.readUInt32BE(off + 20),
    });
  }
  return blocks;
}

function need(body: Buffer, n: number, what: string): void {
  if (body.length < n) throw new RtcpParseError(`RTCP ${what} needs ${n} bytes, packet has ${body.length}`);
}

function isPrintableAscii(b: Buffer): boolean {
  return b.every((c) => c >= 0x20 && c <= 0x7e);
}

/**
 * RFC 5761 §4 demultiplexing of RTP and RTCP on one port: the second octet of RTCP is a
 * packet type in 192..223 (RTP payload types 64..95 with the marker bit are avoided).
 */
export function isRtcp(buf: Buffer): boolean {
  return buf.length >= HEADER_BYTES && buf[0] >> 6 === 2 && buf[1] >= 192 && buf[1] <= 223;
}

// ---------------------------------------------------------------------------
// Serialization

export function serializeRtcpCompound(pkts: readonly RtcpPacket[]): Buffer {
  return Buffer.concat(pkts.map(serializeRtcp));
}

export function serializeRtcp(p: RtcpPacket): Buffer {
  switch (p.type) {
    case 'sr': {
      checkCount(p.reports.length, 'report blocks');
      const b = header(RTCP_PT.SR, p.reports.length, 4 + SENDER_INFO_BYTES + p.reports.length * REPORT_BLOCK_BYTES);
      b.writeUInt32BE(u32(p.ssrc, 'ssrc'), 4);
      b.writeUInt32BE(u32(p.ntpSec, 'NTP seconds'), 8);
      b.writeUInt32BE(u32(p.ntpFrac, 'NTP fraction'), 12);
      b.writeUInt32BE(u32(p.rtpTimestamp, 'RTP timestamp'), 16);
      b.writeUInt32BE(u32(p.packetCount, 'packet count'), 20);
      b.writeUInt32BE(u32(p.octetCount, 'octet count'), 24);
      writeBlocks(b, 28, p.reports);
      return b;
    }
    case 'rr': {
      checkCount(p.reports.length, 'report blocks');
      const b = header(RTCP_PT.RR, p.reports.length, 4 + p.reports.length * REPORT_BLOCK_BYTES);
      b.writeUInt32BE(u32(p.ssrc, 'ssrc'), 4);
      writeBlocks(b, 8, p.reports);
      return b;
    }
    case 'bye': {
      checkCount(p.ssrcs.length, 'SSRCs');
      // An empty reason is sent as none: on the wire the two are indistinguishable.
      const reason = p.reason ? Buffer.from(p.reason, 'utf8') : null;
      if (reason && reason.length > 255) throw new RangeError(`BYE reason is ${reason.length} bytes, at most 255`);
      const reasonBytes = reason ? Math.ceil((1 + reason.length) / 4) * 4 : 0;
      const b = header(RTCP_PT.BYE, p.ssrcs.length, 4 * p.ssrcs.length + reasonBytes);
      p.ssrcs.forEach((s, i) => b.writeUInt32BE(u32(s, 'ssrc'), 4 + 4 * i));
      if (reason) {
        const o = HEADER_BYTES + 4 * p.ssrcs.length;
        b[o] = reason.length;
        reason.copy(b, o + 1);
      }
      return b;
    }
    case 'app-feedback': {
      if (p.identifier.length !== 4 || !isPrintableAscii(Buffer.from(p.identifier, 'latin1'))) {
        throw new RangeError(`feedback identifier must be 4 printable ASCII characters, got '${p.identifier}'`);
      }
      if (p.data.length % 4 !== 0) {
        throw new RangeError(`feedback data must fill whole 32-bit words, got ${p.data.length} bytes`);
      }
      const b = header(RTCP_PT.PSFB, PSFB_FMT_AFB, 8 + 4 + p.data.length);
      b.writeUInt32BE(u32(p.senderSsrc, 'sender ssrc'), 4);
      b.writeUInt32BE(u32(p.mediaSsrc, 'media ssrc'), 8);
      b.write(p.identifier, 12, 'latin1');
      p.data.copy(b, 16);
      return b;
    }
    case 'unknown':
      throw new RangeError(`cannot serialize an uninterpreted RTCP packet (PT ${p.packetType})`);
  }
}

function header(pt: number, count: number, bodyBytes: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES + bodyBytes);
  b[0] = (2 << 6) | count;
  b[1] = pt;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  return b;
}

function writeBlocks(b: Buffer, off: number, reports: readonly ReportBlock[]): void {
  for (const r of reports) {
    if (!Number.isInteger(r.fractionLost) || r.fractionLost < 0 || r.fractionLost > 255) {
      throw new RangeError(`fraction lost must be 0..255, got ${r.fractionLost}`);
    }
    if (!Number.isInteger(r.cumulativeLost)) throw new RangeError(`cumulative lost must be an integer, got ${r.cumulativeLost}`);
    const cum = Math.min(CUMULATIVE_LOST_MAX, Math.max(CUMULATIVE_LOST_MIN, r.cumulativeLost));
    b.writeUInt32BE(u32(r.ssrc, 'report ssrc'), off);
    b.writeUInt32BE(((r.fractionLost << 24) | (cum & 0xffffff)) >>> 0, off + 4);
    b.writeUInt32BE(u32(r.highestSeq, 'highest sequence number'), off + 8);
    b.writeUInt32BE(u32(r.jitter, 'jitter'), off + 12);
    b.writeUInt32BE(u32(r.lsr, 'LSR'), off + 16);
    b.writeUInt32BE(u32(r.dlsr, 'DLSR'), off + 20);
    off += REPORT_BLOCK_BYTES;
  }
}

function checkCount(n: number, what: string): void {
  // libwebrtc splits longer lists over several packets; we never need more than two.
  if (n > MAX_COUNT) throw new RangeError(`at most ${MAX_COUNT} ${what} per RTCP packet, got ${n}`);
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`RTCP ${what} must be a uint32, got ${v}`);
  return v;
}

// ---------------------------------------------------------------------------
// NTP time (RFC 3550 §4: 64-bit NTP format, seconds since 1900-01-01 + 32-bit fraction)

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 868. */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 0x1_0000_0000;

export interface NtpTime {
  /** Seconds since 1900, modulo 2^32 (era 0 ends in 2036; RFC 5905 §6). */
  sec: number;
  /** Fraction of a second in units of 2^-32 s. */
  frac: number;
}

export function ntpFromMs(unixMs: number): NtpTime {
  if (!Number.isFinite(unixMs)) throw new RangeError(`NTP: time must be finite, got ${unixMs}`);
  let s = Math.floor(unixMs / 1000);
  let frac = Math.round(((unixMs - s * 1000) * TWO_32) / 1000);
  if (frac >= TWO_32) {
    frac -= TWO_32;
    s += 1;
  }
  const sec = (((s + NTP_UNIX_OFFSET_S) % TWO_32) + TWO_32) % TWO_32;
  return { sec, frac };
}

/** Unix ms of an NTP time in era 0 (the inverse of ntpFromMs until 2036). */
export function msFromNtp(ntp: NtpTime): number {
  return (ntp.sec - NTP_UNIX_OFFSET_S) * 1000 + (ntp.frac * 1000) / TWO_32;
}

/**
 * The middle 32 bits of an NTP timestamp (16.16 fixed-point seconds): the compact form
 * used by LSR and by the receiver's arrival time in the RTT formula (RFC 3550 §6.4.1).
 */
export function ntpMiddle32(ntp: NtpTime): number;
export function ntpMiddle32(sec: number, frac: number): number;
export function ntpMiddle32(a: NtpTime | number, b?: number): number {
  const sec = typeof a === 'number' ? a : a.sec;
  const frac = typeof a === 'number' ? (b ?? 0) : a.frac;
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

/** DLSR field (units of 1/65536 s) for a delay in ms, saturating at the 32-bit maximum. */
export function dlsrFromMs(ms: number): number {
  return Math.min(0xffffffff, Math.max(0, Math.round((ms * 65536) / 1000)));
}

/** ms of a compact (16.16) NTP interval. */
export function compactNtpToMs(v: number): number {
  return ((v >>> 0) * 1000) / 65536;
}

/**
 * Round-trip time from a report block (RFC 3550 §6.4.1): A − LSR − DLSR, all in 16.16
 * seconds and modulo 2^32, A being the middle 32 bits of the block's arrival NTP time.
 * Null when LSR is 0: the peer has not received an SR yet, so there is nothing to time.
 * A result that comes out negative (a clock step, or rounding at tiny RTTs on one host)
 * is reported as 0 ms; libwebrtc clamps to a minimum of 1 ms instead, which would hide
 * the sub-millisecond loopback RTTs this testbed measures.
 */
export function rttFromReportBlock(arrivalNtpMiddle32: number, lsr: number, dlsr: number): number | null {
  if (lsr === 0) return null;
  const rtt = (arrivalNtpMiddle32 - lsr - dlsr) >>> 0;
  if (rtt >= 0x8000_0000) return 0;
  return compactNtpToMs(rtt);
}
