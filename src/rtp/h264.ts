/**
 * H.264 over RTP, RFC 6184, packetization-mode=1 (non-interleaved, §6.3): single NAL unit
 * packets (§5.6), STAP-A (§5.7.1) and FU-A (§5.8). STAP-B, MTAP and FU-B belong to the
 * interleaved mode and are rejected.
 *
 * Packetizer: libwebrtc's RtpPacketizerH264 (modules/rtp_rtcp/source/rtp_format_h264.cc)
 * in NonInterleaved mode, with every packet sharing one payload budget:
 *   - a NAL unit larger than the budget is sent as FU-A, its payload (the NAL minus its
 *     1-byte header) split into the fewest fragments that fit, of sizes differing by at
 *     most one byte, the larger ones last (RtpPacketizer::SplitAboutEqually);
 *   - otherwise the NAL starts an aggregation run: following NAL units are added while
 *     the STAP-A still fits (PacketizeStapA). A run of one is sent as a single NAL unit
 *     packet. So SPS+PPS(+SEI) ride in one STAP-A ahead of a large IDR slice, a one-slice
 *     P-frame is one single-NAL packet, and a small IDR frame may be one STAP-A.
 * Differences from libwebrtc, on purpose:
 *   - the STAP-A header's NRI is the maximum over the aggregated NAL units and F is
 *     their OR, as RFC 6184 §5.7 requires; libwebrtc copies the first unit's F|NRI
 *     (equal in practice: SPS has NRI 3);
 *   - no first/last-packet size reductions (we have no per-frame extra header bytes);
 *   - bytes before the first start code must be zero, otherwise the input is not
 *     Annex B and we throw (libwebrtc's H264::FindNaluIndices silently skips them).
 *
 * Start codes: Annex B (H.264 B.2) allows 3-byte start codes and zero bytes after a NAL
 * unit; x264 writes 4-byte codes before SPS, PPS and the first NAL of a picture and
 * 3-byte codes before the others. The RTP payload carries no start codes, so they
 * cannot survive the trip: the depacketizer writes a 4-byte start code before every
 * NAL unit (as libwebrtc's and FFmpeg's depacketizers do), which is what
 * normalizeAnnexB(au) gives for the sender's access unit. Trailing zero bytes of a NAL
 * are B.2 trailing_zero_8bits, never part of the NAL (a NAL ends in a non-zero byte, its
 * rbsp_stop_one_bit or cabac_zero_word emulation byte 0x03), so they are dropped.
 */

export const NAL_TYPE = {
  SLICE: 1,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  FU_A: 28,
  FU_B: 29,
} as const;

const NAL_NAMES: Record<number, string> = {
  1: 'SLICE',
  2: 'DPA',
  3: 'DPB',
  4: 'DPC',
  5: 'IDR',
  6: 'SEI',
  7: 'SPS',
  8: 'PPS',
  9: 'AUD',
  10: 'EOSEQ',
  11: 'EOSTREAM',
  12: 'FILLER',
  13: 'SPS_EXT',
  14: 'PREFIX',
  15: 'SUBSET_SPS',
  19: 'AUX_SLICE',
  20: 'SLICE_EXT',
  24: 'STAP-A',
  25: 'STAP-B',
  26: 'MTAP16',
  27: 'MTAP24',
  28: 'FU-A',
  29: 'FU-B',
};

const START_CODE_4 = Buffer.from([0, 0, 0, 1]);
const START_CODE_3 = Buffer.from([0, 0, 1]);
const F_NRI_MASK = 0xe0;
const NRI_MASK = 0x60;
const F_BIT = 0x80;
const TYPE_MASK = 0x1f;
const FU_START = 0x80;
const FU_END = 0x40;
const FU_RESERVED = 0x20;
/** FU indicator + FU header (RFC 6184 §5.8). */
const FU_A_HEADER_BYTES = 2;
/** STAP-A NAL unit size field (RFC 6184 §5.7.1). */
const STAP_A_LENGTH_BYTES = 2;
const NAL_HEADER_BYTES = 1;

export class H264DepacketizeError extends Error {
  override name = 'H264DepacketizeError';
}

