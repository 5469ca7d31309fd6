/**
 * The rate-controller interface: messages in (transport feedback, RTT, loss, sent packets,
 * the encoder's output rate), one estimate out. Like libwebrtc's NetworkControllerInterface
 * there are no timers and no clock: every call carries its time in milliseconds on the
 * sender's monotonic timeline (send times, feedback arrival) or the receiver's (arrival
 * times — only their differences are used, so the two clocks need no common origin).
 */

/** One packet's fate as reported by transport-wide congestion control feedback. */
export interface PacketResult {
  /** Transport-wide sequence number (unwrapped, increasing). */
  transportSeq: number;
  /** When the sender put the packet on the wire (sender clock, ms). */
  sendTimeMs: number;
  /** Bytes on the wire that the estimate should count (RTP packet incl. header). */
  sizeBytes: number;
  /** When the receiver got it (receiver clock, ms); null = reported lost. */
  arrivalTimeMs: number | null;
  /** The probe cluster this packet was sent in (ProbeCluster.id); absent = not a probe. */
  probeClusterId?: number;
}

export interface TransportFeedback {
  /** When the feedback reached the sender (sender clock, ms). */
  feedbackArrivalMs: number;
  /** In transport-seq order. */
  packets: PacketResult[];
}

/** Over-use detector hypothesis (libwebrtc BandwidthUsage: kBwNormal / kBwOverusing / kBwUnderusing). */
export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

/** What a rate controller decides: the target rate for all media (both streams in dual mode), bit/s. */
export interface RateUpdate {
  targetBps: number;
}

/**
 * What a delay-based controller saw, for network.csv and the dashboards only; nothing in
 * the send path acts on it.
 */
export interface ControllerDiagnostics {
  /** Delay gradient: the trendline slope (ms of one-way delay change per ms). */
  delayGradient: number;
  /** The over-use detector's adaptive threshold (same unit as min(n,60)·slope·gain). */
  threshold: number;
  detector: BandwidthUsage;
  /** The loss fraction the controller last acted on (0..1). */
  lossFraction: number;
  /** Acknowledged (received) bitrate estimate, bit/s; null until measured. */
  ackedBps: number | null;
  /** Last RTT the controller was told, ms; null if none yet. */
  rttMs: number | null;
}

/** GCC's full view: its decision and its diagnostics. */
export interface NetworkEstimate extends RateUpdate, ControllerDiagnostics {}

/** What the sender measures of itself, for controllers that want it (the external one). */
export interface SenderObservations {
  sentBps: number;
  pacerQueueMs: number;
}

export interface RateController {
  readonly name: string;
  /**
   * false: a fixed rate that the encoder was opened with (--bitrate is the encoder's
   * target, not a rate on the wire), so there is nothing to apply.
   */
  readonly adaptive: boolean;
  onTransportFeedback(fb: TransportFeedback): void;
  onRtt(rttMs: number, nowMs: number): void;
  onLossReport(fractionLost: number, nowMs: number): void;
  onSentPacket?(p: { transportSeq: number; sendTimeMs: number; sizeBytes: number }): void;
  /** The sender's own measurements, before each estimate(). */
  onSenderState?(s: SenderObservations, nowMs: number): void;
  estimate(nowMs: number): RateUpdate;
  /** What the controller saw (delay gradient, detector…), when it has such a view. */
  diagnostics?(nowMs: number): ControllerDiagnostics;
  /** Releases what the controller holds (the external controller's child process). */
  close?(): void;
  /** Bandwidth probes to send now (padding at the cluster's rate, tagged with its id). */
  takeProbeClusters?(nowMs: number): { id: number; targetBps: number; minPackets: number; minBytes: number }[];
}
