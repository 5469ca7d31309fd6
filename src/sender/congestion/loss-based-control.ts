/**
 * Loss-based control and the final target: the classic loss rules of
 * libwebrtc modules/congestion_controller/goog_cc/send_side_bandwidth_estimation.cc
 * (SendSideBandwidthEstimation::UpdatePacketsLost / UpdateEstimate / UpdateMinHistory /
 * UpdateTargetBitrate, 2020 revision; the same rules are in the current code (jitsi port,
 * M128) for when LossBasedBweV2 is not in use), draft-ietf-rmcat-gcc-02 §6. The target is also capped by the delay-based
 * estimate and the configured bounds here, as in libwebrtc.
 *
 * Loss fraction: packets are accumulated until at least kLimitNumPackets = 20 are covered,
 * then fraction_loss_q8 = min(255, (lost << 8) / expected)  (a Q8 fraction, like RTCP RR).
 *
 * UpdateEstimate (on each loss report and on each feedback, libwebrtc's process tick):
 *   start phase (first kStartPhase = 2 s after the first report) with no loss so far:
 *       target = max(target, delay-based estimate)    — trust the delay-based ramp-up;
 *   loss ≤ 2 % (kDefaultLowLossThreshold):
 *       target = increaseFactor · min(target over the last kBweIncreaseInterval = 1 s) + 1 kbit/s
 *       (the 1-s minimum history makes this a per-second step, whatever the call rate);
 *   2 % < loss ≤ 10 %: hold;
 *   loss > 10 % (kDefaultHighLossThreshold), at most once per kBweDecreaseInterval (300 ms)
 *       + RTT and once per loss report:
 *       target = target · (512 − loss_q8) / 512     = target · (1 − 0.5 · loss);
 *   reports older than 1.2 · kMaxRtcpFeedbackInterval (6 s) are not acted on;
 *   always: target ≤ min(delay-based estimate, max bitrate), target ≥ min bitrate.
 *
 * increaseFactor defaults to 1.05, draft-ietf-rmcat-gcc-02 §6 and the project brief;
 * libwebrtc uses 1.08 here.
 */

/** send_side_bandwidth_estimation.cc kBweIncreaseInterval. */
export const kBweIncreaseIntervalMs = 1000;
/** send_side_bandwidth_estimation.cc kBweDecreaseInterval. */
export const kBweDecreaseIntervalMs = 300;
/** send_side_bandwidth_estimation.cc kStartPhase. */
export const kStartPhaseMs = 2000;
/** send_side_bandwidth_estimation.cc kLimitNumPackets. */
export const kLimitNumPackets = 20;
/** send_side_bandwidth_estimation.cc kMaxRtcpFeedbackInterval. */
export const kMaxRtcpFeedbackIntervalMs = 5000;
/** send_side_bandwidth_estimation.cc kDefaultLowLossThreshold. */
export const kDefaultLowLossThreshold = 0.02;
/** send_side_bandwidth_estimation.cc kDefaultHighLossThreshold. */
export const kDefaultHighLossThreshold = 0.1;
/** send_side_bandwidth_estimation.cc kDefaultBitrateThreshold (loss below this rate is ignored). */
export const kDefaultBitrateThresholdBps = 0;
/** send_side_bandwidth_estimation.cc kDefaultMaxBitrate (1 Gbit/s) when no max is configured. */
export const kDefaultMaxBitrateBps = 1_000_000_000;
/** draft-ietf-rmcat-gcc-02 §6: As = 1.05 · As(i−1) when loss < 2 %. */
export const kDraftLossIncreaseFactor = 1.05;
/** send_side_bandwidth_estimation.cc: min_bitrate_history_.front() · 1.08. */
export const kLibwebrtcLossIncreaseFactor = 1.08;
/** send_side_bandwidth_estimation.cc: new_bitrate += 1 kbit/s "to make sure we do not get stuck". */
export const kLossIncreaseOffsetBps = 1000;

/** Which rule of UpdateEstimate last ran (debug trace). */
export type LossRule = 'start-phase' | 'increase' | 'hold' | 'decrease' | 'no-report';

export interface LossBasedOptions {
  startBps: number;
  minBps: number;
  maxBps: number;
  /** Default 1.05 (kDraftLossIncreaseFactor). */
  increaseFactor?: number;
}

