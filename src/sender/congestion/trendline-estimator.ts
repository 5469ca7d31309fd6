/**
 * Delay-gradient estimate: the slope of a least-squares line through the last 20
 * (arrival time, smoothed accumulated delay) points.
 *
 * The estimation half of libwebrtc modules/congestion_controller/goog_cc/trendline_estimator.cc
 * (TrendlineEstimator::UpdateTrendline + LinearFitSlope, 2020+ revision with
 * TrendlineEstimatorSettings at their defaults: no sorting, no cap). The detection half
 * (TrendlineEstimator::Detect / UpdateThreshold) is OveruseDetector in overuse-detector.ts.
 *
 *   delta_ms          = recv_delta − send_delta                   (one group pair)
 *   accumulated_delay += delta_ms
 *   smoothed_delay    = 0.9 · smoothed_delay + 0.1 · accumulated_delay   (kDefaultTrendlineSmoothingCoeff)
 *   window            = last 20 points (arrival − first arrival, smoothed_delay)  (kDefaultTrendlineWindowSize)
 *   trend             = slope of the window once it holds 20 points, else the previous trend (0)
 *
 * A trend of 0 means a constant queue, > 0 a growing queue ((send rate − capacity)/capacity),
 * < 0 a draining one.
 */

/** trendline_estimator.cc kDefaultTrendlineWindowSize. */
export const kDefaultTrendlineWindowSize = 20;
/** trendline_estimator.cc kDefaultTrendlineSmoothingCoeff. */
export const kDefaultTrendlineSmoothingCoeff = 0.9;
/** trendline_estimator.cc kDeltaCounterMax. */
export const kDeltaCounterMax = 1000;

/** trendline_estimator.cc LinearFitSlope: k = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²; null if all x are equal. */
export function linearFitSlope(points: ReadonlyArray<readonly [number, number]>): number | null {
  let sumX = 0;
  let sumY = 0;
  for (const [x, y] of points) {
    sumX += x;
    sumY += y;
  }
  const xAvg = sumX / points.length;
  const yAvg = sumY / points.length;
  let numerator = 0;
  let denominator = 0;
  for (const [x, y] of points) {
    numerator += (x - xAvg) * (y - yAvg);
    denominator += (x - xAvg) * (x - xAvg);
  }
  if (denominator === 0) return null;
  return numerator / denominator;
}

export class TrendlineEstimator {
  private numOfDeltas_ = 0;
  private firstArrivalMs = NaN;
  private accumulatedDelay_ = 0;
  private smoothedDelay_ = 0;
  private readonly delayHist: Array<[number, number]> = [];
  private trend_ = 0;

  constructor(
    private readonly windowSize = kDefaultTrendlineWindowSize,
    private readonly smoothingCoef = kDefaultTrendlineSmoothingCoeff,
  ) {}

  /**
   * One completed group pair: deltas from InterArrivalDelta, `arrivalTimeMs` the arrival
   * of the packet that completed the pair (as libwebrtc passes it). Returns the trend.
   */
  update(recvDeltaMs: number, sendDeltaMs: number, arrivalTimeMs: number): number {
    const deltaMs = recvDeltaMs - sendDeltaMs;
    this.numOfDeltas_ = Math.min(this.numOfDeltas_ + 1, kDeltaCounterMax);
    if (Number.isNaN(this.firstArrivalMs)) this.firstArrivalMs = arrivalTimeMs;

    // Exponential backoff filter.
    this.accumulatedDelay_ += deltaMs;
    this.smoothedDelay_ = this.smoothingCoef * this.smoothedDelay_ + (1 - this.smoothingCoef) * this.accumulatedDelay_;

    // Maintain packet window.
    this.delayHist.push([arrivalTimeMs - this.firstArrivalMs, this.smoothedDelay_]);
    if (this.delayHist.length > this.windowSize) this.delayHist.shift();

    // Simple linear regression, once the window is full.
    if (this.delayHist.length === this.windowSize) {
      this.trend_ = linearFitSlope(this.delayHist) ?? this.trend_;
    }
    return this.trend_;
  }

  /** Number of deltas seen, capped at kDeltaCounterMax (the detector scales by min(n, 60)). */
  get numOfDeltas(): number {
    return this.numOfDeltas_;
  }
  get trend(): number {
    return this.trend_;
  }
  get accumulatedDelay(): number {
    return this.accumulatedDelay_;
  }
  get smoothedDelay(): number {
    return this.smoothedDelay_;
  }
}
