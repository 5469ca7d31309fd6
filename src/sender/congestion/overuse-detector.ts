/**
 * Over-use detector with adaptive threshold.
 *
 * The detection half of libwebrtc modules/congestion_controller/goog_cc/trendline_estimator.cc
 * (TrendlineEstimator::Detect and ::UpdateThreshold), draft-ietf-rmcat-gcc-02 §5.4–5.5.
 *
 *   modified_trend = min(num_of_deltas, kMinNumDeltas = 60) · trend · threshold_gain (4.0)
 *   modified_trend >  threshold → over-use candidate: the over-use timer starts at
 *                                 ts_delta/2 and grows by ts_delta (the group's send delta);
 *                                 'overusing' once the timer exceeds
 *                                 kOverUsingTimeThreshold = 10 ms on at least the second
 *                                 consecutive sample, and the trend is not decreasing;
 *   modified_trend < −threshold → 'underusing';
 *   otherwise                   → 'normal'.
 *
 * Adaptive threshold (UpdateThreshold), after every detection:
 *   skip (but advance the clock) when |m| > threshold + kMaxAdaptOffsetMs (15): a latency spike;
 *   k = |m| < threshold ? k_down (0.039) : k_up (0.0087);
 *   threshold += k · (|m| − threshold) · min(Δt, 100 ms);   clamped to [6, 600].
 * The initial threshold is 12.5.
 */
import type { BandwidthUsage } from './types';

/** trendline_estimator.cc kDefaultTrendlineThresholdGain. */
export const kDefaultTrendlineThresholdGain = 4.0;
/** trendline_estimator.cc kMinNumDeltas. */
export const kMinNumDeltas = 60;
/** trendline_estimator.cc kOverUsingTimeThreshold (ms). */
export const kOverUsingTimeThreshold = 10;
/** trendline_estimator.cc threshold_(12.5). */
export const kInitialThreshold = 12.5;
/** trendline_estimator.cc k_up_(0.0087). */
export const kUp = 0.0087;
/** trendline_estimator.cc k_down_(0.039). */
export const kDown = 0.039;
/** trendline_estimator.cc kMaxAdaptOffsetMs. */
export const kMaxAdaptOffsetMs = 15.0;
/** trendline_estimator.cc UpdateThreshold kMaxTimeDeltaMs. */
export const kMaxTimeDeltaMs = 100;
/** trendline_estimator.cc UpdateThreshold SafeClamp(threshold_, 6.f, 600.f). */
export const kMinThreshold = 6;
export const kMaxThreshold = 600;

export class OveruseDetector {
  private threshold_ = kInitialThreshold;
  private lastUpdateMs = NaN;
  private prevTrend = 0;
  private prevModifiedTrend_ = NaN;
  /** −1 = timer not running (libwebrtc time_over_using_ = -1). */
  private timeOverUsing = -1;
  private overuseCounter = 0;
  private hypothesis: BandwidthUsage = 'normal';

  constructor(private readonly thresholdGain = kDefaultTrendlineThresholdGain) {}

  /**
   * @param trend the trendline slope
   * @param numOfDeltas group pairs seen so far (TrendlineEstimator.numOfDeltas)
   * @param tsDeltaMs the send-time delta of the group pair
   * @param nowMs the arrival time passed with the pair (libwebrtc passes arrival_time_ms)
   */
  detect(trend: number, numOfDeltas: number, tsDeltaMs: number, nowMs: number): BandwidthUsage {
    if (numOfDeltas < 2) {
      this.hypothesis = 'normal';
      return this.hypothesis;
    }
    const modifiedTrend = Math.min(numOfDeltas, kMinNumDeltas) * trend * this.thresholdGain;
    this.prevModifiedTrend_ = modifiedTrend;
    if (modifiedTrend > this.threshold_) {
      if (this.timeOverUsing === -1) {
        // Initialize the timer. Assume that we've been over-using half of the time since
        // the previous sample.
        this.timeOverUsing = tsDeltaMs / 2;
      } else {
        this.timeOverUsing += tsDeltaMs;
      }
      this.overuseCounter++;
      if (this.timeOverUsing > kOverUsingTimeThreshold && this.overuseCounter > 1) {
        if (trend >= this.prevTrend) {
          this.timeOverUsing = 0;
          this.overuseCounter = 0;
          this.hypothesis = 'overusing';
        }
      }
    } else if (modifiedTrend < -this.threshold_) {
      this.timeOverUsing = -1;
      this.overuseCounter = 0;
      this.hypothesis = 'underusing';
    } else {
      this.timeOverUsing = -1;
      this.overuseCounter = 0;
      this.hypothesis = 'normal';
    }
    this.prevTrend = trend;
    this.updateThreshold(modifiedTrend, nowMs);
    return this.hypothesis;
  }

  private updateThreshold(modifiedTrend: number, nowMs: number): void {
    if (Number.isNaN(this.lastUpdateMs)) this.lastUpdateMs = nowMs;
    const absTrend = Math.abs(modifiedTrend);
    if (absTrend > this.threshold_ + kMaxAdaptOffsetMs) {
      // Avoid adapting the threshold to big latency spikes, caused e.g. by a sudden capacity drop.
      this.lastUpdateMs = nowMs;
      return;
    }
    const k = absTrend < this.threshold_ ? kDown : kUp;
    const timeDeltaMs = Math.min(nowMs - this.lastUpdateMs, kMaxTimeDeltaMs);
    this.threshold_ += k * (absTrend - this.threshold_) * timeDeltaMs;
    this.threshold_ = Math.min(Math.max(this.threshold_, kMinThreshold), kMaxThreshold);
    this.lastUpdateMs = nowMs;
  }

  get state(): BandwidthUsage {
    return this.hypothesis;
  }
  get threshold(): number {
    return this.threshold_;
  }
  /** The last min(n,60)·trend·gain compared against the threshold (NaN before the second delta). */
  get modifiedTrend(): number {
    return this.prevModifiedTrend_;
  }
}
