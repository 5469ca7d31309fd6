/**
 * Receiver side of transport-wide congestion control: records the arrival time of every
 * packet by its transport-wide sequence number (the header extension of
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §2, on both of our streams) and
 * builds the periodic RTPFB FMT 15 feedback of §3.1.
 *
 * Follows libwebrtc's RemoteEstimatorProxy (modules/remote_bitrate_estimator/
 * remote_estimator_proxy.cc) with its PacketArrivalTimeMap (packet_arrival_map.cc), as a
 * pure object driven by the caller's clock:
 * - sequence numbers are unwrapped (SeqNumUnwrapper), so the 16-bit wrap, reordering
 *   across it and duplicates (only the first arrival counts) are handled;
 * - `periodic_window_start_seq_`: the first sequence number the next feedback covers.
 *   Each feedback covers everything from there to the newest packet, so a packet not
 *   received by then is reported "not received"; a packet that arrives later with a
 *   smaller sequence number moves the window start back, so the next feedback reports
 *   it (from there on) as long as it is still in the map;
 * - packets older than kBackWindow (500 ms) are culled, once everything in the map has
 *   been reported, when the next packet arrives (MaybeCullOldPackets); the map never
 *   spans more than kMaxNumberOfPackets (2^15) sequence numbers;
 * - one feedback packet starts at the window start (base sequence number, even if that
 *   packet was lost; at most 0x7FFE before the first received one) and takes received
 *   packets until one does not fit (MaybeBuildFeedbackPacket); the rest goes into
 *   further packets of the same round;
 * - the send interval is 100 ms by default (kDefaultInterval) and, once told the
 *   bitrate, is chosen so feedback takes 5 % of it, within 50..250 ms
 *   (OnBitrateChanged: kMinInterval, kMaxInterval, 68-byte kTwccReportSize).
 *
 * Deviations, both deliberate:
 * - the draft §3.1.1 says that when the base sequence number goes back (a window that
 *   overlaps earlier feedback), packets already reported as received "must be marked as
 *   'Packet not received'" with no delta; libwebrtc reports them again with their times.
 *   We follow the draft. (libwebrtc's sender ignores the repeat either way: its
 *   TransportFeedbackAdapter drops a packet from its history once reported received.)
 * - libwebrtc limits a feedback packet only by the RTCP length field (256 KiB); our
 *   RTCP travels in one SRTCP datagram, so packets are split at `maxPacketBytes`
 *   (default 1200).
 */
import { SeqUnwrapper } from '../rtp/seq';
import { TwccFeedbackBuilder } from '../rtp/twcc';
import type { TwccFeedback } from '../rtp/types';

/** libwebrtc RemoteEstimatorProxy: kBackWindow. */
export const TWCC_BACK_WINDOW_MS = 500;
/** kDefaultInterval, kMinInterval, kMaxInterval. */
export const TWCC_DEFAULT_INTERVAL_MS = 100;
export const TWCC_MIN_INTERVAL_MS = 50;
export const TWCC_MAX_INTERVAL_MS = 250;
/** OnBitrateChanged: IPv4 (20) + UDP (8) + SRTP (10) + an average report (30) bytes. */
export const TWCC_REPORT_SIZE_BYTES = 20 + 8 + 10 + 30;
/** Share of the bitrate feedback may take (OnBitrateChanged). */
export const TWCC_BANDWIDTH_FRACTION = 0.05;
/** PacketArrivalTimeMap::kMaxNumberOfPackets. */
export const TWCC_MAX_TRACKED_PACKETS = 1 << 15;
/** MaybeBuildFeedbackPacket: kMaxMissingSequenceNumbers. */
export const TWCC_MAX_MISSING_BEFORE_FIRST = 0x7ffe;
/** Our default cap on one feedback packet (bytes, RTCP header included). */
export const TWCC_DEFAULT_MAX_PACKET_BYTES = 1200;

