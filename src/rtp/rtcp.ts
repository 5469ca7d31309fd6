/**
 * RTCP: RFC 3550 §6.4 SR/RR, §6.6 BYE, RFC 4585 §6.1/§6.4 payload-specific feedback
 * (PT 206) FMT 15 "application layer feedback", RFC 4585 §6.2.1 generic NACK (RTPFB
 * FMT 1), §6.3.1 PLI (PSFB FMT 1), transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, RTPFB FMT 15; see twcc.ts),
 * and compound packets (RFC 3550 §6.1).
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
import {
  RTCP_MAX_PACKET_BYTES,
  TWCC_DELTA_TICKS_MAX,
  TWCC_DELTA_TICKS_MIN,
  TWCC_DELTA_TICK_MS,
  TWCC_FMT,
  TWCC_MAX_STATUS_COUNT,
  TWCC_REFERENCE_TICKS_MAX,
  TWCC_REFERENCE_TICKS_MIN,
  TWCC_REFERENCE_TICK_MS,
  TWCC_SYMBOL,
  TwccChunkWriter,
  twccPacketBytes,
  twccSymbolForDelta,
} from './twcc';
import type { ReportBlock, RtcpPacket, TwccFeedback, TwccPacketStatus } from './types';

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
/** RFC 4585 §6.3.1: PSFB FMT 1 = picture loss indication. */
export const PSFB_FMT_PLI = 1;
/** RFC 4585 §6.2.1: RTPFB FMT 1 = generic NACK. */
export const RTPFB_FMT_NACK = 1;
/** draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: RTPFB FMT 15. */
export const RTPFB_FMT_TWCC = TWCC_FMT;

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

/** A received compound, or null when it does not parse (a peer's garbage is dropped, not fatal). */
export function tryParseRtcpCompound(buf: Buffer): RtcpPacket[] | null {
  try {
    return parseRtcpCompound(buf);
  } catch {
    return null;
  }
}

/**
 * At most this many transport-wide packet statuses in one compound. The format allows
 * 65,535 per feedback, and a run-length chunk reports 8,191 of them in two bytes, so
 * without a bound a 1,480-byte datagram of 37 feedbacks made 2.4 M entries (≈ 300 ms of
 * parsing, hundreds of MB: a peer could stall the sender's event loop). A real feedback
 * covers the packets since the previous one (libwebrtc sends one at least every 250 ms;
 * at 20 Mbit/s that is < 600 packets), and the sender's history holds 9,600 packets
 * (send-history.ts), so statuses beyond it could match nothing. 2^14 stays above both.
 */
export const MAX_TWCC_STATUSES_PER_COMPOUND = 1 << 14;

export function parseRtcpCompound(buf: Buffer): RtcpPacket[] {
  if (buf.length === 0) throw new RtcpParseError('empty RTCP packet');
  const out: RtcpPacket[] = [];
  const budget = { twccStatuses: MAX_TWCC_STATUSES_PER_COMPOUND };
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
    out.push(parseOne(buf.subarray(off + HEADER_BYTES, bodyEnd), pt, count, budget));
    off = end;
  }
  return out;
}

