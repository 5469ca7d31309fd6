/**
 * AIMD rate control: the delay-based rate, driven by the over-use detector's hypothesis.
 *
 * Port of libwebrtc modules/remote_bitrate_estimator/aimd_rate_control.cc, the revision
 * with the optional-new_bitrate ChangeBitrate (2021+, with WebRTC-Bwe-SubtractAdditionalBackoffTerm,
 * 2022+), send-side configuration, no NetworkStateEstimate (so the
 * estimate-bounded-increase clamp is inactive). draft-ietf-rmcat-gcc-02 §5.5.
 *
 * State machine (ChangeState): normal → Increase (from Hold), overusing → Decrease,
 * underusing → Hold. After a decrease the state is Hold until the next 'normal'.
 *
 *   Increase: limit = 1.5 · acknowledged + 10 kbit/s (the "do not increase without bound
 *             when the sender is application limited" rule; in ALR with
 *             WebRTC-DontIncreaseDelayBasedBweInAlr the limit is the current rate);
 *             if current < limit:
 *               no link-capacity estimate  → multiplicative: + max(current·(1.08^min(Δt,1 s) − 1), 1 kbit/s)
 *               link-capacity estimate     → additive (near convergence):
 *                   + max(4 kbit/s, avg_packet_bits / (2·(rtt + 100 ms))) per second,
 *                     avg packet = a 30 fps frame at the current rate split into ≤1200-byte packets
 *               new = min(increased, limit)
 *             (the capacity estimate is dropped when acknowledged > its upper bound)
 *   Decrease: new = 0.85 · acknowledged (kDefaultBackoffFactor)
 *             [− 5 kbit/s if subtractAdditionalBackoffTerm, libwebrtc's default since 2022];
 *             if that is above current and a capacity estimate exists, 0.85 · capacity instead;
 *             applied only if below current (never increase on over-use).
 *             The acknowledged rate feeds the link-capacity estimate; state → Hold.
 *   Finally new ≥ min bitrate.
 */
import { LinkCapacityEstimator } from './link-capacity-estimator';
import type { BandwidthUsage } from './types';

/** aimd_rate_control.cc kDefaultBackoffFactor (beta_). */
export const kDefaultBackoffFactor = 0.85;
/** aimd_rate_control.cc kDefaultRtt. */
export const kDefaultRttMs = 200;
/** aimd_rate_control.cc MultiplicativeRateIncrease alpha (per second). */
export const kMultiplicativeIncreasePerSecond = 1.08;
/** aimd_rate_control.cc GetNearMaxIncreaseRateBpsPerSecond kMinIncreaseRateBpsPerSecond. */
export const kMinIncreaseRateBpsPerSecond = 4000;
/** congestion_controller/goog_cc (bwe_defines) kCongestionControllerMinBitrate. */
export const kCongestionControllerMinBitrateBps = 5000;
/** aimd_rate_control.cc ChangeBitrate increase_limit = 1.5 · throughput + 10 kbit/s. */
export const kIncreaseLimitThroughputFactor = 1.5;
export const kIncreaseLimitOffsetBps = 10_000;
/** aimd_rate_control.cc: decreased_bitrate -= 5 kbit/s (WebRTC-Bwe-SubtractAdditionalBackoffTerm). */
export const kAdditionalBackoffTermBps = 5000;

export type RateControlState = 'hold' | 'increase' | 'decrease';

/** Why the delay-based rate last changed (for the debug trace). */
export type AimdReason =
  | 'overuse-decrease'
  | 'increase-multiplicative'
  | 'increase-additive'
  | 'increase-limited'
  | 'probe-set-estimate'
  | 'halve-no-acked';

/** The last AIMD decision that changed or tried to change the rate. */
export interface AimdDecision {
  atMs: number;
  reason: AimdReason;
  /** The acknowledged rate the decision used (bit/s), null if none. */
  ackedBps: number | null;
  oldBps: number;
  newBps: number;
}