export function nalType(nal: Buffer): number {
  if (nal.length === 0) throw new RangeError('empty NAL unit has no type');
  return nal[0] & TYPE_MASK;
}

export function nalTypeName(type: number): string {
  return NAL_NAMES[type] ?? `NAL${type}`;
}

/** NAL units of an Annex B access unit, without start codes and trailing zero bytes. */
export function splitAnnexB(au: Buffer): Buffer[] {
  const first = au.indexOf(START_CODE_3);
  if (first < 0) {
    if (au.every((b) => b === 0)) return [];
    throw new RangeError('not an Annex B byte stream: no start code');
  }
  for (let i = 0; i < first; i++) {
    if (au[i] !== 0) throw new RangeError(`not an Annex B byte stream: non-zero byte at ${i} before the first start code`);
  }
  const nals: Buffer[] = [];
  let begin = first + 3;
  while (begin <= au.length) {
    const next = au.indexOf(START_CODE_3, begin);
    let end = next < 0 ? au.length : next;
    const nextBegin = next < 0 ? au.length + 1 : next + 3;
    // The zero_byte of a 4-byte start code and any trailing_zero_8bits (B.2).
    while (end > begin && au[end - 1] === 0) end--;
    if (end > begin) nals.push(au.subarray(begin, end));
    begin = nextBegin;
  }
  return nals;
}

/** An Annex B access unit with a 4-byte start code before every NAL unit. */
export function joinAnnexB(nals: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of nals) parts.push(START_CODE_4, n);
  return Buffer.concat(parts);
}

/** The access unit as the depacketizer will rebuild it (see the start-code note above). */
export function normalizeAnnexB(au: Buffer): Buffer {
  return joinAnnexB(splitAnnexB(au));
}

export interface NalInfo {
  type: number;
  name: string;
  /** Bytes of the NAL unit, header included, start code excluded. */
  size: number;
  /** nal_ref_idc (0..3). */
  nri: number;
}

export function describeNals(au: Buffer): NalInfo[] {
  return splitAnnexB(au).map((n) => ({
    type: nalType(n),
    name: nalTypeName(nalType(n)),
    size: n.length,
    nri: (n[0] & NRI_MASK) >> 5,
  }));
}

/** One line for logs, e.g. "SPS(25) PPS(6) SEI(630) IDR(41872)". */
export function formatNals(au: Buffer): string {
  return describeNals(au)
    .map((n) => `${n.name}(${n.size})`)
    .join(' ');
}

export type PayloadInfo =
  | { kind: 'single'; type: number; size: number }
  | { kind: 'stap-a'; types: number[]; sizes: number[] }
  | { kind: 'fu-a'; type: number; start: boolean; end: boolean; size: number }
  | { kind: 'other'; type: number };

/** What one RTP payload carries (for logs and tests); does not validate beyond that. */
export function describePayload(payload: Buffer): PayloadInfo {
  const type = nalType(payload);
  if (type >= 1 && type <= 23) return { kind: 'single', type, size: payload.length };
  if (type === NAL_TYPE.STAP_A) {
    const types: number[] = [];
    const sizes: number[] = [];
    let o = NAL_HEADER_BYTES;
    while (o + STAP_A_LENGTH_BYTES < payload.length) {
      const n = payload.readUInt16BE(o);
      o += STAP_A_LENGTH_BYTES;
      if (n === 0 || o + n > payload.length) break;
      types.push(payload[o] & TYPE_MASK);
      sizes.push(n);
      o += n;
    }
    return { kind: 'stap-a', types, sizes };
  }
  if (type === NAL_TYPE.FU_A && payload.length >= FU_A_HEADER_BYTES) {
    const h = payload[1];
    return {
      kind: 'fu-a',
      type: h & TYPE_MASK,
      start: (h & FU_START) !== 0,
      end: (h & FU_END) !== 0,
      size: payload.length - FU_A_HEADER_BYTES,
    };
  }
  return { kind: 'other', type };
}

// ---------------------------------------------------------------------------
// Packetizer

/**
 * RTP payloads (in sending order) for one Annex B access unit; every payload is at most
 * `maxPayloadBytes` (MTU − RTP header). The last payload is the one that takes the marker
 * bit (RFC 6184 §5.1: marker on the last packet of the access unit).
 */
