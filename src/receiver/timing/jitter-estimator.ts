/**
 * Receive-side jitter estimator.
 *
 * Port of libwebrtc modules/video_coding/timing/jitter_estimator.cc, the revision with
 * JitterEstimator::Config (field trial "WebRTC-JitterEstimatorConfig", std::optional era,
 * libwebrtc main 2023-2025), with its default configuration. The algorithm is unchanged
 * from the 2011 VCMJitterEstimator apart from the Kalman filter having moved to
 * frame_delay_variation_kalman_filter.cc (see frame-delay-kalman.ts).
 *
 *   estimate = slope * (max_frame_size - avg_frame_size)          // the big-frame term
 *            + max(1, kNoiseStdDevs * sqrt(var_noise) - kNoiseStdDevOffset)
 *   GetJitterEstimate = max(estimate + OPERATING_SYSTEM_JITTER, filtered estimate)
 *                       (+ rtt_multiplier * RTT after kNackLimit NACKed frames),
 *                       scaled down for frame rates below 10 fps.
 *
 * No hidden clock: where libwebrtc reads `clock_->CurrentTime()` (the frame-rate counter in
 * EstimateRandomJitter, FrameNacked, and the NACK timeout in GetJitterEstimate) the time is
 * an explicit `nowMs` parameter.
 *
 * Units follow libwebrtc: TimeDelta/Timestamp values are integer microseconds (a double
 * converted with TimeDelta::Millis(double) is truncated to the microsecond, TimeDelta * double
 * is rounded with llround), `frame_delay.ms()` rounds to the nearest millisecond, and the
 * frame rate is a Frequency in integer millihertz.
 */
import { FrameDelayKalmanFilter } from './frame-delay-kalman';
import { MovingMedianFilter, MovingPercentileFilter } from './percentile-filter';
import { RttFilter } from './rtt-filter';
import { roundMs } from './rtp-timestamp';

// --- Constants (jitter_estimator.cc, anonymous namespace) ---
/** Number of frames to wait for before post processing the estimate; also the frame-rate ramp-up. */
export const kFrameProcessingStartupCount = 30;
/** Number of frames to wait for before enabling the frame size filters. */
export const kFramesUntilSizeFiltering = 5;
/** Initial value for the average and max frame size filters (bytes). */
export const kInitialAvgAndMaxFrameSizeBytes = 500.0;
/** Time constant for the average frame size filter. */
export const kPhi = 0.97;
/** Time constant for the max frame size filter. */
export const kPsi = 0.9999;
/** Default percentile and window for the (optional) percentile frame size filter. */
export const kDefaultMaxFrameSizePercentile = 0.95;
export const kDefaultFrameSizeWindow = 30 * 10;
/** Outlier rejection: frame delays are clamped to +-(3.5 sigma + 0.5 ms). */
export const kNumStdDevDelayClamp = 3.5;
/** Outlier rejection: a delay deviation beyond 15 sigma is an outlier. */
export const kNumStdDevDelayOutlier = 15.0;
/** Outlier rejection: a frame larger than avg + 3 sigma is a (positive) size outlier. */
export const kNumStdDevSizeOutlier = 3.0;
/** A frame with size delta below -0.25 * max frame size is "congested" (arrived behind a big frame). */
export const kCongestionRejectionFactor = -0.25;
/** Ramp-up constant for the deviation noise filters. */
export const kAlphaCountMax = 400;
/** ~Less than 1% chance (look up in normal distribution table)... */
export const kNoiseStdDevs = 2.33;
/** ...of getting 30 ms freezes. */
export const kNoiseStdDevOffset = 30.0;
/** Jitter estimate clamping limits. */
export const kMinJitterEstimateMs = 1;
export const kMaxJitterEstimateMs = 10_000;
/** Delay not accounted for by the jitter buffer nor the decode time estimate. */
export const OPERATING_SYSTEM_JITTER_MS = 10;
/** Time constant for resetting the NACK count. */
export const kNackCountTimeoutMs = 60_000;
/** RTT multiplier activation: number of NACKed frames. */
export const kNackLimit = 3;
/** Frame rate estimate clamping limit (Hz). */
export const kMaxFramerateEstimateHz = 200;
/** Frames rates below 5 fps ignore jitter; 5..10 fps scale it linearly. */
export const kJitterScaleLowThresholdHz = 5;
export const kJitterScaleHighThresholdHz = 10;
/** fps_counter_ (RollingAccumulator) window, in samples. */
export const kFpsCounterWindow = 30;