function parseOne(body: Buffer, pt: number, count: number, budget: { twccStatuses: number }): RtcpPacket {
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
    case RTCP_PT.RTPFB: {
      // RFC 4585 §6.1: every feedback message starts with the sender and media SSRC.
      need(body, 8, 'RTPFB sender and media SSRC');
      if (count === RTPFB_FMT_NACK) return parseNack(body);
      if (count === RTPFB_FMT_TWCC) return parseTwcc(body, budget);
      return { type: 'unknown', packetType: pt, fmt: count };
    }
    case RTCP_PT.PSFB: {
      need(body, 8, 'PSFB sender and media SSRC');
      // RFC 4585 §6.3.1 says a PLI has no FCI; like libwebrtc (Pli::Parse) we ignore any.
      if (count === PSFB_FMT_PLI) return { type: 'pli', senderSsrc: body.readUInt32BE(0), mediaSsrc: body.readUInt32BE(4) };
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

/**
 * RFC 4585 §6.2.1: the FCI is one or more 32-bit items, PID (16) then BLP (16); bit i
 * (least significant first) of BLP reports PID + i + 1 lost as well. Like libwebrtc
 * (rtcp_packet/nack.cc) we require at least one item and ignore a trailing partial one.
 */
function parseNack(body: Buffer): RtcpPacket {
  const fci = body.subarray(8);
  if (fci.length < 4) throw new RtcpParseError('generic NACK without a PID/BLP item');
  const seqs: number[] = [];
  for (let off = 0; off + 4 <= fci.length; off += 4) {
    const pid = fci.readUInt16BE(off);
    const blp = fci.readUInt16BE(off + 2);
    seqs.push(pid);
    for (let i = 0; i < 16; i++) if (blp & (1 << i)) seqs.push((pid + i + 1) & 0xffff);
  }
  return { type: 'nack', senderSsrc: body.readUInt32BE(0), mediaSsrc: body.readUInt32BE(4), seqs };
}

/**
 * Transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1; the
 * layout and the draft's inconsistencies are described in twcc.ts). Chunks are read
 * until they cover the packet status count (symbols past it in the last chunk are
 * ignored), then one receive delta per received packet; what follows is padding. A
 * status count of 0 and the reserved symbol 11 are refused, as libwebrtc does
 * (TransportFeedback::Parse).
 */
function parseTwcc(body: Buffer, budget: { twccStatuses: number }): TwccFeedback {
  need(body, 16, 'transport-wide feedback header');
  const statusCount = body.readUInt16BE(10);
  if (statusCount === 0) throw new RtcpParseError('transport-wide feedback with a packet status count of 0');
  if (statusCount > budget.twccStatuses) {
    throw new RtcpParseError(`transport-wide feedback for ${statusCount} packets: one compound may report at most ${MAX_TWCC_STATUSES_PER_COMPOUND}`);
  }
  budget.twccStatuses -= statusCount;
  const symbols: number[] = [];
  let off = 16;
  while (symbols.length < statusCount) {
    need(body, off + 2, `transport-wide feedback chunks for ${statusCount} packets`);
    const chunk = body.readUInt16BE(off);
    off += 2;
    const left = statusCount - symbols.length;
    if ((chunk & 0x8000) === 0) {
      // §3.1.3 run length chunk: T=0 | S (2) | run length (13).
      const symbol = (chunk >> 13) & 0x3;
      const n = Math.min(chunk & 0x1fff, left);
      if (symbol === TWCC_SYMBOL.RESERVED && n > 0) throw new RtcpParseError('transport-wide feedback run of the reserved symbol 11');
      for (let i = 0; i < n; i++) symbols.push(symbol);
    } else if ((chunk & 0x4000) === 0) {
      // §3.1.4 status vector chunk, S=0: 14 one-bit symbols (1 = received, small delta).
      for (let i = 0; i < Math.min(14, left); i++) symbols.push((chunk >> (13 - i)) & 0x1);
    } else {
      // §3.1.4 status vector chunk, S=1: 7 two-bit symbols.
      for (let i = 0; i < Math.min(7, left); i++) {
        const symbol = (chunk >> (2 * (6 - i))) & 0x3;
        if (symbol === TWCC_SYMBOL.RESERVED) throw new RtcpParseError('transport-wide feedback with the reserved symbol 11');
        symbols.push(symbol);
      }
    }
  }
  const baseSeq = body.readUInt16BE(8);
  const referenceTicks = body.readIntBE(12, 3);
  // §3.1.5: the first delta is relative to the reference time, the next ones to the
  // previous received packet; all in 250 µs ticks.
  let ticks = referenceTicks * (TWCC_REFERENCE_TICK_MS / TWCC_DELTA_TICK_MS);
  const packets: TwccPacketStatus[] = [];
  for (let i = 0; i < symbols.length; i++) {
    const seq = (baseSeq + i) & 0xffff;
    if (symbols[i] === TWCC_SYMBOL.NOT_RECEIVED) {
      packets.push({ seq, receivedAtMs: null });
      continue;
    }
    if (symbols[i] === TWCC_SYMBOL.SMALL_DELTA) {
      need(body, off + 1, `transport-wide feedback receive delta of packet ${seq}`);
      ticks += body[off];
      off += 1;
    } else {
      need(body, off + 2, `transport-wide feedback receive delta of packet ${seq}`);
      ticks += body.readInt16BE(off);
      off += 2;
    }
    packets.push({ seq, receivedAtMs: ticks * TWCC_DELTA_TICK_MS });
  }
  return {
    type: 'twcc',
    senderSsrc: body.readUInt32BE(0),
    mediaSsrc: body.readUInt32BE(4),
    baseSeq,
    referenceTimeMs: referenceTicks * TWCC_REFERENCE_TICK_MS,
    feedbackCount: body[15],
    packets,
  };
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
    case 'nack':
      return serializeNack(p.senderSsrc, p.mediaSsrc, p.seqs);
    case 'pli': {
      const b = header(RTCP_PT.PSFB, PSFB_FMT_PLI, 8);
      b.writeUInt32BE(u32(p.senderSsrc, 'sender ssrc'), 4);
      b.writeUInt32BE(u32(p.mediaSsrc, 'media ssrc'), 8);
      return b;
    }
    case 'twcc':
      return serializeTwcc(p);
    case 'unknown':
      throw new RangeError(`cannot serialize an uninterpreted RTCP packet (PT ${p.packetType})`);
  }
}

/**
 * RFC 4585 §6.2.1, packed as libwebrtc does (rtcp_packet/nack.cc, Nack::Pack): in the
 * order given, each item's PID is the first sequence number not yet packed and its BLP
 * takes the following ones while they fall within PID + 1..PID + 16. Give the numbers in
 * ascending (wrap-aware) order for the tightest packing; parsing returns them in wire
 * order, so such a list round-trips exactly.
 */
function serializeNack(senderSsrc: number, mediaSsrc: number, seqs: readonly number[]): Buffer {
  if (seqs.length === 0) throw new RangeError('a generic NACK needs at least one sequence number');
  const items: [number, number][] = [];
  let i = 0;
  while (i < seqs.length) {
    const pid = u16(seqs[i++], 'NACK sequence number');
    let blp = 0;
    while (i < seqs.length) {
      const shift = (u16(seqs[i], 'NACK sequence number') - pid - 1) & 0xffff;
      if (shift > 15) break;
      blp |= 1 << shift;
      i++;
    }
    items.push([pid, blp]);
  }
  const b = header(RTCP_PT.RTPFB, RTPFB_FMT_NACK, checkedBody(8 + 4 * items.length, 'generic NACK'));
  b.writeUInt32BE(u32(senderSsrc, 'sender ssrc'), 4);
  b.writeUInt32BE(u32(mediaSsrc, 'media ssrc'), 8);
  items.forEach(([pid, blp], k) => {
    b.writeUInt16BE(pid, 12 + 4 * k);
    b.writeUInt16BE(blp, 14 + 4 * k);
  });
  return b;
}

/**
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1. `packets` must run from
 * `baseSeq` without gaps (modulo 2^16); receive times are rounded to the 250 µs grid,
 * each delta taken from the previous received packet's (rounded) time and the first
 * from the reference time. A delta needs the large symbol when it is negative or above
 * 63.75 ms and cannot be sent at all beyond ±8192 ms (§3.1.5: use a new feedback
 * message). Chunks are chosen as libwebrtc does (TwccChunkWriter); the packet ends with
 * zero padding to 32 bits, counted by the length field, P bit clear, as in the draft's
 * figure and libwebrtc's TransportFeedback::Create.
 */
function serializeTwcc(p: TwccFeedback): Buffer {
  const n = p.packets.length;
  if (n === 0 || n > TWCC_MAX_STATUS_COUNT) {
    throw new RangeError(`transport-wide feedback must carry 1..${TWCC_MAX_STATUS_COUNT} packet statuses, got ${n}`);
  }
  const baseSeq = u16(p.baseSeq, 'transport-wide base sequence number');
  if (!Number.isInteger(p.feedbackCount) || p.feedbackCount < 0 || p.feedbackCount > 0xff) {
    throw new RangeError(`feedback packet count must be 0..255, got ${p.feedbackCount}`);
  }
  const refTicks = p.referenceTimeMs / TWCC_REFERENCE_TICK_MS;
  if (!Number.isInteger(refTicks) || refTicks < TWCC_REFERENCE_TICKS_MIN || refTicks > TWCC_REFERENCE_TICKS_MAX) {
    throw new RangeError(`reference time must be a multiple of 64 ms within the signed 24-bit range, got ${p.referenceTimeMs}`);
  }
  const chunks = new TwccChunkWriter();
  const deltas: number[] = [];
  let lastTicks = refTicks * (TWCC_REFERENCE_TICK_MS / TWCC_DELTA_TICK_MS);
  let deltaBytes = 0;
  for (let i = 0; i < n; i++) {
    const { seq, receivedAtMs } = p.packets[i];
    if (seq !== ((baseSeq + i) & 0xffff)) {
      throw new RangeError(`transport-wide feedback packet ${i} has seq ${seq}, expected ${(baseSeq + i) & 0xffff}`);
    }
    if (receivedAtMs === null) {
      chunks.add(TWCC_SYMBOL.NOT_RECEIVED);
      continue;
    }
    if (!Number.isFinite(receivedAtMs)) throw new RangeError(`receive time of packet ${seq} must be finite, got ${receivedAtMs}`);
    const ticks = Math.round(receivedAtMs / TWCC_DELTA_TICK_MS);
    const delta = ticks - lastTicks;
    if (delta < TWCC_DELTA_TICKS_MIN || delta > TWCC_DELTA_TICKS_MAX) {
      throw new RangeError(`receive delta of packet ${seq} (${delta * TWCC_DELTA_TICK_MS} ms) exceeds the 16-bit range`);
    }
    const symbol = twccSymbolForDelta(delta);
    chunks.add(symbol);
    deltas.push(delta);
    deltaBytes += symbol === TWCC_SYMBOL.SMALL_DELTA ? 1 : 2;
    lastTicks = ticks;
  }
  const words = chunks.finish();
  const size = twccPacketBytes(words.length, deltaBytes);
  const b = header(RTCP_PT.RTPFB, RTPFB_FMT_TWCC, checkedBody(size - HEADER_BYTES, 'transport-wide feedback'));
  b.writeUInt32BE(u32(p.senderSsrc, 'sender ssrc'), 4);
  b.writeUInt32BE(u32(p.mediaSsrc, 'media ssrc'), 8);
  b.writeUInt16BE(baseSeq, 12);
  b.writeUInt16BE(n, 14);
  b.writeIntBE(refTicks, 16, 3);
  b[19] = p.feedbackCount;
  let off = 20;
  for (const w of words) {
    b.writeUInt16BE(w, off);
    off += 2;
  }
  for (const d of deltas) {
    if (twccSymbolForDelta(d) === TWCC_SYMBOL.SMALL_DELTA) b[off++] = d;
    else {
      b.writeInt16BE(d, off);
      off += 2;
    }
  }
  // The rest of the buffer is already the zero padding.
  return b;
}

function checkedBody(bodyBytes: number, what: string): number {
  if (HEADER_BYTES + bodyBytes > RTCP_MAX_PACKET_BYTES) {
    throw new RangeError(`${what} of ${HEADER_BYTES + bodyBytes} bytes exceeds the RTCP length field`);
  }
  return bodyBytes;
}

function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`RTCP ${what} must be a uint16, got ${v}`);
  return v;
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
