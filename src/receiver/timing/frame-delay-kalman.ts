/**
 * Two-state Kalman filter on frame delay variation vs. frame size variation.
 *
 * Port of libwebrtc modules/video_coding/timing/frame_delay_variation_kalman_filter.cc
 * (FrameDelayVariationKalmanFilter, split out of jitter_estimator.cc in 2022; read at
 * kengonakajima/minAECM@545857e and ajune-wang/webrtc@9a5f86c, identical apart from the
 * short-lived `observation_noise_remodel` experiment, which is not ported).
 *
 * Model: frame_delay_variation_ms = slope * frame_size_variation_bytes + offset + noise, where
 *  - estimate[0] (slope)  = 1 / channel bandwidth  [ms per byte],
 *  - estimate[1] (offset) = link queuing delay      [ms].
 * The state transition is the identity; only the covariance grows by the process noise.
 */

// --- Constants (frame_delay_variation_kalman_filter.cc) ---
/** kMaxBandwidth: lower clamp on the slope, 1e-6 ms/byte (= 8 Gbit/s). */
export const kMaxBandwidth = 0.000001;
/** Initial slope estimate: 1 / (512e3 / 8) ms/byte (the upstream TODO notes a possibly missing factor 1000). */
export const kInitialSlopeMsPerByte = 1 / (512e3 / 8);
/** Initial offset estimate [ms]. */
export const kInitialOffsetMs = 0;
/** Initial estimate covariance diagonal: [(1/bytes per ms)^2, ms^2]. */
export const kInitialEstimateCov00 = 1e-4;
export const kInitialEstimateCov11 = 1e2;
/** Process noise covariance diagonal. */
export const kProcessNoiseCov0 = 2.5e-10;
export const kProcessNoiseCov1 = 1e-10;

export class FrameDelayKalmanFilter {
  /** [slope ms/byte, offset ms]. */
  private readonly estimate: [number, number] = [kInitialSlopeMsPerByte, kInitialOffsetMs];
  /** 2x2 estimate covariance, row-major. */
  private readonly estimateCov: [[number, number], [number, number]] = [
    [kInitialEstimateCov00, 0],
    [0, kInitialEstimateCov11],
  ];
  private readonly processNoiseCovDiag: [number, number] = [kProcessNoiseCov0, kProcessNoiseCov1];

  /**
   * Predict and update the filter with one measurement.
   * @param frameDelayVariationMs   measured delay variation of the frame (ms)
   * @param frameSizeVariationBytes size of this frame minus size of the previous one (bytes)
   * @param maxFrameSizeBytes       filtered max frame size (bytes), scales the observation noise
   * @param varNoise                variance of the random jitter (ms^2)
   */
  predictAndUpdate(
    frameDelayVariationMs: number,
    frameSizeVariationBytes: number,
    maxFrameSizeBytes: number,
    varNoise: number,
  ): void {
    // Sanity checks.
    if (maxFrameSizeBytes < 1) return;
    if (varNoise <= 0.0) return;

    const cov = this.estimateCov;
    // 1) Estimate prediction x = F*x: F is the identity, nothing to do.
    // 2) Estimate covariance prediction P = F*P*F' + Q.
    cov[0][0] += this.processNoiseCovDiag[0];
    cov[1][1] += this.processNoiseCovDiag[1];

    // 3) Innovation y = z - H*x.
    const innovation =
      frameDelayVariationMs - this.getFrameDelayVariationEstimateTotal(frameSizeVariationBytes);

    // 4) Innovation variance s = H*P*H' + r.
    const estimCovTimesObs0 = cov[0][0] * frameSizeVariationBytes + cov[0][1];
    const estimCovTimesObs1 = cov[1][0] * frameSizeVariationBytes + cov[1][1];
    let observationNoiseStddev =
      (300.0 * Math.exp(-Math.abs(frameSizeVariationBytes) / (1e0 * maxFrameSizeBytes)) + 1) *
      Math.sqrt(varNoise);
    if (observationNoiseStddev < 1.0) observationNoiseStddev = 1.0;
    // (Upstream TODO: the stddev, not the variance, is added here; kept as is.)
    const innovationVar =
      frameSizeVariationBytes * estimCovTimesObs0 + estimCovTimesObs1 + observationNoiseStddev;
    if (
      (innovationVar < 1e-9 && innovationVar >= 0) ||
      (innovationVar > -1e-9 && innovationVar <= 0)
    ) {
      return; // RTC_DCHECK_NOTREACHED() upstream.
    }

    // 5) Optimal Kalman gain K = P*H'/s.
    const kalmanGain0 = estimCovTimesObs0 / innovationVar;
    const kalmanGain1 = estimCovTimesObs1 / innovationVar;

    // 6) Estimate update x = x + K*y.
    this.estimate[0] += kalmanGain0 * innovation;
    this.estimate[1] += kalmanGain1 * innovation;
    // (This clamping is not part of the linear Kalman filter.)
    if (this.estimate[0] < kMaxBandwidth) this.estimate[0] = kMaxBandwidth;

    // 7) Estimate covariance update P = (I - K*H)*P.
    const t00 = cov[0][0];
    const t01 = cov[0][1];
    cov[0][0] = (1 - kalmanGain0 * frameSizeVariationBytes) * t00 - kalmanGain0 * cov[1][0];
    cov[0][1] = (1 - kalmanGain0 * frameSizeVariationBytes) * t01 - kalmanGain0 * cov[1][1];
    cov[1][0] = cov[1][0] * (1 - kalmanGain1) - kalmanGain1 * frameSizeVariationBytes * t00;
    cov[1][1] = cov[1][1] * (1 - kalmanGain1) - kalmanGain1 * frameSizeVariationBytes * t01;
  }

  /** slope * sizeDelta: the part of the delay variation explained by the frame size (ms). */
  getFrameDelayVariationEstimateSizeBased(frameSizeVariationBytes: number): number {
    return this.estimate[0] * frameSizeVariationBytes;
  }

  /** slope * sizeDelta + offset (ms). */
  getFrameDelayVariationEstimateTotal(frameSizeVariationBytes: number): number {
    return this.getFrameDelayVariationEstimateSizeBased(frameSizeVariationBytes) + this.estimate[1];
  }

  // --- Read-only state, for tests and metrics (not in libwebrtc's interface). ---

  /** Estimated 1 / bandwidth, ms per byte. */
  get slopeMsPerByte(): number {
    return this.estimate[0];
  }

  /** Estimated queuing delay offset, ms. */
  get offsetMs(): number {
    return this.estimate[1];
  }

  /** Copy of the 2x2 estimate covariance. */
  get covariance(): [[number, number], [number, number]] {
    const c = this.estimateCov;
    return [
      [c[0][0], c[0][1]],
      [c[1][0], c[1][1]],
    ];
  }
}

/** libwebrtc's class name. */
export { FrameDelayKalmanFilter as FrameDelayVariationKalmanFilter };