export interface RateControlInput {
  bwState: BandwidthUsage;
  /** Acknowledged bitrate, bit/s; null if not measured yet. */
  estimatedThroughputBps: number | null;
}

export interface AimdOptions {
  /** β, default 0.85 (kDefaultBackoffFactor). */
  backoffFactor?: number;
  /**
   * Subtract 5 kbit/s after the β back-off, as libwebrtc does by default since 2022
   * (WebRTC-Bwe-SubtractAdditionalBackoffTerm). Default false here: the brief and
   * draft-ietf-rmcat-gcc-02 specify exactly 0.85 × acknowledged.
   */
  subtractAdditionalBackoffTerm?: boolean;
  /** WebRTC-DontIncreaseDelayBasedBweInAlr (libwebrtc default off): no increase while in ALR. */
  noIncreaseInAlr?: boolean;
}

export class AimdRateControl {
  private minConfiguredBitrate = kCongestionControllerMinBitrateBps;
  private currentBitrate = 30_000_000; // max_configured_bitrate_ until SetStartBitrate
  private latestEstimatedThroughput = this.currentBitrate;
  private readonly linkCapacity = new LinkCapacityEstimator();
  private rateControlState: RateControlState = 'hold';
  private timeLastBitrateChange = -Infinity;
  private timeLastBitrateDecrease = -Infinity;
  private timeFirstThroughputEstimate = -Infinity;
  private bitrateIsInitialized = false;
  private readonly beta: number;
  private inAlr = false;
  private rttMs = kDefaultRttMs;
  private lastDecreaseBps: number | null = null;
  private readonly subtractAdditionalBackoffTerm: boolean;
  private readonly noIncreaseInAlr: boolean;
  private lastDecisionValue: AimdDecision | null = null;

  constructor(opts: AimdOptions = {}) {
    this.beta = opts.backoffFactor ?? kDefaultBackoffFactor;
    this.subtractAdditionalBackoffTerm = opts.subtractAdditionalBackoffTerm ?? false;
    this.noIncreaseInAlr = opts.noIncreaseInAlr ?? false;
  }

  setStartBitrate(bps: number): void {
    this.currentBitrate = bps;
    this.latestEstimatedThroughput = bps;
    this.bitrateIsInitialized = true;
  }

  setMinBitrate(bps: number): void {
    this.minConfiguredBitrate = bps;
    this.currentBitrate = Math.max(bps, this.currentBitrate);
  }

  validEstimate(): boolean {
    return this.bitrateIsInitialized;
  }

  /** Back off again only after one RTT (clamped to 10–200 ms), or at once if throughput < half the estimate. */
  timeToReduceFurther(atMs: number, estimatedThroughputBps: number): boolean {
    const reductionIntervalMs = Math.min(Math.max(this.rttMs, 10), 200);
    if (atMs - this.timeLastBitrateChange >= reductionIntervalMs) return true;
    if (this.validEstimate()) {
      return estimatedThroughputBps < 0.5 * this.latestEstimate();
    }
    return false;
  }

  initialTimeToReduceFurther(atMs: number): boolean {
    return this.validEstimate() && this.timeToReduceFurther(atMs, this.latestEstimate() / 2 - 1);
  }

  latestEstimate(): number {
    return this.currentBitrate;
  }

  setRtt(rttMs: number): void {
    this.rttMs = rttMs;
  }

  setInApplicationLimitedRegion(inAlr: boolean): void {
    this.inAlr = inAlr;
  }

  get state(): RateControlState {
    return this.rateControlState;
  }
  get hasLinkCapacityEstimate(): boolean {
    return this.linkCapacity.hasEstimate();
  }
  get linkCapacityEstimateBps(): number | null {
    return this.linkCapacity.hasEstimate() ? this.linkCapacity.estimateBps() : null;
  }