/** JitterEstimator::Config. Every field is optional; unset means the libwebrtc default. */
export interface JitterEstimatorConfig {
  /** If true, the "avg" frame size is the median over a window of recent frame sizes. */
  avgFrameSizeMedian?: boolean;
  /** If set, the "max" frame size is this percentile over a window of recent frame sizes. */
  maxFrameSizePercentile?: number;
  /** Length of the percentile filters' window, in frames (default 300). */
  frameSizeWindow?: number;
  /** Frame delay samples are clamped to this many std devs (default 3.5). */
  numStddevDelayClamp?: number;
  /** Delay outlier threshold in std devs (default 15). */
  numStddevDelayOutlier?: number;
  /** Positive frame size outlier threshold in std devs (default 3). */
  numStddevSizeOutlier?: number;
  /** Congestion rejection factor (default -0.25). */
  congestionRejectionFactor?: number;
  /** Update the noise estimate for congestion-rejected frames (default true). */
  estimateNoiseWhenCongested?: boolean;
}

/** Config::ParseAndValidate: clamp invalid values like libwebrtc does. */
function validateConfig(input: JitterEstimatorConfig): JitterEstimatorConfig {
  const c: JitterEstimatorConfig = { ...input };
  if (c.maxFrameSizePercentile !== undefined) {
    c.maxFrameSizePercentile = Math.min(Math.max(0.0, c.maxFrameSizePercentile), 1.0);
  }
  if (c.frameSizeWindow !== undefined && c.frameSizeWindow < 1) c.frameSizeWindow = 1;
  if (c.numStddevDelayClamp !== undefined && c.numStddevDelayClamp < 0) c.numStddevDelayClamp = 0;
  if (c.numStddevDelayOutlier !== undefined && c.numStddevDelayOutlier < 0) {
    c.numStddevDelayOutlier = 0;
  }
  if (c.numStddevSizeOutlier !== undefined && c.numStddevSizeOutlier < 0) {
    c.numStddevSizeOutlier = 0;
  }
  return c;
}

const US_PER_MS = 1000;

/** Mean over the last N samples (rtc::RollingAccumulator<uint64_t>::ComputeMean). */
class RollingMean {
  private readonly samples: number[] = [];
  private sum = 0;
  constructor(private readonly maxCount: number) {}
  add(sample: number): void {
    this.samples.push(sample);
    this.sum += sample;
    if (this.samples.length > this.maxCount) this.sum -= this.samples.shift()!;
  }
  mean(): number {
    return this.samples.length === 0 ? 0 : this.sum / this.samples.length;
  }
  reset(): void {
    this.samples.length = 0;
    this.sum = 0;
  }
}

export class JitterEstimator {
  private readonly config: JitterEstimatorConfig;
  private kalmanFilter = new FrameDelayKalmanFilter();

  private avgFrameSizeBytes = kInitialAvgAndMaxFrameSizeBytes;
  private varFrameSizeBytes2 = 100;
  private maxFrameSizeBytes = kInitialAvgAndMaxFrameSizeBytes;
  private readonly avgFrameSizeMedianBytes: MovingMedianFilter;
  private readonly maxFrameSizeBytesPercentile: MovingPercentileFilter;
  private startupFrameSizeSumBytes = 0;
  private startupFrameSizeCount = 0;

  private lastUpdateTimeUs: number | undefined;
  /** The previously returned jitter estimate (us). */
  private prevEstimateUs: number | undefined;
  private prevFrameSizeBytes: number | undefined;
  private avgNoiseMs = 0;
  private varNoiseMs2 = 4.0;
  private alphaCount = 1;
  /** The filtered jitter estimate (us), set after the startup phase. */
  private filterJitterEstimateUs = 0;
  private startupCount = 0;
  private latestNackUs = 0;
  private nackCount = 0;
  private readonly rttFilter = new RttFilter();
  /** Frame intervals in microseconds. */
  private readonly fpsCounter = new RollingMean(kFpsCounterWindow);