export function packetizeH264(au: Buffer, maxPayloadBytes: number): Buffer[] {
  // An FU-A needs its 2 header bytes and at least one byte of the NAL.
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < FU_A_HEADER_BYTES + 1) {
    throw new RangeError(`H.264 payload budget must be an integer ≥ 3 bytes, got ${maxPayloadBytes}`);
  }
  const nals = splitAnnexB(au);
  if (nals.length === 0) throw new RangeError('access unit contains no NAL unit');
  const out: Buffer[] = [];
  for (let i = 0; i < nals.length; ) {
    if (nals[i].length > maxPayloadBytes) {
      packetizeFuA(nals[i], maxPayloadBytes, out);
      i++;
    } else {
      i = packetizeStapA(nals, i, maxPayloadBytes, out);
    }
  }
  return out;
}

/**
 * Aggregates nals[i..] greedily; returns the index of the first NAL not taken. The first
 * unit costs only its own bytes (it may go alone as a single NAL unit packet); making it
 * a STAP-A adds the STAP-A header and its size field, and each further unit its own
 * size field (libwebrtc PacketizeStapA's fragment_headers_length).
 */
function packetizeStapA(nals: Buffer[], i: number, max: number, out: Buffer[]): number {
  let left = max;
  let headers = 0;
  const group: Buffer[] = [];
  while (i < nals.length && left >= nals[i].length + headers) {
    left -= nals[i].length + headers;
    headers = group.length === 0 ? NAL_HEADER_BYTES + 2 * STAP_A_LENGTH_BYTES : STAP_A_LENGTH_BYTES;
    group.push(nals[i]);
    i++;
  }
  if (group.length === 1) {
    out.push(group[0]);
    return i;
  }
  let f = 0;
  let nri = 0;
  let size = NAL_HEADER_BYTES;
  for (const n of group) {
    f |= n[0] & F_BIT;
    nri = Math.max(nri, n[0] & NRI_MASK);
    size += STAP_A_LENGTH_BYTES + n.length;
  }
  const p = Buffer.allocUnsafe(size);
  p[0] = f | nri | NAL_TYPE.STAP_A;
  let o = NAL_HEADER_BYTES;
  for (const n of group) {
    p.writeUInt16BE(n.length, o);
    n.copy(p, o + STAP_A_LENGTH_BYTES);
    o += STAP_A_LENGTH_BYTES + n.length;
  }
  out.push(p);
  return i;
}

/**
 * Fragment sizes for `len` bytes with at most `cap` per fragment: the fewest fragments,
 * sizes differing by at most one, the larger ones last (SplitAboutEqually without
 * first/last reductions). Equal sizes keep every packet of a large frame near the same
 * length, which is what the pacer and the jitter estimator's size model expect.
 */
export function splitAboutEqually(len: number, cap: number): number[] {
  const count = Math.ceil(len / cap);
  const base = Math.floor(len / count);
  const larger = len % count;
  const sizes: number[] = [];
  for (let k = 0; k < count; k++) sizes.push(k >= count - larger ? base + 1 : base);
  return sizes;
}

function packetizeFuA(nal: Buffer, max: number, out: Buffer[]): void {
  // §5.8: the NAL header is not sent; F and NRI go into the FU indicator, the type into
  // the FU header, and the receiver rebuilds the header from both.
  const indicator = (nal[0] & F_NRI_MASK) | NAL_TYPE.FU_A;
  const type = nal[0] & TYPE_MASK;
  const sizes = splitAboutEqually(nal.length - NAL_HEADER_BYTES, max - FU_A_HEADER_BYTES);
  let o = NAL_HEADER_BYTES;
  sizes.forEach((size, k) => {
    const p = Buffer.allocUnsafe(FU_A_HEADER_BYTES + size);
    p[0] = indicator;
    p[1] = (k === 0 ? FU_START : 0) | (k === sizes.length - 1 ? FU_END : 0) | type;
    nal.copy(p, FU_A_HEADER_BYTES, o, o + size);
    o += size;
    out.push(p);
  });
}

// ---------------------------------------------------------------------------
// Depacketizer