export class LossBasedControl {
  private lostPacketsSinceLastLossUpdate = 0;
  private expectedPacketsSinceLastLossUpdate = 0;
  private currentTarget: number;
  private minBitrateConfigured: number;
  private maxBitrateConfigured: number;
  private hasDecreasedSinceLastFractionLoss = false;
  private lastLossPacketReport = -Infinity;
  private lastFractionLossQ8 = 0;
  private lastRoundTripTimeMs = 0;
  private delayBasedLimit = Infinity;
  private timeLastDecrease = -Infinity;
  private firstReportTime = -Infinity;
  /** (time, target) pairs; front holds the minimum target of the last second. */
  private minBitrateHistory: Array<[number, number]> = [];
  private readonly increaseFactor: number;
  private lastRuleValue: LossRule = 'no-report';

  constructor(opts: LossBasedOptions) {
    this.increaseFactor = opts.increaseFactor ?? kDraftLossIncreaseFactor;
    this.minBitrateConfigured = opts.minBps;
    this.maxBitrateConfigured = opts.maxBps;
    this.setMinMaxBitrate(opts.minBps, opts.maxBps);
    this.currentTarget = 0;
    this.setSendBitrate(opts.startBps);
  }

  setMinMaxBitrate(minBps: number, maxBps: number): void {
    this.minBitrateConfigured = Math.max(minBps, 5000); // congestion_controller::GetMinBitrate()
    this.maxBitrateConfigured =
      maxBps > 0 && Number.isFinite(maxBps) ? Math.max(this.minBitrateConfigured, maxBps) : kDefaultMaxBitrateBps;
  }

  /** A new send bitrate (start, or a probe result): resets the delay-based cap and the history. */
  setSendBitrate(bps: number): void {
    // Reset to avoid being capped by the estimate.
    this.delayBasedLimit = Infinity;
    this.updateTargetBitrate(bps);
    // Clear last sent bitrate history so the new value can be used directly and not capped.
    this.minBitrateHistory = [];
  }

  /** A new delay-based estimate: caps the target at once (ApplyTargetLimits). */
  updateDelayBasedEstimate(bps: number): void {
    this.delayBasedLimit = bps === 0 ? Infinity : bps;
    this.applyTargetLimits();
  }

  /** Lost / expected packet counts since the last call (an RTCP receive block, or transport feedback). */
  updatePacketsLost(packetsLost: number, numberOfPackets: number, atMs: number): void {
    if (!Number.isFinite(this.firstReportTime)) this.firstReportTime = atMs;
    // Check sequence number diff and weight loss report.
    if (numberOfPackets > 0) {
      const expected = this.expectedPacketsSinceLastLossUpdate + numberOfPackets;
      // Don't generate a loss rate until it can be based on enough packets.
      if (expected < kLimitNumPackets) {
        // Accumulate reports.
        this.expectedPacketsSinceLastLossUpdate = expected;
        this.lostPacketsSinceLastLossUpdate += packetsLost;
        return;
      }
      this.hasDecreasedSinceLastFractionLoss = false;
      const lostQ8 = Math.max(this.lostPacketsSinceLastLossUpdate + packetsLost, 0) * 256;
      this.lastFractionLossQ8 = Math.min(Math.floor(lostQ8 / expected), 255);
      // Reset accumulators.
      this.lostPacketsSinceLastLossUpdate = 0;
      this.expectedPacketsSinceLastLossUpdate = 0;
      this.lastLossPacketReport = atMs;
      this.updateEstimate(atMs);
    }
  }

  /**
   * A loss fraction already computed elsewhere (RTCP RR "fraction lost" = q8/256):
   * taken as one complete report.
   */
  updateFractionLost(fraction: number, atMs: number): void {
    if (!Number.isFinite(this.firstReportTime)) this.firstReportTime = atMs;
    this.hasDecreasedSinceLastFractionLoss = false;
    this.lastFractionLossQ8 = Math.min(Math.max(Math.round(fraction * 256), 0), 255);
    this.lostPacketsSinceLastLossUpdate = 0;
    this.expectedPacketsSinceLastLossUpdate = 0;
    this.lastLossPacketReport = atMs;
    this.updateEstimate(atMs);
  }

  updateRtt(rttMs: number): void {
    // Update RTT if we were able to compute an RTT based on this RTCP.
    if (rttMs > 0) this.lastRoundTripTimeMs = rttMs;
  }