  constructor(config: JitterEstimatorConfig = {}) {
    this.config = validateConfig(config);
    const window = this.config.frameSizeWindow ?? kDefaultFrameSizeWindow;
    this.avgFrameSizeMedianBytes = new MovingMedianFilter(window);
    this.maxFrameSizeBytesPercentile = new MovingPercentileFilter(
      this.config.maxFrameSizePercentile ?? kDefaultMaxFrameSizePercentile,
      window,
    );
    this.reset();
  }

  /** Resets the estimate to the initial state. */
  reset(): void {
    this.avgFrameSizeBytes = kInitialAvgAndMaxFrameSizeBytes;
    this.maxFrameSizeBytes = kInitialAvgAndMaxFrameSizeBytes;
    this.varFrameSizeBytes2 = 100;
    this.avgFrameSizeMedianBytes.reset();
    this.maxFrameSizeBytesPercentile.reset();
    this.lastUpdateTimeUs = undefined;
    this.prevEstimateUs = undefined;
    this.prevFrameSizeBytes = undefined;
    this.avgNoiseMs = 0.0;
    this.varNoiseMs2 = 4.0;
    this.alphaCount = 1;
    this.filterJitterEstimateUs = 0;
    this.latestNackUs = 0;
    this.nackCount = 0;
    this.startupFrameSizeSumBytes = 0;
    this.startupFrameSizeCount = 0;
    this.startupCount = 0;
    this.rttFilter.reset();
    this.fpsCounter.reset();
    this.kalmanFilter = new FrameDelayKalmanFilter();
  }