/**
 * Rebuilds the Annex B access unit (4-byte start codes) from the RTP payloads of one frame
 * in sequence-number order. Strict, because a frame that reaches this point is meant to
 * be complete: any gap or inconsistency means a bug or a corrupted packet, and the
 * caller reports the frame as malformed rather than hand a broken picture to the decoder.
 */
export function depacketizeH264(payloads: readonly Buffer[]): Buffer {
  if (payloads.length === 0) throw new H264DepacketizeError('no payloads');
  const nals: Buffer[] = [];
  let fu: { header: number; parts: Buffer[]; first: number } | null = null;

  for (let idx = 0; idx < payloads.length; idx++) {
    const p = payloads[idx];
    if (p.length === 0) throw new H264DepacketizeError(`payload ${idx} is empty`);
    const type = p[0] & TYPE_MASK;
    if (fu && type !== NAL_TYPE.FU_A) {
      throw new H264DepacketizeError(`payload ${idx} (type ${type}) interrupts the FU-A started at payload ${fu.first}`);
    }
    if (type >= 1 && type <= 23) {
      nals.push(p);
    } else if (type === NAL_TYPE.STAP_A) {
      readStapA(p, idx, nals);
    } else if (type === NAL_TYPE.FU_A) {
      if (p.length < FU_A_HEADER_BYTES) throw new H264DepacketizeError(`FU-A payload ${idx} has no FU header`);
      const h = p[1];
      const start = (h & FU_START) !== 0;
      const end = (h & FU_END) !== 0;
      const header = (p[0] & F_NRI_MASK) | (h & TYPE_MASK);
      // §5.8: a NAL unit must not be sent as one FU (S and E together), R must be 0.
      if (start && end) throw new H264DepacketizeError(`FU-A payload ${idx} has both S and E set`);
      if (h & FU_RESERVED) throw new H264DepacketizeError(`FU-A payload ${idx} has the R bit set`);
      const nalT = h & TYPE_MASK;
      if (nalT === 0 || nalT > 23) throw new H264DepacketizeError(`FU-A payload ${idx} carries NAL type ${nalT}`);
      if (start) {
        if (fu) throw new H264DepacketizeError(`FU-A start at payload ${idx} before the end of the one at ${fu.first}`);
        fu = { header, parts: [Buffer.from([header])], first: idx };
      } else if (!fu) {
        throw new H264DepacketizeError(`FU-A payload ${idx} continues a NAL unit whose start is missing`);
      } else if (fu.header !== header) {
        throw new H264DepacketizeError(`FU-A payload ${idx}: NAL header changed inside one fragmented unit`);
      }
      fu.parts.push(p.subarray(FU_A_HEADER_BYTES));
      if (end) {
        nals.push(Buffer.concat(fu.parts));
        fu = null;
      }
    } else {
      throw new H264DepacketizeError(`payload ${idx}: ${nalTypeName(type)} (type ${type}) is not allowed in non-interleaved mode`);
    }
  }
  if (fu) throw new H264DepacketizeError(`FU-A started at payload ${fu.first} never ends`);
  return joinAnnexB(nals);
}

function readStapA(p: Buffer, idx: number, out: Buffer[]): void {
  let o = NAL_HEADER_BYTES;
  let count = 0;
  while (o < p.length) {
    if (o + STAP_A_LENGTH_BYTES > p.length) throw new H264DepacketizeError(`STAP-A payload ${idx}: truncated size field`);
    const n = p.readUInt16BE(o);
    o += STAP_A_LENGTH_BYTES;
    if (n === 0) throw new H264DepacketizeError(`STAP-A payload ${idx}: zero-length NAL unit`);
    if (o + n > p.length) throw new H264DepacketizeError(`STAP-A payload ${idx}: NAL unit of ${n} bytes runs past the payload`);
    const nal = p.subarray(o, o + n);
    const t = nal[0] & TYPE_MASK;
    if (t === 0 || t > 23) throw new H264DepacketizeError(`STAP-A payload ${idx} aggregates a type ${t} unit`);
    out.push(nal);
    o += n;
    count++;
  }
  if (count === 0) throw new H264DepacketizeError(`STAP-A payload ${idx} aggregates nothing`);
}
