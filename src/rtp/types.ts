/**
 * The on-the-wire formats, in one place. Parsers and serializers live beside this
 * file (packet.ts, extensions.ts, h264.ts, rtcp.ts); everything else in the project
 * speaks these types.
 */

/** Which of our two encoded streams a packet or frame belongs to. */
export type StreamKind = 'primary' | 'backup';

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
  /** Anything we do not interpret, kept so callers can count it. */
  | { type: 'unknown'; packetType: number; fmt: number };
