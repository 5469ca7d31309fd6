/**
 * Transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, RTPFB PT 205 FMT 15): the
 * pieces shared by the wire codec (rtcp.ts), the receiver's recorder
 * (receiver/twcc-recorder.ts) and the sender's history (sender/send-history.ts).
 *
 * Wire format (§3.1): after the RTCP feedback header (sender SSRC, media SSRC) come the
 * base sequence number (16), the packet status count (16), the reference time (24-bit
 * signed, units of 64 ms), the feedback packet count (8), then 16-bit packet status
 * chunks, then one receive delta per received packet, then zero padding to 32 bits.
 *
 * Packet status symbols (§3.1.1): 00 not received, 01 received with a small delta (one
 * unsigned byte, 0..63.75 ms in 250 µs), 10 received with a large or negative delta
 * (two bytes, signed, −8192..8191.75 ms), 11 reserved. The first delta is relative to
 * the reference time, each next one to the previous received packet (§3.1.1, §3.1.5).
 *
 * Chunks (§3.1.3, §3.1.4): a run-length chunk (T=0, 2-bit symbol, 13-bit run length) or
 * a status vector chunk (T=1) of 14 one-bit symbols (S=0: 0 not received, 1 received
 * with a small delta) or 7 two-bit symbols (S=1).
 *
 * Where the draft contradicts itself we follow its normative text and libwebrtc
 * (modules/rtp_rtcp/source/rtcp_packet/transport_feedback.cc):
 * - §3.1 prose says PT 206; its figure and field list say RTPFB = 205, as libwebrtc does.
 * - §3.1.4's field text swaps the one-bit meanings; its Example 1 and libwebrtc use
 *   0 = not received, 1 = received (small delta).
 * - §3.1.3 Example 2 and §3.1.4 Example 2 use symbol 11 as "received without delta",
 *   which §3.1.1 lists as reserved; libwebrtc rejects it, and so does our parser.
 *
 * The chunk encoder below is libwebrtc's TransportFeedback::LastChunk, so we write the
 * same bytes libwebrtc would for the same statuses.
 */
import type { TwccFeedback, TwccPacketStatus } from './types';

/** RTPFB FMT of transport-wide feedback. */
export const TWCC_FMT = 15;
/** Reference time unit (§3.1). */
export const TWCC_REFERENCE_TICK_MS = 64;
/** Receive delta unit (§3.1.5). */
export const TWCC_DELTA_TICK_MS = 0.25;
const DELTA_TICKS_PER_REFERENCE_TICK = TWCC_REFERENCE_TICK_MS / TWCC_DELTA_TICK_MS; // 256
/** The 24-bit reference time wraps after 2^24 × 64 ms. */
export const TWCC_REFERENCE_WRAP_MS = 2 ** 24 * TWCC_REFERENCE_TICK_MS;
/** Signed 24-bit range of the reference time field, in 64 ms ticks. */
export const TWCC_REFERENCE_TICKS_MIN = -(2 ** 23);
export const TWCC_REFERENCE_TICKS_MAX = 2 ** 23 - 1;
/** Packet status symbols (§3.1.1). */
export const TWCC_SYMBOL = { NOT_RECEIVED: 0, SMALL_DELTA: 1, LARGE_DELTA: 2, RESERVED: 3 } as const;
/** RTCP header (4) + sender and media SSRC (8) + base seq, count, reference time, fb count (8). */
export const TWCC_HEADER_BYTES = 20;
/** The packet status count is 16 bits (libwebrtc kMaxReportedPackets = 0xffff). */
export const TWCC_MAX_STATUS_COUNT = 0xffff;
/** Largest RTCP packet the 16-bit length field can describe: (2^16) words. */
export const RTCP_MAX_PACKET_BYTES = 0x1_0000 * 4;
/** Signed 16-bit range of a large receive delta, in 250 µs ticks (§3.1.5). */
export const TWCC_DELTA_TICKS_MIN = -0x8000;
export const TWCC_DELTA_TICKS_MAX = 0x7fff;

