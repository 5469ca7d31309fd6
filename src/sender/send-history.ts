/**
 * The sender's memory of what it sent, for two purposes:
 *
 * 1. Retransmission (NACK, RFC 4585 §6.2.1), after libwebrtc's RtpPacketHistory
 *    (modules/rtp_rtcp/source/rtp_packet_history.cc):
 *    - a packet stays available for at least max(1000 ms, 3 × RTT) after its last
 *      (re)transmission (kMinPacketDurationMs, kMinPacketDurationRtt); `retentionMs`
 *      sets the 1000 ms part. libwebrtc may keep it up to 3× longer while fewer than
 *      `number_to_store` packets are stored (kPacketCullingDelayFactor); we drop it at
 *      the guaranteed bound, so what is retransmittable does not depend on the send rate;
 *    - never more than 9600 packets (kMaxCapacity), the oldest going first;
 *    - a request for a packet that was already retransmitted less than one RTT ago is
 *      ignored (VerifyRtt), the RTT being the caller's estimate + 5 ms, as
 *      RTPSender::OnReceivedNack sets it (`SetRtt(5 + avg_rtt)`). The first request is
 *      always honoured;
 *    - a request for a packet whose retransmission is still waiting in the pacer is
 *      ignored (`pending_transmission_`), whatever the RTT;
 *    - the caller may still decline an eligible packet (libwebrtc's encapsulate callback
 *      of GetPacketAndMarkAsPending, where RTPSender::ReSendPacket applies the
 *      retransmission rate limit): a declined packet is left as if never requested.
 *
 * 2. Transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3),
 *    after libwebrtc's TransportFeedbackAdapter (modules/congestion_controller/rtp/
 *    transport_feedback_adapter.cc): every sent packet's transport-wide sequence number
 *    (unwrapped), send time and size are kept for 60 s (kSendTimeHistoryWindow); a
 *    feedback is mapped onto them:
 *    - arrival times are taken relative to the feedback's reference time; successive
 *      reference times are chained with the 24-bit wrap compensated (GetBaseDelta), the
 *      first one anchored at the feedback's local receive time if given (libwebrtc's
 *      `current_offset_`), else at its own value (then arrival times are on the
 *      receiver's clock, modulo the 12.4-day wrap);
 *    - only packets we sent and still remember are reported; a packet reported received
 *      once is not reported again (libwebrtc erases it), one reported lost stays, since
 *      a later feedback may report it received;
 *    - results come in transport-sequence order. libwebrtc rounds arrival times down to
 *      whole ms; we keep the feedback's 250 µs resolution.
 *
 * One history covers all SSRCs (libwebrtc has one RtpPacketHistory per RTP stream and
 * one adapter per transport); packets are keyed by (SSRC, RTP sequence number).
 */
import { SeqUnwrapper, seqDelta } from '../rtp/seq';
import { twccReferenceDeltaMs } from '../rtp/twcc';
import type { TwccFeedback } from '../rtp/types';

/** RtpPacketHistory::kMinPacketDurationMs. */
export const HISTORY_MIN_DURATION_MS = 1000;
/** RtpPacketHistory::kMinPacketDurationRtt. */
export const HISTORY_MIN_DURATION_RTTS = 3;
/** RtpPacketHistory::kMaxCapacity. */
export const HISTORY_MAX_PACKETS = 9600;
/** RTPSender::OnReceivedNack adds 5 ms to the RTT it gives the history. */
export const RETRANSMIT_RTT_MARGIN_MS = 5;
/** TransportFeedbackAdapter: kSendTimeHistoryWindow. */
export const FEEDBACK_HISTORY_WINDOW_MS = 60_000;

export interface SentPacket {
  ssrc: number;
  /** RTP sequence number. */
  seq: number;
  /** 16-bit transport-wide sequence number, if the packet carries one. */
  transportSeq?: number;
  sendTimeMs: number;
  /** Bytes on the wire for congestion control (the serialized RTP packet, or more with overhead). */
  sizeBytes: number;
  /** The serialized RTP packet, as sent (kept by reference: do not reuse the buffer). */
  payload: Buffer;
  /** The bandwidth probe cluster the packet was sent in, if any. */
  probeClusterId?: number;
}

export interface StoredPacket {
  ssrc: number;
  seq: number;
  /** The serialized RTP packet of the original transmission. */
  payload: Buffer;
  /** First transmission. */
  firstSendTimeMs: number;
  /** Last (re)transmission. */
  lastSendTimeMs: number;
  timesRetransmitted: number;
  /** A retransmission was handed out and has not left yet (RtpPacketHistory's pending_transmission_). */
  pending: boolean;
}

