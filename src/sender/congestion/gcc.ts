/**
 * Google Congestion Control as a pure object: transport-wide feedback, RTT, loss and sent
 * packets in; one estimate out. No timers, no clock — every input carries its time.
 *
 * The composition follows libwebrtc modules/congestion_controller/goog_cc/
 * goog_cc_network_control.cc (GoogCcNetworkController::OnTransportPacketsFeedback,
 * OnSentPacket, OnRoundTripTimeUpdate, MaybeTriggerOnNetworkChanged; the packet-feedback-only
 * configuration for loss; checked against the jitsi port of WebRTC 8284f2b), draft-ietf-rmcat-gcc-02:
 *
 *  on transport feedback (at its arrival time t):
 *   1. loss: count reported/lost packets; every kLossUpdateInterval = 1 s hand the counts to
 *      the loss-based control (which waits for ≥ 20 packets);
 *   2. ALR: if the application-limited region just ended, tell the acknowledged-bitrate
 *      estimator (it then lets its estimate move fast);
 *   3. acknowledged bitrate ← the received packets, in arrival order;
 *   4. delay-based estimate (groups → trendline → detector → AIMD) with that acknowledged rate;
 *   5. the loss-based control takes the delay-based estimate as its cap and runs its rules;
 *      its output is the target;
 *   6. the ALR detector's budget follows the new target.
 *  on a sent packet: the ALR detector's budget is drained by its bytes.
 *
 * Bounding the estimate when the encoder sends less than allowed (ALR): AIMD never raises the
 * delay-based estimate above 1.5 × acknowledged + 10 kbit/s (aimd_rate_control.cc
 * ChangeBitrate increase_limit); with `noIncreaseInAlr` it does not increase at all while the
 * ALR detector says the sender is application limited (WebRTC-DontIncreaseDelayBasedBweInAlr).
 *
 * Probing (probe_controller.cc, probe_bitrate_estimator.cc, as goog_cc_network_control.cc
 * wires them): takeProbeClusters(now) gives the clusters to send now (initial 3×/6× start
 * rate, further exponential probes, periodic ALR probes, a probe after a large drop); the
 * sender sends each as padding at the cluster's rate and tags its packets with the cluster id
 * (PacketResult.probeClusterId). Per feedback, the received probe packets (in receive-time
 * order) go to the ProbeBitrateEstimator; a probe estimate below the current estimate is raised to
 * min(estimate, 0.85 × acknowledged) (WebRTC-Bwe-LimitProbesLowerThanThroughputEstimate, on by
 * default in libwebrtc), then goes to the delay-based BWE, which
 * takes it as its estimate unless over-using (AimdRateControl::SetEstimate), and then to the
 * loss-based control as its new send bitrate (SetSendBitrate); the probe controller hears the
 * probe result (further probing), each new target (large drops) and the ALR state, and is
 * asked for a probe when the detector recovers from over-use (RequestProbe). Without probe
 * packets in the feedback nothing of this changes the estimate.
 */
import { AcknowledgedBitrateEstimator, type AckedPacket } from './acked-bitrate-estimator';
import { AlrDetector } from './alr-detector';
import { DelayBasedBwe } from './delay-based-bwe';
import type { AimdDecision } from './aimd-rate-control';
import { LossBasedControl, type LossRule } from './loss-based-control';
import { ProbeBitrateEstimator } from './probe-bitrate-estimator';
import { ProbeController, type ProbeCluster } from './probe-controller';
import type { NetworkEstimate, RateController, TransportFeedback } from './types';

/** goog_cc_network_control.cc kLossUpdateInterval ("From RTCPSender video report interval"). */
export const kLossUpdateIntervalMs = 1000;
/** goog_cc_network_control.cc kProbeDropThroughputFraction: a probe result is not taken below 0.85 × acknowledged. */
export const kProbeDropThroughputFraction = 0.85;
/** goog_cc_network_control.cc kDefaultPaceMultiplier: pacing rate = 2.5 × target. */
export const kDefaultPaceMultiplier = 2.5;

