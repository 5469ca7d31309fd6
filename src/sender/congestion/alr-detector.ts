/**
 * Application-limited region (ALR) detector: is the sender using much less than the
 * estimate allows (the encoder produces less than the target)?
 *
 * Port of libwebrtc modules/congestion_controller/goog_cc/alr_detector.cc (AlrDetectorConfig
 * defaults of alr_detector.h; same logic in the jitsi port of M125) and modules/pacing/interval_budget.cc.
 *
 * A budget fills at 65 % of the estimate (bandwidth_usage_ratio) and drains with every byte
 * sent; it holds at most 500 ms of that rate (IntervalBudget kWindowMs) and may go as
 * negative. ALR starts when the budget is more than 80 % full (start_budget_level_ratio)
 * and ends when it falls below 50 % (stop_budget_level_ratio).
 * Integer arithmetic of IntervalBudget is not mirrored (doubles here); the ALR start time is
 * the send time that started it (libwebrtc reads its wall clock there).
 */

/** alr_detector.h AlrDetectorConfig defaults. */
export const kAlrBandwidthUsageRatio = 0.65;
export const kAlrStartBudgetLevelRatio = 0.8;
export const kAlrStopBudgetLevelRatio = 0.5;
/** interval_budget.cc kWindowMs. */
export const kIntervalBudgetWindowMs = 500;

/** modules/pacing/interval_budget.cc, the can_build_up_underuse = true flavour the ALR detector uses. */
export class IntervalBudget {
  private targetRateKbps = 0;
  private maxBytesInBudget = 0;
  private bytesRemaining = 0;

  constructor(
    initialTargetRateKbps: number,
    private readonly canBuildUpUnderuse = false,
  ) {
    this.setTargetRateKbps(initialTargetRateKbps);
  }

  setTargetRateKbps(kbps: number): void {
    this.targetRateKbps = kbps;
    this.maxBytesInBudget = (kIntervalBudgetWindowMs * kbps) / 8;
    this.bytesRemaining = Math.min(Math.max(-this.maxBytesInBudget, this.bytesRemaining), this.maxBytesInBudget);
  }

  increaseBudget(deltaTimeMs: number): void {
    const bytes = (this.targetRateKbps * deltaTimeMs) / 8;
    if (this.bytesRemaining < 0 || this.canBuildUpUnderuse) {
      // We overused last interval, compensate this interval.
      this.bytesRemaining = Math.min(this.bytesRemaining + bytes, this.maxBytesInBudget);
    } else {
      // If we underused last interval we can't use it this interval.
      this.bytesRemaining = Math.min(bytes, this.maxBytesInBudget);
    }
  }

  useBudget(bytes: number): void {
    this.bytesRemaining = Math.max(this.bytesRemaining - bytes, -this.maxBytesInBudget);
  }

  budgetRatio(): number {
    if (this.maxBytesInBudget === 0) return 0;
    return this.bytesRemaining / this.maxBytesInBudget;
  }
}

export class AlrDetector {
  private lastSendTimeMs: number | null = null;
  private readonly budget = new IntervalBudget(0, true);
  private alrStartedTimeMs: number | null = null;

  constructor(
    private readonly bandwidthUsageRatio = kAlrBandwidthUsageRatio,
    private readonly startBudgetLevelRatio = kAlrStartBudgetLevelRatio,
    private readonly stopBudgetLevelRatio = kAlrStopBudgetLevelRatio,
  ) {}

  onBytesSent(bytes: number, sendTimeMs: number): void {
    if (this.lastSendTimeMs === null) {
      this.lastSendTimeMs = sendTimeMs;
      // Since the duration for sending the bytes is unknown, return without updating the state.
      return;
    }
    const deltaTimeMs = sendTimeMs - this.lastSendTimeMs;
    this.lastSendTimeMs = sendTimeMs;
    this.budget.useBudget(bytes);
    this.budget.increaseBudget(deltaTimeMs);
    const ratio = this.budget.budgetRatio();
    if (ratio > this.startBudgetLevelRatio && this.alrStartedTimeMs === null) {
      this.alrStartedTimeMs = sendTimeMs;
    } else if (ratio < this.stopBudgetLevelRatio && this.alrStartedTimeMs !== null) {
      this.alrStartedTimeMs = null;
    }
  }

  /** The current estimate (bit/s); the budget fills at 65 % of it. */
  setEstimatedBitrate(bps: number): void {
    this.budget.setTargetRateKbps((bps * this.bandwidthUsageRatio) / 1000);
  }

  /** When the current ALR started (ms), or null if not application limited. */
  applicationLimitedRegionStartTime(): number | null {
    return this.alrStartedTimeMs;
  }

  get budgetRatio(): number {
    return this.budget.budgetRatio();
  }
}
