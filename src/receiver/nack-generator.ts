/**
 * Which RTP packets of one SSRC to ask for again (generic NACK, RFC 4585 §6.2.1), after
 * libwebrtc's NackRequester (modules/video_coding/nack_requester.cc), as a pure object
 * driven by the caller's clock:
 *
 * - a packet newer than the newest so far puts every sequence number in between on the
 *   NACK list (AddPacketsToNack), first dropping entries more than kMaxPacketAge
 *   (10000) sequence numbers older than it;
 * - if the list would then hold more than kMaxNackPackets (1000), entries are dropped up
 *   to the oldest key frame start that removes some (RemovePacketsUntilKeyFrame), and if
 *   that is not enough the list is cleared and a key frame requested;
 * - an entry is requested at once (send_nack_delay 0 and, since libwebrtc never feeds
 *   its reordering histogram — `is_retransmitted` is hard-wired to true —
 *   WaitNumberOfPackets(0.5) is 0: the newest packet is always "at" send_at_seq_num),
 *   then again each time one RTT has passed since the last request (GetNackBatch);
 *   libwebrtc checks that every 20 ms (NackPeriodicProcessor::kUpdateInterval), so
 *   requests are at least 20 ms apart here too, however often `nacksToSend` is called;
 * - after kMaxNackRetries (10) requests an entry is dropped;
 * - a packet that arrives (late or retransmitted) leaves the list; `onPacket` returns
 *   how many times it had been requested, as OnReceivedPacket does;
 * - a packet recovered by FEC/RTX that is newer than the newest is remembered and never
 *   requested, and does not advance the newest (libwebrtc's is_recovered path);
 * - `clearUpTo(seq)` drops everything older than `seq` (ClearUpTo). libwebrtc calls it
 *   from RtpVideoStreamReceiver2::FrameContinuous with the last sequence number of each
 *   frame that becomes continuous (decodable given what came before): packets older
 *   than that are no longer needed. A key frame does not clear the list when it
 *   arrives; its first packet is only remembered (`isKeyFrame`) for the overflow rule
 *   above. `onKeyFrame(lastSeq)` is our name for the common case of that call: a
 *   complete key frame makes everything before it useless.
 *
 * Sequence numbers are compared on an unwrapped timeline relative to the newest packet
 * (libwebrtc's AheadOf / DescendingSeqNumComp), so the 65535 → 0 wrap and reordering
 * across it are handled. The RTT is libwebrtc's kDefaultRttMs (100) until the caller
 * gives one.
 */
import { seqDelta } from '../rtp/seq';

/** NackRequester constants. */
export const NACK_MAX_PACKET_AGE = 10_000;
export const NACK_MAX_PACKETS = 1000;
export const NACK_MAX_RETRIES = 10;
export const NACK_DEFAULT_RTT_MS = 100;
/** NackPeriodicProcessor::kUpdateInterval. */
export const NACK_UPDATE_INTERVAL_MS = 20;

export interface NackGeneratorOptions {
  /** Called when the list overflowed and was cleared: the decoder needs a key frame (PLI). */
  onKeyFrameRequest?: () => void;
  /** Least time between two requests for one packet (default 20 ms). */
  minRetryIntervalMs?: number;
}

interface NackEntry {
  seq: number;
  createdAtMs: number;
  sentAtMs: number | null;
  retries: number;
}

export class NackGenerator {
  private initialized = false;
  /** Unwrapped. */
  private newest = 0;
  /** Unwrapped seq → entry; keys ascend in insertion order (gaps are added in order). */
  private readonly list = new Map<number, NackEntry>();
  /** Unwrapped first sequence numbers of key frames, ascending. */
  private keyFrames: number[] = [];
  /** Unwrapped sequence numbers recovered by FEC/RTX ahead of the newest. */
  private readonly recovered = new Set<number>();
  private readonly onKeyFrameRequest: () => void;
  private readonly minRetryIntervalMs: number;
  /** Key frame requests made because the list overflowed. */
  keyFrameRequests = 0;

  constructor(opts: NackGeneratorOptions = {}) {
    this.onKeyFrameRequest = opts.onKeyFrameRequest ?? (() => {});
    this.minRetryIntervalMs = opts.minRetryIntervalMs ?? NACK_UPDATE_INTERVAL_MS;
  }

  /** Sequence numbers on the list, oldest first (16-bit). */
  get pending(): number[] {
    return [...this.list.values()].map((e) => e.seq);
  }