  update(input: RateControlInput, atMs: number): number {
    // Set the initial bit rate value to what we're receiving the first five seconds
    // (only when no start bitrate was given).
    if (!this.bitrateIsInitialized) {
      const kInitializationTimeMs = 5000;
      if (this.timeFirstThroughputEstimate === -Infinity) {
        if (input.estimatedThroughputBps !== null) this.timeFirstThroughputEstimate = atMs;
      } else if (atMs - this.timeFirstThroughputEstimate > kInitializationTimeMs && input.estimatedThroughputBps !== null) {
        this.currentBitrate = input.estimatedThroughputBps;
        this.bitrateIsInitialized = true;
      }
    }
    this.changeBitrate(input, atMs);
    return this.currentBitrate;
  }

  setEstimate(bps: number, atMs: number, reason: AimdReason = 'probe-set-estimate'): void {
    this.bitrateIsInitialized = true;
    const prev = this.currentBitrate;
    this.currentBitrate = this.clampBitrate(bps);
    this.timeLastBitrateChange = atMs;
    if (this.currentBitrate < prev) this.timeLastBitrateDecrease = atMs;
    this.lastDecisionValue = { atMs, reason, ackedBps: null, oldBps: prev, newBps: this.currentBitrate };
  }

  /** The last decrease, increase or set estimate (debug trace); null before any. */
  get lastDecision(): AimdDecision | null {
    return this.lastDecisionValue;
  }

  /** Additive increase rate near convergence: one average packet per response time (2·(rtt+100 ms)). */
  getNearMaxIncreaseRateBpsPerSecond(): number {
    const kFrameIntervalS = 1 / 30;
    const frameSizeBits = this.currentBitrate * kFrameIntervalS;
    const kPacketSizeBits = 1200 * 8;
    const packetsPerFrame = Math.ceil(frameSizeBits / kPacketSizeBits);
    const avgPacketSizeBits = frameSizeBits / packetsPerFrame;
    // Approximate the over-use estimator delay to 100 ms.
    const responseTimeS = ((this.rttMs + 100) * 2) / 1000;
    const increaseRateBpsPerSecond = avgPacketSizeBits / responseTimeS;
    return Math.max(kMinIncreaseRateBpsPerSecond, increaseRateBpsPerSecond);
  }

  /** Expected time to recover the last decrease at the additive rate, clamped 2–50 s (default 3 s). */
  getExpectedBandwidthPeriodMs(): number {
    if (this.lastDecreaseBps === null) return 3000;
    const seconds = this.lastDecreaseBps / this.getNearMaxIncreaseRateBpsPerSecond();
    return Math.min(Math.max(seconds * 1000, 2000), 50_000);
  }