  updateEstimate(atMs: number): void {
    // We trust the delay-based estimate during the first 2 seconds if we haven't had any
    // packet loss reported, to allow startup bitrate probing.
    if (this.lastFractionLossQ8 === 0 && this.isInStartPhase(atMs)) {
      let newBitrate = this.currentTarget;
      if (Number.isFinite(this.delayBasedLimit)) newBitrate = Math.max(this.delayBasedLimit, newBitrate);
      if (newBitrate !== this.currentTarget) {
        this.lastRuleValue = 'start-phase';
        this.minBitrateHistory = [[atMs, this.currentTarget]];
        this.updateTargetBitrate(newBitrate);
        return;
      }
    }
    this.updateMinHistory(atMs);
    if (!Number.isFinite(this.lastLossPacketReport)) {
      // No feedback received.
      this.lastRuleValue = 'no-report';
      this.applyTargetLimits();
      return;
    }
    const timeSinceLossPacketReport = atMs - this.lastLossPacketReport;
    if (timeSinceLossPacketReport < 1.2 * kMaxRtcpFeedbackIntervalMs) {
      const loss = this.lastFractionLossQ8 / 256;
      if (this.currentTarget < kDefaultBitrateThresholdBps || loss <= kDefaultLowLossThreshold) {
        // Loss < 2 %: increase from the minimum target of the last kBweIncreaseInterval, so
        // the step is per second however often this runs; +1 kbit/s so we do not get stuck.
        let newBitrate = Math.floor(this.minBitrateHistory[0]![1] * this.increaseFactor + 0.5);
        newBitrate += kLossIncreaseOffsetBps;
        this.lastRuleValue = 'increase';
        this.updateTargetBitrate(newBitrate);
        return;
      } else if (this.currentTarget > kDefaultBitrateThresholdBps) {
        if (loss <= kDefaultHighLossThreshold) {
          // Loss between 2 % and 10 %: do nothing.
        } else if (
          !this.hasDecreasedSinceLastFractionLoss &&
          atMs - this.timeLastDecrease >= kBweDecreaseIntervalMs + this.lastRoundTripTimeMs
        ) {
          // Loss > 10 %: limit the rate decreases to once a kBweDecreaseInterval + rtt.
          this.timeLastDecrease = atMs;
          // newRate = rate · (1 − 0.5·lossRate), where packetLoss = 256·lossRate.
          const newBitrate = Math.trunc((this.currentTarget * (512 - this.lastFractionLossQ8)) / 512);
          this.hasDecreasedSinceLastFractionLoss = true;
          this.lastRuleValue = 'decrease';
          this.updateTargetBitrate(newBitrate);
          return;
        }
      }
    }
    this.lastRuleValue = 'hold';
    this.applyTargetLimits();
  }

  /** The rule UpdateEstimate last applied (debug trace). */
  get lastRule(): LossRule {
    return this.lastRuleValue;
  }

  /** The target rate, bit/s. */
  targetRate(): number {
    return Math.max(this.minBitrateConfigured, this.currentTarget);
  }

  /** The loss fraction last acted on (Q8 / 256). */
  fractionLoss(): number {
    return this.lastFractionLossQ8 / 256;
  }

  get delayBasedLimitBps(): number {
    return this.delayBasedLimit;
  }

  private isInStartPhase(atMs: number): boolean {
    return !Number.isFinite(this.firstReportTime) || atMs - this.firstReportTime < kStartPhaseMs;
  }

  private updateMinHistory(atMs: number): void {
    // Remove old data points from history. Since history precision is in ms, add one so it
    // is able to increase bitrate if it is off by as little as 0.5 ms.
    while (this.minBitrateHistory.length > 0 && atMs - this.minBitrateHistory[0]![0] + 1 > kBweIncreaseIntervalMs) {
      this.minBitrateHistory.shift();
    }
    // Typical minimum sliding-window algorithm: pop values higher than current bitrate before pushing it.
    while (
      this.minBitrateHistory.length > 0 &&
      this.currentTarget <= this.minBitrateHistory[this.minBitrateHistory.length - 1]![1]
    ) {
      this.minBitrateHistory.pop();
    }
    this.minBitrateHistory.push([atMs, this.currentTarget]);
  }

  private upperLimit(): number {
    return Math.min(this.delayBasedLimit, this.maxBitrateConfigured);
  }

  private updateTargetBitrate(bps: number): void {
    let newBitrate = Math.min(bps, this.upperLimit());
    if (newBitrate < this.minBitrateConfigured) newBitrate = this.minBitrateConfigured;
    this.currentTarget = newBitrate;
  }

  private applyTargetLimits(): void {
    this.updateTargetBitrate(this.currentTarget);
  }
}