export interface PacketResult {
  /** Unwrapped transport-wide sequence number (the 16-bit value plus 65536 per wrap). */
  transportSeq: number;
  ssrc: number;
  /** RTP sequence number. */
  seq: number;
  sendTimeMs: number;
  sizeBytes: number;
  /** On the timeline described above; null when reported not received. */
  arrivalTimeMs: number | null;
  /** The bandwidth probe cluster the packet belonged to, if any. */
  probeClusterId?: number;
}

export interface SendHistoryOptions {
  /** Minimum time a packet stays retransmittable after its last send (default 1000 ms). */
  retentionMs?: number;
  /** Packets kept for retransmission at most (default 9600). */
  maxPackets?: number;
  /** How long send times are kept for transport feedback (default 60 s). */
  feedbackWindowMs?: number;
}

interface FeedbackEntry {
  transportSeq: number;
  ssrc: number;
  seq: number;
  sendTimeMs: number;
  sizeBytes: number;
  acked: boolean;
  probeClusterId?: number;
}

const key = (ssrc: number, seq: number) => ssrc * 0x1_0000 + (seq & 0xffff);

export class SendHistory {
  private readonly retentionMs: number;
  private readonly maxPackets: number;
  private readonly feedbackWindowMs: number;
  /** In insertion (send) order. */
  private readonly packets = new Map<number, StoredPacket>();
  /** Unwrapped transport seq → entry, in send order. */
  private readonly feedback = new Map<number, FeedbackEntry>();
  private readonly transportUnwrapper = new SeqUnwrapper();
  private lastTransport: { seq16: number; unwrapped: number } | undefined;
  private rttMs: number | undefined;
  /** Reference time of the last feedback (ms) and the local offset it maps to. */
  private lastReferenceMs: number | undefined;
  private currentOffsetMs = 0;

  constructor(opts: SendHistoryOptions = {}) {
    this.retentionMs = opts.retentionMs ?? HISTORY_MIN_DURATION_MS;
    this.maxPackets = opts.maxPackets ?? HISTORY_MAX_PACKETS;
    this.feedbackWindowMs = opts.feedbackWindowMs ?? FEEDBACK_HISTORY_WINDOW_MS;
  }

  /** Packets currently retransmittable (before culling at the next call). */
  get size(): number {
    return this.packets.size;
  }

  /** Records a packet as it goes on the wire (RtpPacketHistory::PutRtpPacket, TransportFeedbackAdapter::AddPacket). */
  onPacketSent(p: SentPacket): void {
    this.cull(p.sendTimeMs);
    const k = key(p.ssrc, p.seq);
    // A sequence number seen again (after a wrap) replaces the old packet.
    this.packets.delete(k);
    this.packets.set(k, {
      ssrc: p.ssrc,
      seq: p.seq & 0xffff,
      payload: p.payload,
      firstSendTimeMs: p.sendTimeMs,
      lastSendTimeMs: p.sendTimeMs,
      timesRetransmitted: 0,
      pending: false,
    });
    while (this.packets.size > this.maxPackets) this.packets.delete(this.packets.keys().next().value as number);
    if (p.transportSeq !== undefined) this.addFeedbackEntry(p.transportSeq, p.ssrc, p.seq, p.sendTimeMs, p.sizeBytes, p.probeClusterId);
  }

  /**
   * The packet to retransmit for a NACK of (`ssrc`, `seq`), or null if it aged out, was
   * never stored, is already waiting in the pacer, was retransmitted less than one RTT
   * (+ 5 ms) ago, or `admit` declined it (RtpPacketHistory::GetPacketAndMarkAsPending).
   * `admit` is asked only about an otherwise eligible packet. A packet returned counts as
   * retransmitted now and pending; call `onRetransmissionSent` when it actually leaves
   * (the pacer may hold it) to move that time, clear the pending mark and give it a
   * transport-wide sequence number.
   */
  forRetransmission(ssrc: number, seq: number, nowMs: number, rttMs: number, admit?: (p: StoredPacket) => boolean): StoredPacket | null {
    this.rttMs = rttMs;
    this.cull(nowMs);
    const k = key(ssrc, seq);
    const p = this.packets.get(k);
    if (!p) return null;
    if (nowMs - p.lastSendTimeMs > this.keepMs()) {
      this.packets.delete(k);
      return null;
    }
    if (p.pending) return null;
    if (p.timesRetransmitted > 0 && nowMs - p.lastSendTimeMs < rttMs + RETRANSMIT_RTT_MARGIN_MS) return null;
    if (admit && !admit(p)) return null;
    p.timesRetransmitted++;
    p.lastSendTimeMs = nowMs;
    p.pending = true;
    return p;
  }

