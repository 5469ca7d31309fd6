/**
 * The on-the-wire formats, in one place. Parsers and serializers live beside this
 * file (packet.ts, extensions.ts, h264.ts, rtcp.ts); everything else in the project
 * speaks these types.
 */

/** Which of our two encoded streams a packet or frame belongs to. */
export type StreamKind = 'primary' | 'backup';

/** A map key for one frame of one stream (frame ids repeat across the two streams). */
export function frameKey(stream: StreamKind, frameId: number): string {
  return `${stream}:${frameId}`;
}

/**
 * RFC 8285 header extension ids (one-byte form, 1..14). werift numbers the extmap
 * lines of its offer 1, 2, 3 in configuration order; the transport adapter checks
 * that the negotiated SDP carries exactly these ids.
 */
export const EXT_ID = {
  absSendTime: 1,
  transportWideSeq: 2,
  frameMarking: 3,
  frameRef: 4,
} as const;

export const EXT_URI = {
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  transportWideSeq: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  /** Ours: frame id + start/end-of-frame + key-frame flags (see extensions.ts). */
  frameMarking: 'urn:testbed:rtp-hdrext:frame-id',
  /** Ours: an explicit reference for a backup frame (see FrameRefExt). */
  frameRef: 'urn:testbed:rtp-hdrext:frame-ref',
} as const;

/** Our frame-id extension: which picture a packet carries and where it sits in the frame. */
export interface FrameIdExt {
  /** Picture number at the sender (capture order, from 0). */
  frameId: number;
  /** First packet of this frame. */
  start: boolean;
  /** Last packet of this frame (duplicates the RTP marker, kept for clarity on the wire). */
  end: boolean;
  /** The frame is an IDR (decodable on its own). */
  key: boolean;
  /**
   * Distance back to the frame this one predicts from (1..31), in the flag byte's low
   * 5 bits; absent/0 means "the previous frame id" (or none for a key frame). Lets the
   * receiver decode across frame ids the sender never sent (encoder drops).
   */
  refDelta?: number;
}

/**
 * Our frame-reference extension, on the packets of a backup frame that does not predict
 * from the previous frame id of its stream (the first frame of a backup episode):
 * - episodic: it predicts from backup frame `refFrameId` (the last one of the previous episode);
 * - shared: it predicts from a seed IDR that both ends build by encoding the decoded
 *   primary picture `refFrameId` with a fresh x264 instance; `seedHash` (first 32 bits of
 *   the seed's SHA-256) lets the receiver verify it built the same seed.
 */
export interface FrameRefExt {
  refFrameId: number;
  seedHash: number | null;
}

export interface RtpHeaderExtensions {
  /** 24-bit 6.18 fixed-point seconds (abs-send-time). */
  absSendTime?: number;
  /** 16-bit transport-wide sequence number. */
  transportWideSeq?: number;
  frameId?: FrameIdExt;
  frameRef?: FrameRefExt;
}

export interface RtpPacket {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  extensions: RtpHeaderExtensions;
  payload: Buffer;
}

/** RTCP report block (RFC 3550 §6.4.1). */
export interface ReportBlock {
  ssrc: number;
  fractionLost: number; // 0..255
  cumulativeLost: number;
  highestSeq: number; // extended
  jitter: number; // RTP timestamp units
  lsr: number; // middle 32 bits of the last SR's NTP timestamp
  dlsr: number; // 1/65536 s
}

export type RtcpPacket =
  | {
      type: 'sr';
      ssrc: number;
      ntpSec: number;
      ntpFrac: number;
      rtpTimestamp: number;
      packetCount: number;
      octetCount: number;
      reports: ReportBlock[];
    }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'bye'; ssrcs: number[]; reason?: string }
  /** PSFB (PT 206) FMT 15 application-layer feedback carrying our own 4-byte identifier. */
  | { type: 'app-feedback'; senderSsrc: number; mediaSsrc: number; identifier: string; data: Buffer }
  /**
   * RTPFB (PT 205) FMT 1 generic NACK (RFC 4585 §6.2.1): RTP sequence numbers of
   * `mediaSsrc` the receiver asks to have retransmitted. On the wire they are packed
   * into PID + BLP pairs; parsing unpacks them in wire order.
   */
  | { type: 'nack'; senderSsrc: number; mediaSsrc: number; seqs: number[] }
  /** PSFB (PT 206) FMT 1 picture loss indication (RFC 4585 §6.3.1): no FCI. */
  | { type: 'pli'; senderSsrc: number; mediaSsrc: number }
  | TwccFeedback
  /** Anything we do not interpret, kept so callers can count it. */
  | { type: 'unknown'; packetType: number; fmt: number };

/** One packet's status in a transport-wide feedback (see TwccFeedback). */
export interface TwccPacketStatus {
  /** 16-bit transport-wide sequence number (baseSeq + index, modulo 2^16). */
  seq: number;
  /**
   * Arrival time in ms on the feedback's own timeline (the one `referenceTimeMs` is on):
   * referenceTimeMs + the sum of the receive deltas up to this packet, so a multiple of
   * 0.25 ms. Null: "packet not received" (which may only mean "not yet").
   */
  receivedAtMs: number | null;
}

/**
 * RTPFB (PT 205) FMT 15 transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). `packets` lists every
 * sequence number from `baseSeq` on (the packet status count is its length); parse and
 * serialize live in rtcp.ts, the size-bounded builder in twcc.ts.
 */
export interface TwccFeedback {
  type: 'twcc';
  senderSsrc: number;
  mediaSsrc: number;
  /** Transport-wide sequence number of packets[0]. */
  baseSeq: number;
  /**
   * The 24-bit signed reference time (units of 64 ms), as ms: a multiple of 64 in
   * [-2^23·64, (2^23 − 1)·64]. Its time base is the feedback sender's and wraps
   * every 2^24·64 ms (about 12.4 days).
   */
  referenceTimeMs: number;
  /** 8-bit feedback packet count, to detect lost feedback. */
  feedbackCount: number;
  packets: TwccPacketStatus[];
}