  /**
   * Updates the estimates with a new measurement.
   * @param frameDelayMs   inter-frame delay variation of this frame (InterFrameDelayVariation)
   * @param frameSizeBytes size of the (super)frame
   * @param nowMs          current time; feeds the frame-rate estimate
   */
  updateEstimate(frameDelayMs: number, frameSizeBytes: number, nowMs: number): void {
    if (frameSizeBytes === 0) return;
    const cfg = this.config;

    // Can be negative.
    const deltaFrameBytes = frameSizeBytes - (this.prevFrameSizeBytes ?? 0);
    if (this.startupFrameSizeCount < kFramesUntilSizeFiltering) {
      this.startupFrameSizeSumBytes += frameSizeBytes;
      this.startupFrameSizeCount++;
    } else if (this.startupFrameSizeCount === kFramesUntilSizeFiltering) {
      // Give the frame size filter.
      this.avgFrameSizeBytes = this.startupFrameSizeSumBytes / this.startupFrameSizeCount;
      this.startupFrameSizeCount++;
    }

    const avgFrameSizeBytes = kPhi * this.avgFrameSizeBytes + (1 - kPhi) * frameSizeBytes;
    const deviationSizeBytes = 2 * Math.sqrt(this.varFrameSizeBytes2);
    if (frameSizeBytes < this.avgFrameSizeBytes + deviationSizeBytes) {
      // Only update the average frame size if this sample wasn't a key frame.
      this.avgFrameSizeBytes = avgFrameSizeBytes;
    }

    const deltaBytes = frameSizeBytes - avgFrameSizeBytes;
    this.varFrameSizeBytes2 = Math.max(
      kPhi * this.varFrameSizeBytes2 + (1 - kPhi) * (deltaBytes * deltaBytes),
      1.0,
    );

    // Update non-linear IIR estimate of max frame size.
    this.maxFrameSizeBytes = Math.max(kPsi * this.maxFrameSizeBytes, frameSizeBytes);

    // Maybe update percentile estimates of frame sizes.
    if (cfg.avgFrameSizeMedian) this.avgFrameSizeMedianBytes.insert(frameSizeBytes);
    if (this.maxFrameSizePercentileEnabled()) this.maxFrameSizeBytesPercentile.insert(frameSizeBytes);

    if (this.prevFrameSizeBytes === undefined) {
      this.prevFrameSizeBytes = frameSizeBytes;
      return;
    }
    this.prevFrameSizeBytes = frameSizeBytes;

    // Cap frame_delay based on the current time deviation noise.
    const numStddevDelayClamp = cfg.numStddevDelayClamp ?? kNumStdDevDelayClamp;
    const maxTimeDeviationUs = Math.trunc(
      (numStddevDelayClamp * Math.sqrt(this.varNoiseMs2) + 0.5) * US_PER_MS,
    );
    const frameDelayUs = Math.min(
      Math.max(Math.round(frameDelayMs * US_PER_MS), -maxTimeDeviationUs),
      maxTimeDeviationUs,
    );
    // frame_delay.ms(): rounded to the nearest millisecond.
    const frameDelayRoundedMs = roundMs(frameDelayUs / US_PER_MS);

    const delayDeviationMs =
      frameDelayRoundedMs - this.kalmanFilter.getFrameDelayVariationEstimateTotal(deltaFrameBytes);

    // Outlier rejection. Delay outlier rejection is two-sided.
    const numStddevDelayOutlier = cfg.numStddevDelayOutlier ?? kNumStdDevDelayOutlier;
    const absDelayIsNotOutlier =
      Math.abs(delayDeviationMs) < numStddevDelayOutlier * Math.sqrt(this.varNoiseMs2);
    // Size outlier rejection is one-sided, and uses the sample-mean style average.
    const numStddevSizeOutlier = cfg.numStddevSizeOutlier ?? kNumStdDevSizeOutlier;
    const sizeIsPositiveOutlier =
      frameSizeBytes >
      this.avgFrameSizeBytes + numStddevSizeOutlier * Math.sqrt(this.varFrameSizeBytes2);

    // Only update the Kalman filter if the sample is not considered an extreme outlier. Even
    // if it is an extreme outlier from a delay point of view, if the frame size also is large
    // the deviation is probably due to an incorrect line slope.
    if (absDelayIsNotOutlier || sizeIsPositiveOutlier) {
      // Prevent updating with frames which have been congested by a large frame, and
      // therefore arrive almost at the same time as that frame (a delta frame right after a
      // delayed key frame has deltaFS << 0).
      const congestionRejectionFactor = cfg.congestionRejectionFactor ?? kCongestionRejectionFactor;
      const filteredMaxFrameSizeBytes = this.filteredMaxFrameSizeBytes();
      const isNotCongested = deltaFrameBytes > congestionRejectionFactor * filteredMaxFrameSizeBytes;

      if (isNotCongested || (cfg.estimateNoiseWhenCongested ?? true)) {
        // Update the variance of the deviation from the line given by the Kalman filter.
        this.estimateRandomJitter(delayDeviationMs, nowMs);
      }
      if (isNotCongested) {
        // Neither a delay outlier nor a congested frame: update the Kalman filter.
        this.kalmanFilter.predictAndUpdate(
          frameDelayRoundedMs,
          deltaFrameBytes,
          filteredMaxFrameSizeBytes,
          this.varNoiseMs2,
        );
      }
    } else {
      // Delay outliers affect the noise estimate through a value equal to the outlier
      // rejection threshold.
      const numStddev = delayDeviationMs >= 0 ? numStddevDelayOutlier : -numStddevDelayOutlier;
      this.estimateRandomJitter(numStddev * Math.sqrt(this.varNoiseMs2), nowMs);
    }
    // Post process the total estimated jitter.
    if (this.startupCount >= kFrameProcessingStartupCount) {
      this.postProcessEstimate();
    } else {
      this.startupCount++;
    }
  }

  /** A frame needed retransmission (NACK). Counts up to kNackLimit. */
  frameNacked(nowMs: number): void {
    if (this.nackCount < kNackLimit) this.nackCount++;
    this.latestNackUs = Math.round(nowMs * US_PER_MS);
  }

  /** Feed an RTT sample (ms) to the RTT filter. */
  updateRtt(rttMs: number): void {
    this.rttFilter.update(rttMs);
  }