export interface TwccRecorderOptions {
  /** Bytes per feedback packet at most (default 1200). */
  maxPacketBytes?: number;
  /** Feedback interval until `onBitrateChanged` is called (default 100 ms). */
  sendIntervalMs?: number;
  /** How long reported packets stay available for re-reporting (default 500 ms). */
  backWindowMs?: number;
}

interface Arrival {
  ms: number;
  /** Included as received in a feedback already. */
  reported: boolean;
}

export class TwccRecorder {
  private readonly unwrapper = new SeqUnwrapper();
  private readonly arrivals = new Map<number, Arrival>();
  /** [begin, end) of the unwrapped sequence numbers the map spans; end − 1 was received. */
  private begin = 0;
  private end = 0;
  private seenPacket = false;
  private windowStart: number | undefined;
  private feedbackCount = 0;
  private lastFeedbackMs: number | undefined;
  private intervalMs: number;
  private readonly maxPacketBytes: number;
  private readonly backWindowMs: number;

  constructor(opts: TwccRecorderOptions = {}) {
    this.maxPacketBytes = opts.maxPacketBytes ?? TWCC_DEFAULT_MAX_PACKET_BYTES;
    this.intervalMs = opts.sendIntervalMs ?? TWCC_DEFAULT_INTERVAL_MS;
    this.backWindowMs = opts.backWindowMs ?? TWCC_BACK_WINDOW_MS;
  }

  /** Current feedback interval. */
  get sendIntervalMs(): number {
    return this.intervalMs;
  }

  /** Feedback packets built so far (the 8-bit counter on the wire wraps). */
  get feedbackPacketsBuilt(): number {
    return this.feedbackCount;
  }

  /**
   * libwebrtc RemoteEstimatorProxy::OnBitrateChanged: feedback of ~68 bytes should take
   * 5 % of the bitrate; the interval is clamped to 50..250 ms.
   */
  onBitrateChanged(bitrateBps: number): void {
    const twccBps = TWCC_BANDWIDTH_FRACTION * bitrateBps;
    const minTwccBps = (TWCC_REPORT_SIZE_BYTES * 8) / (TWCC_MAX_INTERVAL_MS / 1000);
    this.intervalMs =
      twccBps <= minTwccBps ? TWCC_MAX_INTERVAL_MS : Math.max((TWCC_REPORT_SIZE_BYTES * 8 * 1000) / twccBps, TWCC_MIN_INTERVAL_MS);
  }

  /** Whether a periodic feedback is due (RemoteEstimatorProxy::Process). */
  isFeedbackDue(nowMs: number): boolean {
    return this.lastFeedbackMs === undefined || nowMs >= this.lastFeedbackMs + this.intervalMs;
  }

  /** A packet carrying transport-wide sequence number `transportSeq` arrived. */
  onPacket(transportSeq: number, arrivalMs: number): void {
    if (!Number.isInteger(transportSeq)) throw new RangeError(`transport-wide sequence number must be an integer, got ${transportSeq}`);
    if (!Number.isFinite(arrivalMs)) throw new RangeError(`arrival time must be finite, got ${arrivalMs}`);
    const seq = this.unwrapper.unwrap(transportSeq);
    // MaybeCullOldPackets: once everything has been reported, forget what is older than
    // the back window.
    if (this.windowStart !== undefined && this.windowStart >= this.end && arrivalMs >= this.backWindowMs) {
      this.removeOld(seq, arrivalMs - this.backWindowMs);
    }
    if (this.windowStart === undefined || seq < this.windowStart) this.windowStart = seq;
    // Only the first arrival of a packet counts.
    if (this.hasReceived(seq)) return;
    this.add(seq, arrivalMs);
    if (this.windowStart < this.begin) this.windowStart = this.begin;
  }

  /**
   * The feedback for every packet since the last feedback (RemoteEstimatorProxy::
   * SendPeriodicFeedbacks): one or more packets, or none if nothing new arrived.
   */
  buildFeedback(nowMs: number, senderSsrc: number, mediaSsrc: number): TwccFeedback[] {
    this.lastFeedbackMs = nowMs;
    const out: TwccFeedback[] = [];
    const end = this.end;
    while (this.windowStart !== undefined && this.windowStart < end) {
      const fb = this.buildOne(this.windowStart, end, senderSsrc, mediaSsrc);
      if (!fb) break;
      out.push(fb);
    }
    return out;
  }