  /**
   * A packet arrived (NackRequester::OnReceivedPacket). `isKeyFrame`: it is the first
   * packet of a key frame. Returns how many NACKs had been sent for it.
   */
  onPacket(seq: number, arrivalMs: number, isRecovered = false, isKeyFrame = false): number {
    const s = seq & 0xffff;
    if (!this.initialized) {
      this.initialized = true;
      this.newest = s;
      if (isKeyFrame) this.keyFrames.push(s);
      return 0;
    }
    const u = this.unwrap(s);
    if (u === this.newest) {
      // Only on the list when expectUpTo announced it before it arrived.
      const e = this.list.get(u);
      if (!e) return 0;
      this.list.delete(u);
      return e.retries;
    }
    if (u < this.newest) {
      // Out of order (late or retransmitted): it needs no more requests.
      const e = this.list.get(u);
      if (!e) return 0;
      this.list.delete(u);
      return e.retries;
    }
    if (isKeyFrame) this.keyFrames.push(u);
    this.keyFrames = this.keyFrames.filter((k) => k >= u - NACK_MAX_PACKET_AGE);
    if (isRecovered) {
      this.recovered.add(u);
      for (const r of this.recovered) if (r < u - NACK_MAX_PACKET_AGE) this.recovered.delete(r);
      return 0;
    }
    this.addGap(this.newest + 1, u, arrivalMs);
    this.newest = u;
    return 0;
  }

  /**
   * Sequence numbers to put in a NACK now (GetNackBatch with both the sequence-number
   * and the time criteria), oldest first. Call it after `onPacket` for the immediate
   * request and periodically (libwebrtc: every 20 ms) for the retries. `rttMs` defaults
   * to 100 ms (kDefaultRttMs).
   */
  nacksToSend(nowMs: number, rttMs: number = NACK_DEFAULT_RTT_MS): number[] {
    const resendMs = Math.max(rttMs, this.minRetryIntervalMs);
    const out: number[] = [];
    for (const [u, e] of this.list) {
      if (e.sentAtMs !== null && nowMs - e.sentAtMs < resendMs) continue;
      out.push(e.seq);
      e.retries++;
      e.sentAtMs = nowMs;
      if (e.retries >= NACK_MAX_RETRIES) this.list.delete(u);
    }
    return out;
  }

  /**
   * The sender says its newest packet is `lastSeq` (ours: the end-of-stream message): what
   * lies between the newest received and it goes on the list, as a later packet's arrival
   * would put it there. A lost tail has no later packet, so only this reveals it. Needs one
   * packet received first (the start of the stream is otherwise unknown).
   */
  expectUpTo(lastSeq: number, nowMs: number): void {
    if (!this.initialized) return;
    const u = this.unwrap(lastSeq & 0xffff);
    if (u <= this.newest) return;
    this.addGap(this.newest + 1, u + 1, nowMs);
    this.newest = u;
  }

  /** Forgets everything older than `seq` (NackRequester::ClearUpTo). */
  clearUpTo(seq: number): void {
    if (!this.initialized) return;
    const u = this.unwrap(seq & 0xffff);
    for (const k of this.list.keys()) if (k < u) this.list.delete(k);
    this.keyFrames = this.keyFrames.filter((k) => k >= u);
    for (const r of this.recovered) if (r < u) this.recovered.delete(r);
  }

  /** A key frame ending at `lastSeq` is complete: nothing before it is needed any more. */
  onKeyFrame(lastSeq: number): void {
    this.clearUpTo(lastSeq);
  }

  /** NackRequester::AddPacketsToNack for [start, end). */
  private addGap(start: number, end: number, nowMs: number): void {
    for (const k of this.list.keys()) {
      if (k >= end - NACK_MAX_PACKET_AGE) break;
      this.list.delete(k);
    }
    const added = end - start;
    if (this.list.size + added > NACK_MAX_PACKETS) {
      while (this.removeUntilKeyFrame() && this.list.size + added > NACK_MAX_PACKETS) {
        // keep trimming
      }
      if (this.list.size + added > NACK_MAX_PACKETS) {
        this.list.clear();
        this.keyFrameRequests++;
        this.onKeyFrameRequest();
        return;
      }
    }
    for (let u = start; u < end; u++) {
      if (this.recovered.has(u)) continue;
      this.list.set(u, { seq: u & 0xffff, createdAtMs: nowMs, sentAtMs: null, retries: 0 });
    }
  }

  /** NackRequester::RemovePacketsUntilKeyFrame. */
  private removeUntilKeyFrame(): boolean {
    while (this.keyFrames.length > 0) {
      const kf = this.keyFrames[0];
      let removed = false;
      for (const k of this.list.keys()) {
        if (k >= kf) break;
        this.list.delete(k);
        removed = true;
      }
      if (removed) return true;
      this.keyFrames.shift();
    }
    return false;
  }

  /** Unwraps relative to the newest packet. */
  private unwrap(seq16: number): number {
    return this.newest + seqDelta(((this.newest % 0x1_0000) + 0x1_0000) % 0x1_0000, seq16);
  }
}