  /**
   * The current jitter estimate (ms), with an RTT term once kNackLimit frames were NACKed
   * within the last kNackCountTimeout.
   * @param rttMultiplier   RTT multiplier (libwebrtc passes 1.0, or 0.0 with NACK+FEC)
   * @param rttMultAddCapMs optional cap on the RTT term (RttMultExperiment); undefined = no cap
   * @param nowMs           current time (NACK count timeout)
   */
  getJitterEstimateMs(
    rttMultiplier: number,
    rttMultAddCapMs: number | undefined,
    nowMs: number,
  ): number {
    let jitterUs = this.calculateEstimateUs() + OPERATING_SYSTEM_JITTER_MS * US_PER_MS;
    const nowUs = Math.round(nowMs * US_PER_MS);

    if (nowUs - this.latestNackUs > kNackCountTimeoutMs * US_PER_MS) this.nackCount = 0;

    if (this.filterJitterEstimateUs > jitterUs) jitterUs = this.filterJitterEstimateUs;
    if (this.nackCount >= kNackLimit) {
      // TimeDelta * double: llround to microseconds.
      const rttTermUs = Math.round(this.rttFilter.rttMs() * US_PER_MS * rttMultiplier);
      if (rttMultAddCapMs !== undefined) {
        jitterUs += Math.min(rttTermUs, Math.trunc(rttMultAddCapMs * US_PER_MS));
      } else {
        jitterUs += rttTermUs;
      }
    }

    const fpsMilliHz = this.getFrameRateMilliHz();
    // Ignore jitter for very low fps streams.
    if (fpsMilliHz < kJitterScaleLowThresholdHz * 1000) {
      if (fpsMilliHz === 0) return Math.max(0, jitterUs) / US_PER_MS;
      return 0;
    }
    // Semi-low frame rate: scale by a factor linearly interpolated from 0.0 at
    // kJitterScaleLowThreshold to 1.0 at kJitterScaleHighThreshold.
    if (fpsMilliHz < kJitterScaleHighThresholdHz * 1000) {
      const scale =
        (fpsMilliHz - kJitterScaleLowThresholdHz * 1000) /
        ((kJitterScaleHighThresholdHz - kJitterScaleLowThresholdHz) * 1000);
      jitterUs = Math.round(scale * jitterUs);
    }
    return Math.max(0, jitterUs) / US_PER_MS;
  }

  /** Estimated incoming frame rate (Hz), 0 if unknown; clamped to 200 Hz. */
  getFrameRateHz(): number {
    return this.getFrameRateMilliHz() / 1000;
  }

  // --- Read-only state for tests and metrics (private in libwebrtc). ---

  get kalman(): FrameDelayKalmanFilter {
    return this.kalmanFilter;
  }
  get avgFrameSize(): number {
    return this.avgFrameSizeBytes;
  }
  get maxFrameSize(): number {
    return this.maxFrameSizeBytes;
  }
  get varFrameSize(): number {
    return this.varFrameSizeBytes2;
  }
  get avgNoise(): number {
    return this.avgNoiseMs;
  }
  get varNoise(): number {
    return this.varNoiseMs2;
  }
  /** The post-processed (filtered) estimate in ms; 0 during the startup phase. */
  get filteredEstimateMs(): number {
    return this.filterJitterEstimateUs / US_PER_MS;
  }
  get nackCountValue(): number {
    return this.nackCount;
  }
  /** The noise term max(1, 2.33 * sqrt(var_noise) - 30), ms. */
  noiseThresholdMs(): number {
    return this.noiseThreshold();
  }

  private maxFrameSizePercentileEnabled(): boolean {
    return this.config.maxFrameSizePercentile !== undefined;
  }

  private filteredMaxFrameSizeBytes(): number {
    return this.maxFrameSizePercentileEnabled()
      ? this.maxFrameSizeBytesPercentile.getFilteredValue()
      : this.maxFrameSizeBytes;
  }

