/**
 * Probe controller: when to send bandwidth probes (clusters of padding at a target rate).
 *
 * Port of libwebrtc modules/congestion_controller/goog_cc/probe_controller.cc, the M99
 * revision (ProbeControllerConfig defaults of WebRTC-Bwe-ProbingConfiguration; no
 * NetworkStateEstimate — the "network state estimate"-free variant; allocation probing and
 * mid-call max-bitrate probing are not ported). Times are ms passed in; no timers.
 *
 *  - initial exponential probing (InitiateExponentialProbing): the first takeClusters call
 *    creates two clusters at first_exponential_probe_scale 3.0 and
 *    second_exponential_probe_scale 6.0 × the start rate, and waits for their results;
 *  - further exponential probing: while waiting (at most kMaxWaitingTimeForProbingResultMs
 *    1 s after the last probe was initiated), a probe result above
 *    further_probe_threshold 0.7 × the last probe's target (kRepeatedProbeMinPercentage 70 in
 *    older revisions) starts a new probe at further_exponential_probe_scale 2 × the result;
 *  - every probe rate is limited to the max bitrate (kDefaultMaxProbingBitrateBps 5 Mbit/s if
 *    none); a capped probe ends exponential probing;
 *  - periodic ALR probing (EnablePeriodicAlrProbing, on by default here): in ALR, every
 *    alr_probing_interval 5 s after max(ALR start, last probe), probe at alr_probe_scale
 *    2 × the estimate;
 *  - probing after a large drop (RequestProbe): an estimate below kBitrateDropThreshold 0.66 ×
 *    the previous one records a large drop; when the delay-based detector then recovers from
 *    over-use (onRecoveredFromOveruse), within kBitrateDropTimeoutMs 5 s of the drop and
 *    more than kMinTimeBetweenAlrProbesMs 5 s after the previous drop probe, and if
 *    (1 − kProbeUncertainty 0.05) × kProbeFractionAfterDrop 0.85 × the pre-drop estimate is
 *    above the current estimate, one probe at 0.85 × the pre-drop estimate. libwebrtc does
 *    this only in ALR or within kAlrEndedTimeoutMs 3 s of ALR end unless the
 *    WebRTC-BweRapidRecoveryExperiment is enabled; `rapidRecovery` (default true) enables it.
 *
 * Addition (off by default, so the default is libwebrtc's behaviour): periodic probing outside
 * ALR (`periodicProbeIntervalMs`). libwebrtc probes a sender that is not application limited
 * only after a large drop, so after the capacity returns its estimate climbs at AIMD's
 * additive increase (tens of kbit/s per second near the last capacity estimate). With the
 * option, every interval after the last probe and after the last delay-based back-off — while
 * probing is complete and the delay detector reads normal — one cluster at alr_probe_scale
 * 2 × the estimate is sent, as an ALR probe would be (further exponential probing on a good
 * result included). A probe costs kMinProbeDurationMs 15 ms at 2 × the estimate: at most
 * ~15 ms of queue when the capacity has not grown. Its result only ever raises the estimate (Gcc drops a lower one): the probe looks
 * for capacity, and lowering the estimate stays the delay detector's job. libwebrtc's own
 * probes may lower it (down to 0.85 × the acknowledged rate); a periodic probe that did so would
 * cut the rate every interval whenever a probe reads a little low.
 *
 * Deviation: libwebrtc decides on further exponential probing in SetEstimatedBitrate, i.e. on
 * the next target after a probe result was applied (that target is the probe result, capped
 * by the max bitrate and the loss-based control); here `onProbeResult` is that decision and
 * `onEstimate` only tracks the estimate and large drops.
 */

export interface ProbeCluster {
  id: number;
  targetBps: number;
  /** kMinProbePacketsSent = 5. */
  minPackets: number;
  /** targetBps × kMinProbeDurationMs (15 ms) / 8. */
  minBytes: number;
}