  /** RemoteEstimatorProxy::MaybeBuildFeedbackPacket (periodic). */
  private buildOne(beginSeq: number, endSeq: number, senderSsrc: number, mediaSsrc: number): TwccFeedback | null {
    const from = Math.min(Math.max(beginSeq, this.begin), this.end);
    const to = Math.min(Math.max(endSeq, this.begin), this.end);
    let builder: TwccFeedbackBuilder | null = null;
    let next = beginSeq;
    for (let seq = from; seq < to; seq++) {
      const a = this.arrivals.get(seq);
      if (!a) continue;
      if (a.reported) {
        // Draft §3.1.1: a packet reported as received before is "not received" now.
        next = seq + 1;
        continue;
      }
      if (!builder) {
        const base = Math.max(beginSeq, seq - TWCC_MAX_MISSING_BEFORE_FIRST);
        builder = new TwccFeedbackBuilder(base, a.ms, this.maxPacketBytes);
        if (!builder.addReceived(seq, a.ms)) throw new Error(`TwccRecorder: packet ${seq} does not fit an empty feedback`);
      } else if (!builder.addReceived(seq, a.ms)) {
        // Full (size, count or a delta beyond ±8 s): the next packet starts here.
        break;
      }
      a.reported = true;
      next = seq + 1;
    }
    this.windowStart = next;
    if (!builder) return null;
    return builder.build(senderSsrc, mediaSsrc, this.feedbackCount++);
  }

  private hasReceived(seq: number): boolean {
    return seq >= this.begin && seq < this.end && this.arrivals.has(seq);
  }

  /** PacketArrivalTimeMap::AddPacket. */
  private add(seq: number, ms: number): void {
    const entry: Arrival = { ms, reported: false };
    if (!this.seenPacket) {
      this.seenPacket = true;
      this.begin = seq;
      this.end = seq + 1;
      this.arrivals.set(seq, entry);
      return;
    }
    if (seq >= this.begin && seq < this.end) {
      this.arrivals.set(seq, entry);
      return;
    }
    if (seq < this.begin) {
      // Before the map: extend it backwards, unless that would span too much.
      if (this.end - seq > TWCC_MAX_TRACKED_PACKETS) return;
      this.begin = seq;
      this.arrivals.set(seq, entry);
      return;
    }
    const newEnd = seq + 1;
    if (newEnd >= this.end + TWCC_MAX_TRACKED_PACKETS) {
      // A jump so large that every packet in the map goes.
      this.arrivals.clear();
      this.begin = seq;
      this.end = newEnd;
      this.arrivals.set(seq, entry);
      return;
    }
    if (this.begin < newEnd - TWCC_MAX_TRACKED_PACKETS) {
      this.dropBefore(newEnd - TWCC_MAX_TRACKED_PACKETS);
      // Keep the map starting at a received packet (TrimLeadingEmptyEntries).
      while (this.begin < this.end && !this.arrivals.has(this.begin)) this.begin++;
    }
    this.end = newEnd;
    this.arrivals.set(seq, entry);
  }

  /** PacketArrivalTimeMap::RemoveOldPackets. */
  private removeOld(seq: number, limitMs: number): void {
    const checkTo = Math.min(seq, this.end);
    let b = this.begin;
    while (b < checkTo) {
      const a = this.arrivals.get(b);
      if (a && a.ms > limitMs) break;
      b++;
    }
    this.dropBefore(b);
  }

  private dropBefore(newBegin: number): void {
    if (newBegin <= this.begin) return;
    if (newBegin - this.begin <= this.arrivals.size) {
      for (let s = this.begin; s < newBegin; s++) this.arrivals.delete(s);
    } else {
      for (const s of this.arrivals.keys()) if (s < newBegin) this.arrivals.delete(s);
    }
    this.begin = newBegin;
  }
}