  /**
   * Estimates the random jitter by calculating the variance of the sample distance from the
   * line given by the Kalman filter.
   */
  private estimateRandomJitter(dDT: number, nowMs: number): void {
    const nowUs = Math.round(nowMs * US_PER_MS);
    if (this.lastUpdateTimeUs !== undefined) {
      this.fpsCounter.add(nowUs - this.lastUpdateTimeUs);
    }
    this.lastUpdateTimeUs = nowUs;

    if (this.alphaCount === 0) return; // RTC_DCHECK_NOTREACHED() upstream.
    let alpha = (this.alphaCount - 1) / this.alphaCount;
    this.alphaCount++;
    if (this.alphaCount > kAlphaCountMax) this.alphaCount = kAlphaCountMax;

    // In order to avoid a low frame rate stream to react slower to changes, scale the alpha
    // weight relative a 30 fps stream.
    const fpsMilliHz = this.getFrameRateMilliHz();
    if (fpsMilliHz > 0) {
      let rateScale = 30_000 / fpsMilliHz;
      // At startup, there can be a lot of noise in the fps estimate. Interpolate rate_scale
      // linearly, from 1.0 at sample #1, to 30.0 / fps at sample #kFrameProcessingStartupCount.
      if (this.alphaCount < kFrameProcessingStartupCount) {
        rateScale =
          (this.alphaCount * rateScale + (kFrameProcessingStartupCount - this.alphaCount)) /
          kFrameProcessingStartupCount;
      }
      alpha = Math.pow(alpha, rateScale);
    }

    const avgNoiseMs = alpha * this.avgNoiseMs + (1 - alpha) * dDT;
    const varNoiseMs2 =
      alpha * this.varNoiseMs2 + (1 - alpha) * (dDT - this.avgNoiseMs) * (dDT - this.avgNoiseMs);
    this.avgNoiseMs = avgNoiseMs;
    this.varNoiseMs2 = varNoiseMs2;
    if (this.varNoiseMs2 < 1.0) {
      // The variance should never be zero, since we might get stuck and consider all samples
      // as outliers.
      this.varNoiseMs2 = 1.0;
    }
  }

  private noiseThreshold(): number {
    let noiseThresholdMs = kNoiseStdDevs * Math.sqrt(this.varNoiseMs2) - kNoiseStdDevOffset;
    if (noiseThresholdMs < 1.0) noiseThresholdMs = 1.0;
    return noiseThresholdMs;
  }

  /** Calculates the current jitter estimate from the filtered estimates (us). */
  private calculateEstimateUs(): number {
    // Median- and percentile-filtered frame sizes if configured.
    const filteredAvgFrameSizeBytes = this.config.avgFrameSizeMedian
      ? this.avgFrameSizeMedianBytes.getFilteredValue()
      : this.avgFrameSizeBytes;
    const worstCaseFrameSizeDeviationBytes =
      this.filteredMaxFrameSizeBytes() - filteredAvgFrameSizeBytes;
    const retMs =
      this.kalmanFilter.getFrameDelayVariationEstimateSizeBased(worstCaseFrameSizeDeviationBytes) +
      this.noiseThreshold();
    // TimeDelta::Millis(double) truncates to microseconds.
    let retUs = Math.trunc(retMs * US_PER_MS);

    // A very low estimate (or negative) is neglected.
    if (retUs < kMinJitterEstimateMs * US_PER_MS) {
      retUs = this.prevEstimateUs ?? kMinJitterEstimateMs * US_PER_MS;
    } else if (retUs > kMaxJitterEstimateMs * US_PER_MS) {
      retUs = kMaxJitterEstimateMs * US_PER_MS;
    }
    this.prevEstimateUs = retUs;
    return retUs;
  }

  private postProcessEstimate(): void {
    this.filterJitterEstimateUs = this.calculateEstimateUs();
  }

  /** Frequency in integer millihertz: 1 / TimeDelta::Micros(mean interval). */
  private getFrameRateMilliHz(): number {
    const meanFramePeriodUs = Math.trunc(this.fpsCounter.mean());
    if (meanFramePeriodUs <= 0) return 0;
    const fpsMilliHz = Math.trunc(1e9 / meanFramePeriodUs);
    return Math.min(fpsMilliHz, kMaxFramerateEstimateHz * 1000);
  }
}