/** probe_controller.cc kMinProbePacketsSent. */
export const kMinProbePacketsSent = 5;
/** probe_controller.cc kMinProbeDurationMs. */
export const kMinProbeDurationMs = 15;
/** probe_controller.cc kMaxWaitingTimeForProbingResultMs. */
export const kMaxWaitingTimeForProbingResultMs = 1000;
/** probe_controller.cc kDefaultMaxProbingBitrateBps (no max bitrate configured). */
export const kDefaultMaxProbingBitrateBps = 5_000_000;
/** probe_controller.cc kBitrateDropThreshold / kBitrateDropTimeoutMs / kProbeFractionAfterDrop. */
export const kBitrateDropThreshold = 0.66;
export const kBitrateDropTimeoutMs = 5000;
export const kProbeFractionAfterDrop = 0.85;
/** probe_controller.cc kAlrEndedTimeoutMs. */
export const kAlrEndedTimeoutMs = 3000;
/** probe_controller.cc kMinTimeBetweenAlrProbesMs. */
export const kMinTimeBetweenAlrProbesMs = 5000;
/** probe_controller.cc kProbeUncertainty. */
export const kProbeUncertainty = 0.05;
/** ProbeControllerConfig defaults. */
export const kFirstExponentialProbeScale = 3.0;
export const kSecondExponentialProbeScale = 6.0;
export const kFurtherExponentialProbeScale = 2;
/** further_probe_threshold (kRepeatedProbeMinPercentage = 70 in older revisions). */
export const kFurtherProbeThreshold = 0.7;
export const kAlrProbingIntervalMs = 5000;
export const kAlrProbeScale = 2;

export interface ProbeControllerOptions {
  startBps: number;
  /** Max bitrate; ≤ 0 or non-finite → kDefaultMaxProbingBitrateBps limits probes. */
  maxBps: number;
  /** Time of construction (libwebrtc Reset(at_time)); default 0. */
  nowMs?: number;
  /** EnablePeriodicAlrProbing; default true. */
  periodicAlrProbing?: boolean;
  /** WebRTC-BweRapidRecoveryExperiment: drop probes outside ALR too; default true. */
  rapidRecovery?: boolean;
  /** Probe every this many ms outside ALR too (our addition, see above); 0 / absent = never. */
  periodicProbeIntervalMs?: number;
}

type State = 'init' | 'waitingForProbingResult' | 'probingComplete';

export class ProbeController {
  private state: State = 'init';
  /** 0 = further probing disabled (kExponentialProbingDisabled). */
  private minBitrateToProbeFurther = 0;
  private timeLastProbingInitiated: number;
  private estimatedBps: number;
  private readonly startBps: number;
  private maxBps: number;
  private lastBweDropProbingTime: number;
  private timeOfLastLargeDrop: number;
  private bitrateBeforeLastLargeDrop = 0;
  private alrStartMs: number | null = null;
  private alrEndMs: number | null = null;
  private nextClusterId = 1;
  private pending: ProbeCluster[] = [];
  private readonly periodicAlrProbing: boolean;
  private readonly rapidRecovery: boolean;
  private readonly periodicProbeIntervalMs: number;
  private delayNormal = true;
  private lastDecreaseMs = -Infinity;
  private readonly periodicIds = new Set<number>();

  constructor(opts: ProbeControllerOptions) {
    const now = opts.nowMs ?? 0;
    this.startBps = opts.startBps;
    this.estimatedBps = opts.startBps;
    this.maxBps = opts.maxBps;
    this.timeLastProbingInitiated = now;
    this.lastBweDropProbingTime = now;
    this.timeOfLastLargeDrop = now;
    this.periodicAlrProbing = opts.periodicAlrProbing ?? true;
    this.rapidRecovery = opts.rapidRecovery ?? true;
    this.periodicProbeIntervalMs = opts.periodicProbeIntervalMs ?? 0;
  }

  /** Whether cluster `id` was a periodic probe outside ALR (our addition), not a libwebrtc probe. */
  isPeriodicProbe(id: number): boolean {
    return this.periodicIds.has(id);
  }

  /**
   * The delay-based detector's state and its last back-off: a periodic probe starts only while
   * the detector reads 'normal' and one interval after the last back-off. Probing while a queue
   * still drains (under-use) would raise the estimate to the link rate and leave that queue
   * standing.
   */
  onDelayDetector(state: 'normal' | 'overusing' | 'underusing', lastDecreaseMs: number): void {
    this.delayNormal = state === 'normal';
    this.lastDecreaseMs = lastDecreaseMs;
  }

  setMaxBitrate(bps: number): void {
    this.maxBps = bps;
  }

  /** The current target (SetEstimatedBitrate): records large drops. */
  onEstimate(targetBps: number, nowMs: number): void {
    if (targetBps < kBitrateDropThreshold * this.estimatedBps) {
      this.timeOfLastLargeDrop = nowMs;
      this.bitrateBeforeLastLargeDrop = this.estimatedBps;
    }
    this.estimatedBps = targetBps;
  }

  /** A probe result: probe further while results exceed 0.7 × the last probe's target. */
  onProbeResult(bps: number, nowMs: number): void {
    if (this.state === 'waitingForProbingResult' && this.minBitrateToProbeFurther !== 0 && bps > this.minBitrateToProbeFurther) {
      this.initiateProbing(nowMs, [kFurtherExponentialProbeScale * bps], true);
    }
  }