export interface GccOptions {
  startBps: number;
  minBps: number;
  maxBps: number;
  /**
   * Where the loss-based control gets its loss from: 'transport-feedback' (default; packets
   * reported lost in transport-wide feedback, as goog_cc's packet-feedback-only mode) or
   * 'loss-report' (fractions passed to onLossReport, e.g. RTCP RR fraction lost). The other
   * source is recorded but not acted on.
   */
  lossSource?: 'transport-feedback' | 'loss-report';
  /** Loss-based increase per second below 2 % loss; default 1.05 (draft), libwebrtc 1.08. */
  lossIncreaseFactor?: number;
  /** AIMD: subtract 5 kbit/s after the 0.85 back-off (libwebrtc default since 2022); default false. */
  subtractAdditionalBackoffTerm?: boolean;
  /** AIMD: no delay-based increase while application limited (libwebrtc default off); default false. */
  noIncreaseInAlr?: boolean;
  /** Periodic probing in ALR every 5 s at 2 × the estimate (EnablePeriodicAlrProbing); default true. */
  periodicAlrProbing?: boolean;
  /** Probe after a large drop outside ALR too (WebRTC-BweRapidRecoveryExperiment); default true. */
  rapidRecovery?: boolean;
  /** Periodic probes outside ALR every this many ms (our addition, probe-controller.ts); default 0 = off. */
  periodicProbeIntervalMs?: number;
  /**
   * A probe result below the estimate lowers it at most to min(estimate, 0.85 × acknowledged)
   * (WebRTC-Bwe-LimitProbesLowerThanThroughputEstimate, libwebrtc default on); default true.
   */
  limitProbesLowerThanThroughput?: boolean;
}

/** Internals for logging and tests. */
export interface GccDebugState {
  delayBasedBps: number;
  lossBasedBps: number;
  aimdState: 'hold' | 'increase' | 'decrease';
  linkCapacityBps: number | null;
  modifiedTrend: number;
  inAlr: boolean;
  alrBudgetRatio: number;
  /** The last probe estimate applied (bit/s) and when; null if none yet. */
  lastProbeBps: number | null;
  lastProbeAtMs: number | null;
  probeClustersCreated: number;
  /** Acknowledged bitrate (bit/s), null before the first window. */
  ackedBps: number | null;
  /** The delay-based cap the loss-based control applies (bit/s; Infinity = none). */
  delayBasedLimitBps: number;
  /** The loss-based rule last applied, and the loss fraction it used. */
  lossRule: LossRule;
  lossFraction: number;
  /** The last AIMD decision (overuse decrease, increase kind, probe setEstimate). */
  aimd: AimdDecision | null;
}

export class Gcc implements RateController {
  readonly name = 'gcc';
  readonly adaptive = true;
  private readonly delayBased: DelayBasedBwe;
  private readonly lossBased: LossBasedControl;
  private readonly acked = new AcknowledgedBitrateEstimator();
  private readonly alr = new AlrDetector();
  private readonly lossSource: 'transport-feedback' | 'loss-report';
  private readonly probeController: ProbeController;
  private readonly probeEstimator = new ProbeBitrateEstimator();
  private lastProbeBps: number | null = null;
  private lastProbeAtMs: number | null = null;
  private probeClustersCreated = 0;
  private readonly limitProbesLowerThanThroughput: boolean;

  private nextLossUpdateMs = -Infinity;
  private lostSinceLastLossUpdate = 0;
  private expectedSinceLastLossUpdate = 0;
  private previouslyInAlr = false;
  private rttMs: number | null = null;
  private lastTargetBps: number;