  private changeBitrate(input: RateControlInput, atMs: number): void {
    let newBitrate: number | null = null;
    let reason: AimdReason | null = null;
    const oldBitrate = this.currentBitrate;
    const estimatedThroughput = input.estimatedThroughputBps ?? this.latestEstimatedThroughput;
    if (input.estimatedThroughputBps !== null) this.latestEstimatedThroughput = input.estimatedThroughputBps;

    // An over-use should always trigger us to reduce the bitrate, even though we have not
    // yet established our first estimate.
    if (!this.bitrateIsInitialized && input.bwState !== 'overusing') return;

    this.changeState(input, atMs);

    switch (this.rateControlState) {
      case 'hold':
        break;
      case 'increase': {
        if (estimatedThroughput > this.linkCapacity.upperBoundBps()) this.linkCapacity.reset();
        // We limit the new bitrate based on the throughput to avoid unlimited bitrate
        // increases. We allow a bit more lag at very low rates to not too easily get stuck
        // if the encoder produces uneven outputs.
        let increaseLimit = kIncreaseLimitThroughputFactor * estimatedThroughput + kIncreaseLimitOffsetBps;
        if (this.inAlr && this.noIncreaseInAlr) {
          // Do not increase the delay based estimate in ALR since the estimator will not be
          // able to get the feedback necessary to detect if the new estimate is correct.
          increaseLimit = this.currentBitrate;
        }
        if (this.currentBitrate < increaseLimit) {
          let increased: number;
          if (this.linkCapacity.hasEstimate()) {
            // Close to the link capacity: additive increase.
            increased = this.currentBitrate + this.additiveRateIncrease(atMs, this.timeLastBitrateChange);
          } else {
            // No estimate of the link capacity: faster ramp-up to discover it.
            increased =
              this.currentBitrate + this.multiplicativeRateIncrease(atMs, this.timeLastBitrateChange, this.currentBitrate);
          }
          newBitrate = Math.min(increased, increaseLimit);
          reason =
            increased > increaseLimit
              ? 'increase-limited'
              : this.linkCapacity.hasEstimate()
                ? 'increase-additive'
                : 'increase-multiplicative';
        }
        this.timeLastBitrateChange = atMs;
        break;
      }
      case 'decrease': {
        // Set bit rate to something slightly lower than the measured throughput to get rid
        // of any self-induced delay.
        let decreased = estimatedThroughput * this.beta;
        if (decreased > kAdditionalBackoffTermBps && this.subtractAdditionalBackoffTerm) {
          decreased -= kAdditionalBackoffTermBps;
        }
        if (decreased > this.currentBitrate && this.linkCapacity.hasEstimate()) {
          decreased = this.beta * this.linkCapacity.estimateBps();
        }
        // Avoid increasing the rate when over-using.
        if (decreased < this.currentBitrate) newBitrate = decreased;
        reason = 'overuse-decrease';

        if (this.bitrateIsInitialized && estimatedThroughput < this.currentBitrate) {
          this.lastDecreaseBps = newBitrate === null ? 0 : this.currentBitrate - newBitrate;
        }
        if (estimatedThroughput < this.linkCapacity.lowerBoundBps()) {
          // The current throughput is far from the estimated link capacity. Clear the
          // estimate to allow an immediate update in OnOveruseDetected.
          this.linkCapacity.reset();
        }
        this.bitrateIsInitialized = true;
        this.linkCapacity.onOveruseDetected(estimatedThroughput);
        // Stay on hold until the pipes are cleared.
        this.rateControlState = 'hold';
        this.timeLastBitrateChange = atMs;
        this.timeLastBitrateDecrease = atMs;
        break;
      }
    }
    this.currentBitrate = this.clampBitrate(newBitrate ?? this.currentBitrate);
    if (reason !== null) {
      this.lastDecisionValue = { atMs, reason, ackedBps: estimatedThroughput, oldBps: oldBitrate, newBps: this.currentBitrate };
    }
  }

  private clampBitrate(bps: number): number {
    return Math.max(bps, this.minConfiguredBitrate);
  }

  private multiplicativeRateIncrease(atMs: number, lastMs: number, currentBitrate: number): number {
    let alpha = kMultiplicativeIncreasePerSecond;
    if (Number.isFinite(lastMs)) {
      alpha = Math.pow(alpha, Math.min((atMs - lastMs) / 1000, 1.0));
    }
    return Math.max(currentBitrate * (alpha - 1.0), 1000);
  }

  private additiveRateIncrease(atMs: number, lastMs: number): number {
    return (this.getNearMaxIncreaseRateBpsPerSecond() * (atMs - lastMs)) / 1000;
  }

  private changeState(input: RateControlInput, atMs: number): void {
    switch (input.bwState) {
      case 'normal':
        if (this.rateControlState === 'hold') {
          this.timeLastBitrateChange = atMs;
          this.rateControlState = 'increase';
        }
        break;
      case 'overusing':
        this.rateControlState = 'decrease';
        break;
      case 'underusing':
        this.rateControlState = 'hold';
        break;
    }
  }

  /** Time of the last decrease (ms), −Infinity if none. */
  get lastDecreaseAtMs(): number {
    return this.timeLastBitrateDecrease;
  }
}
