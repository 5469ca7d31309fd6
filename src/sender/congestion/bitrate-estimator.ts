/**
 * Throughput estimate from acknowledged bytes: fixed windows of arrival time, each window's
 * rate a sample, samples merged by a scalar Bayesian (Kalman-like) update.
 *
 * Port of libwebrtc modules/congestion_controller/goog_cc/bitrate_estimator.cc (2020+ revision
 * with the WebRTC-BweThroughputWindowConfig parameters at their defaults).
 *
 *   window            = 500 ms until the first sample (kInitialRateWindowMs), then 150 ms (kRateWindowMs)
 *   sample_kbps       = 8 · bytes_in_window / window_ms
 *   first sample      → estimate
 *   uncertainty       = scale (10) · |estimate − sample| / estimate        (symmetry cap 0)
 *   sample_var        = uncertainty²
 *   pred_var          = estimate_var + 5
 *   estimate          = (sample_var·estimate + pred_var·sample) / (sample_var + pred_var)
 *   estimate_var      = sample_var·pred_var / (sample_var + pred_var)
 * The variance starts at 50; ExpectFastRateChange adds 200 (after an ALR period).
 * libwebrtc computes in float and integer milliseconds; this port uses doubles.
 */

/** bitrate_estimator.cc kInitialRateWindowMs. */
export const kInitialRateWindowMs = 500;
/** bitrate_estimator.cc kRateWindowMs. */
export const kRateWindowMs = 150;
/** bitrate_estimator.cc uncertainty_scale_ ("scale", 10.0); in-ALR and small-sample scales default to it. */
export const kUncertaintyScale = 10.0;
/** bitrate_estimator.cc bitrate_estimate_var_(50.0f). */
export const kInitialBitrateEstimateVar = 50.0;
/** bitrate_estimator.cc: pred_bitrate_estimate_var = bitrate_estimate_var_ + 5.f. */
export const kBitrateEstimateVarIncrease = 5.0;
/** bitrate_estimator.cc ExpectFastRateChange: bitrate_estimate_var_ += 200. */
export const kFastRateChangeVarIncrease = 200;

export class BitrateEstimator {
  private sum = 0;
  private currentWindowMs = 0;
  private prevTimeMs = -1;
  private bitrateEstimateKbps = -1;
  private bitrateEstimateVar = kInitialBitrateEstimateVar;

  constructor(
    private readonly initialWindowMs = kInitialRateWindowMs,
    private readonly noninitialWindowMs = kRateWindowMs,
    private readonly uncertaintyScale = kUncertaintyScale,
    private readonly uncertaintyScaleInAlr = kUncertaintyScale,
  ) {}

  update(atMs: number, bytes: number, inAlr: boolean): void {
    // A larger window at the beginning gives a more stable sample to initialize the estimate.
    const rateWindowMs = this.bitrateEstimateKbps < 0 ? this.initialWindowMs : this.noninitialWindowMs;
    const sampleKbps = this.updateWindow(atMs, bytes, rateWindowMs);
    if (sampleKbps < 0) return;
    if (this.bitrateEstimateKbps < 0) {
      // This is the very first sample we get. Use it to initialize the estimate.
      this.bitrateEstimateKbps = sampleKbps;
      return;
    }
    let scale = this.uncertaintyScale;
    if (inAlr && sampleKbps < this.bitrateEstimateKbps) scale = this.uncertaintyScaleInAlr;
    // The sample uncertainty is a function of how far away it is from the current estimate
    // (uncertainty_symmetry_cap_ = 0 → denominator is the estimate alone).
    const sampleUncertainty = (scale * Math.abs(this.bitrateEstimateKbps - sampleKbps)) / this.bitrateEstimateKbps;
    const sampleVar = sampleUncertainty * sampleUncertainty;
    // Update a bayesian estimate of the rate, weighting it lower if the sample uncertainty
    // is large. The estimate uncertainty is increased with each update to model that the
    // bitrate changes over time.
    const predVar = this.bitrateEstimateVar + kBitrateEstimateVarIncrease;
    this.bitrateEstimateKbps = (sampleVar * this.bitrateEstimateKbps + predVar * sampleKbps) / (sampleVar + predVar);
    this.bitrateEstimateKbps = Math.max(this.bitrateEstimateKbps, 0); // estimate_floor_ = 0
    this.bitrateEstimateVar = (sampleVar * predVar) / (sampleVar + predVar);
  }

  /** bit/s, or null before the first window completed. */
  bitrateBps(): number | null {
    return this.bitrateEstimateKbps < 0 ? null : this.bitrateEstimateKbps * 1000;
  }

  /** The rate of the window in progress, bit/s (libwebrtc PeekRate). */
  peekRateBps(): number | null {
    return this.currentWindowMs > 0 ? (this.sum * 8 * 1000) / this.currentWindowMs : null;
  }

  /** Allow the estimate to move fast for the next few samples. */
  expectFastRateChange(): void {
    this.bitrateEstimateVar += kFastRateChangeVarIncrease;
  }

  get variance(): number {
    return this.bitrateEstimateVar;
  }

  /** Returns the window's rate in kbit/s when a window completes, else −1. */
  private updateWindow(nowMs: number, bytes: number, rateWindowMs: number): number {
    // Reset if time moves backwards.
    if (nowMs < this.prevTimeMs) {
      this.prevTimeMs = -1;
      this.sum = 0;
      this.currentWindowMs = 0;
    }
    if (this.prevTimeMs >= 0) {
      this.currentWindowMs += nowMs - this.prevTimeMs;
      // Reset if nothing has been received for more than a full window.
      if (nowMs - this.prevTimeMs > rateWindowMs) {
        this.sum = 0;
        this.currentWindowMs %= rateWindowMs;
      }
    }
    this.prevTimeMs = nowMs;
    let sample = -1;
    if (this.currentWindowMs >= rateWindowMs) {
      sample = (8 * this.sum) / rateWindowMs;
      this.currentWindowMs -= rateWindowMs;
      this.sum = 0;
    }
    this.sum += bytes;
    return sample;
  }
}