  constructor(opts: GccOptions) {
    if (!(opts.minBps > 0 && opts.maxBps >= opts.minBps && opts.startBps > 0)) {
      throw new RangeError(`Gcc: need 0 < minBps <= maxBps and startBps > 0 (got ${JSON.stringify(opts)})`);
    }
    const startBps = Math.min(Math.max(opts.startBps, opts.minBps), opts.maxBps);
    this.lossSource = opts.lossSource ?? 'transport-feedback';
    this.limitProbesLowerThanThroughput = opts.limitProbesLowerThanThroughput ?? true;
    this.delayBased = new DelayBasedBwe({
      startBps,
      minBps: opts.minBps,
      subtractAdditionalBackoffTerm: opts.subtractAdditionalBackoffTerm,
      noIncreaseInAlr: opts.noIncreaseInAlr,
    });
    this.lossBased = new LossBasedControl({
      startBps,
      minBps: opts.minBps,
      maxBps: opts.maxBps,
      increaseFactor: opts.lossIncreaseFactor,
    });
    this.lastTargetBps = this.lossBased.targetRate();
    this.alr.setEstimatedBitrate(this.lastTargetBps);
    this.probeController = new ProbeController({
      startBps,
      maxBps: opts.maxBps,
      periodicAlrProbing: opts.periodicAlrProbing,
      rapidRecovery: opts.rapidRecovery,
      periodicProbeIntervalMs: opts.periodicProbeIntervalMs,
    });
  }

  /**
   * Probe clusters to send now: each as padding packets at `targetBps`, at least `minPackets`
   * packets and `minBytes` bytes, every packet tagged with the cluster's id in the transport
   * feedback (PacketResult.probeClusterId). Call it regularly (e.g. every pacer tick).
   */
  takeProbeClusters(nowMs: number): ProbeCluster[] {
    this.updateProbeAlr(nowMs);
    this.probeController.onDelayDetector(this.delayBased.state, this.delayBased.rateControl.lastDecreaseAtMs);
    const clusters = this.probeController.takeClusters(nowMs);
    for (const c of clusters) this.probeEstimator.registerCluster(c, nowMs);
    this.probeClustersCreated += clusters.length;
    return clusters;
  }

  onTransportFeedback(fb: TransportFeedback): void {
    if (fb.packets.length === 0) return;
    const t = fb.feedbackArrivalMs;

    // 1. Loss from the feedback itself (goog_cc packet-feedback-only path).
    if (this.lossSource === 'transport-feedback') {
      this.expectedSinceLastLossUpdate += fb.packets.length;
      for (const p of fb.packets) if (p.arrivalTimeMs === null) this.lostSinceLastLossUpdate++;
      if (t > this.nextLossUpdateMs) {
        this.nextLossUpdateMs = t + kLossUpdateIntervalMs;
        this.lossBased.updatePacketsLost(this.lostSinceLastLossUpdate, this.expectedSinceLastLossUpdate, t);
        this.lostSinceLastLossUpdate = 0;
        this.expectedSinceLastLossUpdate = 0;
      }
    }

    // 2. ALR end → the acknowledged-rate estimate may move fast.
    const alrStart = this.alr.applicationLimitedRegionStartTime();
    if (this.previouslyInAlr && alrStart === null) this.acked.setAlrEndedTime(t);
    this.previouslyInAlr = alrStart !== null;

    // 3. Acknowledged bitrate from the received packets, in arrival order.
    const received: AckedPacket[] = [];
    for (const p of fb.packets) {
      if (p.arrivalTimeMs !== null) {
        received.push({ sendTimeMs: p.sendTimeMs, arrivalTimeMs: p.arrivalTimeMs, sizeBytes: p.sizeBytes });
      }
    }
    received.sort((a, b) => a.arrivalTimeMs - b.arrivalTimeMs); // stable: ties keep seq order
    this.acked.incomingPacketFeedbackVector(received);
    const ackedBps = this.acked.bitrateBps();

    // Probe packets → probe bitrate estimator (receive-time order).
    let probeClusterId: number | null = null;
    for (const p of fb.packets) {
      if (p.probeClusterId !== undefined && p.arrivalTimeMs !== null) {
        const r = this.probeEstimator.handleProbeAndEstimateBitrate({
          probeClusterId: p.probeClusterId,
          sendTimeMs: p.sendTimeMs,
          arrivalTimeMs: p.arrivalTimeMs,
          sizeBytes: p.sizeBytes,
        });
        if (r !== null) probeClusterId = p.probeClusterId;
      }
    }
    let probeBps = this.probeEstimator.fetchAndResetLastEstimatedBitrate();
    if (probeBps !== null && probeClusterId !== null && this.probeController.isPeriodicProbe(probeClusterId)) {
      // A periodic probe (our addition) only raises the estimate (see probe-controller.ts).
      if (probeBps <= this.delayBased.latestEstimate()) probeBps = null;
    }
    if (this.limitProbesLowerThanThroughput && probeBps !== null && ackedBps !== null) {
      // Limit the back-off to slightly below the acknowledged rate ("slightly below" to drain
      // the queues if we really are over-using); min() so a low probe never increases the estimate.
      const limit = Math.min(this.delayBased.latestEstimate(), ackedBps * kProbeDropThroughputFraction);
      probeBps = Math.max(probeBps, limit);
    }

    // 4. Delay-based estimate (a probe result becomes the estimate unless over-using).
    const result = this.delayBased.incomingPacketFeedbackVector(received, ackedBps, alrStart !== null, t, probeBps);
    // 5. Loss-based control, capped by the delay-based estimate; a probe result is its new
    //    send bitrate (SetSendBitrate).
    if (result.updated) {
      if (result.probe) {
        this.lossBased.setSendBitrate(result.targetBps);
        this.lastProbeBps = result.targetBps;
        this.lastProbeAtMs = t;
      }
      this.lossBased.updateDelayBasedEstimate(result.targetBps);
    }
    this.lossBased.updateEstimate(t);
    if (probeBps !== null) this.probeController.onProbeResult(probeBps, t);
    this.onTargetMaybeChanged(t);
    if (result.recoveredFromOveruse) {
      this.updateProbeAlr(t);
      this.probeController.onRecoveredFromOveruse(t);
    }
  }