  /**
   * A retransmission of (`ssrc`, `seq`) left at `sendTimeMs` (RtpPacketHistory::
   * MarkPacketAsSent); with a transport-wide sequence number (libwebrtc gives
   * retransmissions their own) it is tracked for feedback like any packet.
   */
  onRetransmissionSent(ssrc: number, seq: number, sendTimeMs: number, transportSeq?: number, sizeBytes?: number, probeClusterId?: number): void {
    const p = this.packets.get(key(ssrc, seq));
    if (p) {
      p.lastSendTimeMs = Math.max(p.lastSendTimeMs, sendTimeMs);
      p.pending = false;
    }
    if (transportSeq !== undefined) {
      this.addFeedbackEntry(transportSeq, ssrc, seq, sendTimeMs, sizeBytes ?? p?.payload.length ?? 0, probeClusterId);
    }
  }

  /**
   * Maps a transport-wide feedback onto what we sent (TransportFeedbackAdapter::
   * ProcessTransportFeedbackInner). `feedbackReceiveTimeMs`, the local time the feedback
   * arrived, anchors the arrival timeline at the first feedback, as libwebrtc does.
   */
  onTransportFeedback(fb: TwccFeedback, feedbackReceiveTimeMs?: number): PacketResult[] {
    if (this.lastReferenceMs === undefined) {
      this.currentOffsetMs = feedbackReceiveTimeMs ?? fb.referenceTimeMs;
    } else {
      this.currentOffsetMs += twccReferenceDeltaMs(this.lastReferenceMs, fb.referenceTimeMs);
    }
    this.lastReferenceMs = fb.referenceTimeMs;

    const out: PacketResult[] = [];
    if (!this.lastTransport) return out;
    for (const status of fb.packets) {
      const u = this.lastTransport.unwrapped + seqDelta(this.lastTransport.seq16, status.seq);
      const e = this.feedback.get(u);
      if (!e || e.acked) continue;
      let arrivalTimeMs: number | null = null;
      if (status.receivedAtMs !== null) {
        arrivalTimeMs = this.currentOffsetMs + (status.receivedAtMs - fb.referenceTimeMs);
        e.acked = true;
      }
      out.push({ transportSeq: u, ssrc: e.ssrc, seq: e.seq, sendTimeMs: e.sendTimeMs, sizeBytes: e.sizeBytes, arrivalTimeMs, probeClusterId: e.probeClusterId });
    }
    out.sort((a, b) => a.transportSeq - b.transportSeq);
    return out;
  }

  /**
   * A padding-only probe packet: kept for transport feedback (tagged with its probe
   * cluster), never for retransmission.
   */
  onProbeSent(ssrc: number, seq: number, transportSeq: number, sendTimeMs: number, sizeBytes: number, clusterId: number): void {
    this.addFeedbackEntry(transportSeq, ssrc, seq, sendTimeMs, sizeBytes, clusterId);
  }

  private addFeedbackEntry(transportSeq: number, ssrc: number, seq: number, sendTimeMs: number, sizeBytes: number, probeClusterId?: number): void {
    const u = this.transportUnwrapper.unwrap(transportSeq);
    if (!this.lastTransport || u > this.lastTransport.unwrapped) this.lastTransport = { seq16: transportSeq & 0xffff, unwrapped: u };
    // Forget send times older than the window (TransportFeedbackAdapter::AddPacket).
    for (const [k, e] of this.feedback) {
      if (sendTimeMs - e.sendTimeMs <= this.feedbackWindowMs) break;
      this.feedback.delete(k);
    }
    this.feedback.delete(u);
    this.feedback.set(u, { transportSeq: u, ssrc, seq: seq & 0xffff, sendTimeMs, sizeBytes, acked: false, probeClusterId });
  }

  /** max(retention, 3 × RTT): how long a packet stays after its last send. */
  private keepMs(): number {
    return Math.max(this.retentionMs, this.rttMs === undefined ? 0 : HISTORY_MIN_DURATION_RTTS * this.rttMs);
  }

  /**
   * Frees packets past `keepMs` since their last send, from the oldest on, stopping at
   * the first one still young (RtpPacketHistory::CullOldPackets). A recently
   * retransmitted packet can hold older ones behind it, which is why
   * `forRetransmission` checks the age of what it returns as well.
   */
  private cull(nowMs: number): void {
    const keepMs = this.keepMs();
    for (const [k, p] of this.packets) {
      if (nowMs - p.lastSendTimeMs <= keepMs) break;
      this.packets.delete(k);
    }
  }
}