  /** ALR state (SetAlrStartTimeMs / SetAlrEndedTimeMs). `startMs` = when the ALR began (default now). */
  onAlr(inAlr: boolean, nowMs: number, startMs?: number): void {
    if (inAlr) {
      if (this.alrStartMs === null) this.alrStartMs = startMs ?? nowMs;
    } else if (this.alrStartMs !== null) {
      this.alrStartMs = null;
      this.alrEndMs = nowMs;
    }
  }

  /** The delay-based detector went from under-use back to normal (RequestProbe). */
  onRecoveredFromOveruse(nowMs: number): void {
    const inAlr = this.alrStartMs !== null;
    const alrEndedRecently = this.alrEndMs !== null && nowMs - this.alrEndMs < kAlrEndedTimeoutMs;
    if (!(inAlr || alrEndedRecently || this.rapidRecovery)) return;
    if (this.state !== 'probingComplete') return;
    const suggested = kProbeFractionAfterDrop * this.bitrateBeforeLastLargeDrop;
    const minExpected = (1 - kProbeUncertainty) * suggested;
    const sinceDrop = nowMs - this.timeOfLastLargeDrop;
    const sinceProbe = nowMs - this.lastBweDropProbingTime;
    if (minExpected > this.estimatedBps && sinceDrop < kBitrateDropTimeoutMs && sinceProbe > kMinTimeBetweenAlrProbesMs) {
      this.lastBweDropProbingTime = nowMs;
      this.initiateProbing(nowMs, [suggested], false);
    }
  }

  /** Clusters to send now (initial probing on the first call; then Process: timeout, ALR probes). */
  takeClusters(nowMs: number): ProbeCluster[] {
    if (this.state === 'init') this.initiateExponentialProbing(nowMs);
    this.process(nowMs);
    const out = this.pending;
    this.pending = [];
    return out;
  }

  get waitingForResult(): boolean {
    return this.state === 'waitingForProbingResult';
  }

  private initiateExponentialProbing(nowMs: number): void {
    this.initiateProbing(nowMs, [kFirstExponentialProbeScale * this.startBps, kSecondExponentialProbeScale * this.startBps], true);
  }

  private process(nowMs: number): void {
    if (nowMs - this.timeLastProbingInitiated > kMaxWaitingTimeForProbingResultMs) {
      if (this.state === 'waitingForProbingResult') {
        this.state = 'probingComplete';
        this.minBitrateToProbeFurther = 0;
      }
    }
    if (this.periodicAlrProbing && this.state === 'probingComplete') {
      // Probe bandwidth periodically when in ALR state.
      if (this.alrStartMs !== null && this.estimatedBps > 0) {
        const next = Math.max(this.alrStartMs, this.timeLastProbingInitiated) + kAlrProbingIntervalMs;
        if (nowMs >= next) this.initiateProbing(nowMs, [this.estimatedBps * kAlrProbeScale], true);
      }
    }
    if (this.periodicProbeIntervalMs > 0 && this.state === 'probingComplete' && this.alrStartMs === null && this.delayNormal) {
      const since = Math.max(this.timeLastProbingInitiated, this.lastDecreaseMs);
      if (nowMs >= since + this.periodicProbeIntervalMs && this.estimatedBps > 0) {
        const first = this.nextClusterId;
        this.initiateProbing(nowMs, [this.estimatedBps * kAlrProbeScale], true);
        for (let id = first; id < this.nextClusterId; id++) this.periodicIds.add(id);
        // Results arrive within kMaxWaitingTimeForProbingResultMs; older ids are of no use.
        for (const id of this.periodicIds) if (id < first - 16) this.periodicIds.delete(id);
      }
    }
  }

  private initiateProbing(nowMs: number, bitrates: number[], probeFurther: boolean): void {
    const maxProbe = this.maxBps > 0 && Number.isFinite(this.maxBps) ? this.maxBps : kDefaultMaxProbingBitrateBps;
    for (let bitrate of bitrates) {
      if (bitrate > maxProbe) {
        bitrate = maxProbe;
        probeFurther = false;
      }
      this.pending.push({
        id: this.nextClusterId++,
        targetBps: bitrate,
        minPackets: kMinProbePacketsSent,
        minBytes: (bitrate * kMinProbeDurationMs) / 8000,
      });
    }
    this.timeLastProbingInitiated = nowMs;
    if (probeFurther) {
      this.state = 'waitingForProbingResult';
      this.minBitrateToProbeFurther = bitrates[bitrates.length - 1]! * kFurtherProbeThreshold;
    } else {
      this.state = 'probingComplete';
      this.minBitrateToProbeFurther = 0;
    }
  }
}