  onRtt(rttMs: number, _nowMs: number): void {
    if (!(rttMs > 0)) return;
    this.rttMs = rttMs;
    this.delayBased.onRttUpdate(rttMs);
    this.lossBased.updateRtt(rttMs);
  }

  onLossReport(fractionLost: number, nowMs: number): void {
    if (this.lossSource !== 'loss-report') return;
    this.lossBased.updateFractionLost(fractionLost, nowMs);
    this.onTargetMaybeChanged(nowMs);
  }

  onSentPacket(p: { transportSeq: number; sendTimeMs: number; sizeBytes: number }): void {
    this.alr.onBytesSent(p.sizeBytes, p.sendTimeMs);
    this.acked.setAlr(this.alr.applicationLimitedRegionStartTime() !== null);
  }

  estimate(_nowMs: number): NetworkEstimate {
    return {
      targetBps: this.lossBased.targetRate(),
      delayGradient: this.delayBased.trend,
      threshold: this.delayBased.threshold,
      detector: this.delayBased.state,
      lossFraction: this.lossBased.fractionLoss(),
      ackedBps: this.acked.bitrateBps(),
      rttMs: this.rttMs,
    };
  }

  diagnostics(nowMs: number): NetworkEstimate {
    return this.estimate(nowMs);
  }

  debug(): GccDebugState {
    const rc = this.delayBased.rateControl;
    return {
      delayBasedBps: this.delayBased.latestEstimate(),
      lossBasedBps: this.lossBased.targetRate(),
      aimdState: rc.state,
      linkCapacityBps: rc.linkCapacityEstimateBps,
      modifiedTrend: this.delayBased.modifiedTrend,
      inAlr: this.alr.applicationLimitedRegionStartTime() !== null,
      alrBudgetRatio: this.alr.budgetRatio,
      lastProbeBps: this.lastProbeBps,
      lastProbeAtMs: this.lastProbeAtMs,
      probeClustersCreated: this.probeClustersCreated,
      ackedBps: this.acked.bitrateBps(),
      delayBasedLimitBps: this.lossBased.delayBasedLimitBps,
      lossRule: this.lossBased.lastRule,
      lossFraction: this.lossBased.fractionLoss(),
      aimd: rc.lastDecision,
    };
  }

  private onTargetMaybeChanged(nowMs: number): void {
    const target = this.lossBased.targetRate();
    if (target !== this.lastTargetBps) {
      this.lastTargetBps = target;
      this.alr.setEstimatedBitrate(target);
      this.probeController.onEstimate(target, nowMs);
    }
  }

  private updateProbeAlr(nowMs: number): void {
    const start = this.alr.applicationLimitedRegionStartTime();
    this.probeController.onAlr(start !== null, nowMs, start ?? undefined);
  }
}