const RUN_LENGTH_CAPACITY = 0x1fff; // 13-bit run length
const ONE_BIT_CAPACITY = 14;
const TWO_BIT_CAPACITY = 7;

/** The status symbol for a delta in 250 µs ticks: small when it fits one unsigned byte. */
export function twccSymbolForDelta(ticks: number): 1 | 2 {
  return ticks >= 0 && ticks <= 0xff ? TWCC_SYMBOL.SMALL_DELTA : TWCC_SYMBOL.LARGE_DELTA;
}

/**
 * Greedy packet-status chunk encoder (libwebrtc TransportFeedback::LastChunk): symbols
 * accumulate in a pending chunk that stays a candidate for a run length (all equal, up to
 * 8191), a one-bit vector (up to 14, no large delta) or a two-bit vector (up to 7); when
 * the next symbol fits none, the pending chunk is emitted (a two-bit emission takes the
 * first 7 symbols and keeps the rest pending).
 */
export class TwccChunkWriter {
  /** Chunks already emitted. */
  private readonly emitted: number[] = [];
  /** The first ONE_BIT_CAPACITY pending symbols (a run keeps only its first). */
  private pending: number[] = [];
  private size = 0;
  private allSame = true;
  private hasLarge = false;

  /** How many symbols were added in all. */
  symbolCount = 0;

  /** Number of chunks `finish()` would return now. */
  get chunkCount(): number {
    return this.emitted.length + (this.size > 0 ? 1 : 0);
  }

  /** Chunk count after adding `symbol`, without adding it. */
  chunkCountAfter(symbol: number): number {
    if (this.size === 0 || this.canAdd(symbol)) return this.emitted.length + 1;
    return this.emitted.length + 2;
  }

  add(symbol: number): void {
    if (!this.canAdd(symbol)) this.emitted.push(this.emit());
    if (this.size < ONE_BIT_CAPACITY) this.pending[this.size] = symbol;
    this.size++;
    this.allSame = this.allSame && symbol === this.pending[0];
    this.hasLarge = this.hasLarge || symbol === TWCC_SYMBOL.LARGE_DELTA;
    this.symbolCount++;
  }

  /** All chunks, the pending one included. The writer may keep being used. */
  finish(): number[] {
    return this.size > 0 ? [...this.emitted, this.encodeLast()] : [...this.emitted];
  }

  /** A cheap copy of the state, to try additions and roll back. */
  snapshot(): () => void {
    const emittedLength = this.emitted.length;
    const pending = [...this.pending];
    const { size, allSame, hasLarge, symbolCount } = this;
    return () => {
      this.emitted.length = emittedLength;
      this.pending = pending;
      this.size = size;
      this.allSame = allSame;
      this.hasLarge = hasLarge;
      this.symbolCount = symbolCount;
    };
  }

  private canAdd(symbol: number): boolean {
    if (this.size < TWO_BIT_CAPACITY) return true;
    if (this.size < ONE_BIT_CAPACITY && !this.hasLarge && symbol !== TWCC_SYMBOL.LARGE_DELTA) return true;
    if (this.size < RUN_LENGTH_CAPACITY && this.allSame && this.pending[0] === symbol) return true;
    return false;
  }

  private emit(): number {
    if (this.allSame) {
      const chunk = this.runLength();
      this.clear();
      return chunk;
    }
    if (this.size === ONE_BIT_CAPACITY) {
      const chunk = this.oneBit();
      this.clear();
      return chunk;
    }
    const chunk = this.twoBit(TWO_BIT_CAPACITY);
    const rest = this.pending.slice(TWO_BIT_CAPACITY, this.size);
    this.clear();
    for (const s of rest) {
      this.pending[this.size++] = s;
      this.allSame = this.allSame && s === this.pending[0];
      this.hasLarge = this.hasLarge || s === TWCC_SYMBOL.LARGE_DELTA;
    }
    return chunk;
  }

  private encodeLast(): number {
    if (this.allSame) return this.runLength();
    if (this.size <= TWO_BIT_CAPACITY) return this.twoBit(this.size);
    return this.oneBit();
  }

  private clear(): void {
    this.pending = [];
    this.size = 0;
    this.allSame = true;
    this.hasLarge = false;
  }

  /** §3.1.3: T=0 | S (2) | run length (13). */
  private runLength(): number {
    return (this.pending[0] << 13) | this.size;
  }

  /** §3.1.4: T=1, S=0, 14 one-bit symbols, first in the most significant bit. */
  private oneBit(): number {
    let chunk = 0x8000;
    for (let i = 0; i < this.size; i++) chunk |= this.pending[i] << (ONE_BIT_CAPACITY - 1 - i);
    return chunk;
  }

  /** §3.1.4: T=1, S=1, 7 two-bit symbols; unused trailing slots stay 00. */
  private twoBit(n: number): number {
    let chunk = 0xc000;
    for (let i = 0; i < n; i++) chunk |= this.pending[i] << (2 * (TWO_BIT_CAPACITY - 1 - i));
    return chunk;
  }
}

/** Rounds half away from zero, as libwebrtc's AddReceivedPacket does. */
function roundTicks(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Bytes of a TWCC RTCP packet (header included, padded to 32 bits). */
export function twccPacketBytes(chunkCount: number, deltaBytes: number): number {
  return Math.ceil((TWCC_HEADER_BYTES + 2 * chunkCount + deltaBytes) / 4) * 4;
}

/** Maps a 64 ms tick count onto the signed 24-bit field (modulo 2^24). */
export function wrapReferenceTicks(ticks: number): number {
  const m = ((ticks % 2 ** 24) + 2 ** 24) % 2 ** 24;
  return m > TWCC_REFERENCE_TICKS_MAX ? m - 2 ** 24 : m;
}

/**
 * Difference between two reference times (ms) of successive feedbacks, taking the
 * 24-bit wrap into account: of the representatives modulo 2^24 × 64 ms, the one closest
 * to zero (libwebrtc TransportFeedback::GetBaseDelta).
 */
export function twccReferenceDeltaMs(previousReferenceMs: number, referenceMs: number): number {
  let d = (referenceMs - previousReferenceMs) % TWCC_REFERENCE_WRAP_MS;
  if (d > TWCC_REFERENCE_WRAP_MS / 2) d -= TWCC_REFERENCE_WRAP_MS;
  else if (d <= -TWCC_REFERENCE_WRAP_MS / 2) d += TWCC_REFERENCE_WRAP_MS;
  return d;
}

/**
 * Builds one feedback packet incrementally, refusing a packet that does not fit
 * (libwebrtc TransportFeedback::SetBase + AddReceivedPacket):
 * - the reference time is the first received packet's arrival rounded down to 64 ms, so
 *   the first delta is small (0..64 ms);
 * - each delta is rounded to 250 µs from the previous *reported* time, so rounding never
 *   accumulates;
 * - a packet is refused when its delta does not fit 16 signed bits (§3.1.5: "a new
 *   feedback message must be used"), when it is not newer than the last one added, when
 *   the status count would pass 0xffff, or when the packet would exceed `maxPacketBytes`
 *   (libwebrtc's limit is the RTCP length field, 256 KiB; callers that send over UDP
 *   should pass an MTU-sized limit).
 *
 * Sequence numbers given to the builder are integers on an unwrapped timeline; the
 * packet carries them modulo 2^16. Arrival times are ms on any clock: the packet carries
 * them shifted by a whole number of 24-bit wraps so that its reference time fits the
 * signed field.
 */
export class TwccFeedbackBuilder {
  private readonly chunks = new TwccChunkWriter();
  private readonly statuses: { seq: number; ticks: number | null }[] = [];
  private deltaBytes = 0;
  /** Absolute 250 µs ticks of the last reported arrival (starts at the reference time). */
  private lastTicks: number;
  private readonly referenceTicks64: number;
  /** 250 µs ticks removed from absolute times to land on the packet's timeline. */
  private readonly shiftTicks: number;

  constructor(
    readonly baseSeq: number,
    firstArrivalMs: number,
    readonly maxPacketBytes: number = RTCP_MAX_PACKET_BYTES,
  ) {
    if (!Number.isInteger(baseSeq)) throw new RangeError(`TWCC base sequence number must be an integer, got ${baseSeq}`);
    if (!Number.isFinite(firstArrivalMs)) throw new RangeError(`TWCC arrival time must be finite, got ${firstArrivalMs}`);
    if (maxPacketBytes < twccPacketBytes(1, 2)) throw new RangeError(`TWCC packet limit ${maxPacketBytes} bytes is too small`);
    const absRef = Math.floor(firstArrivalMs / TWCC_REFERENCE_TICK_MS);
    this.referenceTicks64 = wrapReferenceTicks(absRef);
    this.shiftTicks = (absRef - this.referenceTicks64) * DELTA_TICKS_PER_REFERENCE_TICK;
    this.lastTicks = absRef * DELTA_TICKS_PER_REFERENCE_TICK;
  }

  /** Statuses so far (the packet status count). */
  get statusCount(): number {
    return this.statuses.length;
  }

  /** The unwrapped sequence number the next status would describe. */
  get nextSeq(): number {
    return this.baseSeq + this.statuses.length;
  }

  /** Size of the packet as it stands, in bytes. */
  get packetBytes(): number {
    return twccPacketBytes(this.chunks.chunkCount, this.deltaBytes);
  }

  /**
   * Adds a received packet (and "not received" for the gap before it). False, with
   * nothing changed, when it does not fit this packet: start a new one with it.
   */
  addReceived(seq: number, arrivalMs: number): boolean {
    if (!Number.isInteger(seq) || !Number.isFinite(arrivalMs)) return false;
    const next = this.nextSeq;
    if (seq < next) return false;
    const missing = seq - next;
    if (this.statuses.length + missing + 1 > TWCC_MAX_STATUS_COUNT) return false;
    const ticks = roundTicks(arrivalMs / TWCC_DELTA_TICK_MS - this.lastTicks);
    if (ticks < TWCC_DELTA_TICKS_MIN || ticks > TWCC_DELTA_TICKS_MAX) return false;
    const symbol = twccSymbolForDelta(ticks);
    const deltaBytes = symbol === TWCC_SYMBOL.SMALL_DELTA ? 1 : 2;

    const rollback = this.chunks.snapshot();
    for (let i = 0; i < missing; i++) this.chunks.add(TWCC_SYMBOL.NOT_RECEIVED);
    if (twccPacketBytes(this.chunks.chunkCountAfter(symbol), this.deltaBytes + deltaBytes) > this.maxPacketBytes) {
      rollback();
      return false;
    }
    this.chunks.add(symbol);
    for (let i = 0; i < missing; i++) this.statuses.push({ seq: next + i, ticks: null });
    this.lastTicks += ticks;
    this.statuses.push({ seq, ticks: this.lastTicks });
    this.deltaBytes += deltaBytes;
    return true;
  }

  /** The feedback packet, or null if nothing was added. */
  build(senderSsrc: number, mediaSsrc: number, feedbackCount: number): TwccFeedback | null {
    if (this.statuses.length === 0) return null;
    const packets: TwccPacketStatus[] = this.statuses.map((s) => ({
      seq: s.seq & 0xffff,
      receivedAtMs: s.ticks === null ? null : (s.ticks - this.shiftTicks) * TWCC_DELTA_TICK_MS,
    }));
    return {
      type: 'twcc',
      senderSsrc,
      mediaSsrc,
      baseSeq: this.baseSeq & 0xffff,
      referenceTimeMs: this.referenceTicks64 * TWCC_REFERENCE_TICK_MS,
      feedbackCount: feedbackCount & 0xff,
      packets,
    };
  }
}
