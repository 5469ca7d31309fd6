/**
 * Maps RTP timestamps (90 kHz) to local receive time: a recursive least squares fit of
 *   unwrapped_rtp - first_rtp = w0 * (now - start) + w1
 * (w0 = remote clock rate in ticks/ms, w1 = offset), with RTP timestamp unwrapping, a hard
 * reset after 10 s without frames, reordered frames dropped, and CUSUM detection of sudden
 * delay changes that re-opens the offset uncertainty.
 *
 * Port of libwebrtc rtc_base/time/timestamp_extrapolator.cc (read at
 * ajune-wang/webrtc@1fea8a8, 2022-2024; before that
 * modules/video_coding/timing/timestamp_extrapolator.cc). The optional knobs of the 2025
 * revision (modules/video_coding/timing/timestamp_extrapolator.cc, TimestampExtrapolator::
 * Config, field trial "WebRTC-TimestampExtrapolatorConfig") are available through the
 * constructor options; their defaults reproduce the rtc_base/time revision, i.e. hard
 * outlier rejection is OFF here (upstream switched it on in 2025 with
 * outlier_rejection_stddev = 2.0; pass { outlierRejectionStddev: 2.0 } to get that).
 */
import { RtpTimestampUnwrapper, roundMs } from './rtp-timestamp';

// --- Constants (timestamp_extrapolator.cc) ---
/** kLambda: RLS forgetting factor (1 = no forgetting). */
export const kLambda = 1;
/** kStartUpFilterDelayInPackets: before 2 packets, extrapolate from the last packet at 90 kHz. */
export const kStartUpFilterDelayInPackets = 2;
/** Initial covariance of the rate (kP00) and of the offset (kP11, also used on alarms). */
export const kP00 = 1.0;
export const kP11 = 1e10;
/** CUSUM alarm threshold, in RTP ticks (60000 ticks = 666 ms = 20 frames at 30 fps). */
export const kAlarmThreshold = 60e3;
/** CUSUM acceptable drift per frame, in RTP ticks (6600 = 73 ms). */
export const kAccDrift = 6600;
/** CUSUM max residual per frame, in RTP ticks (7000 = 77 ms). */
export const kAccMaxError = 7000;
/** Hard reset after this long without a frame. */
export const kHardResetTimeoutMs = 10_000;
/** packet_count_ keeps counting up to here (2025 revision; used by outlier rejection startup). */
const kMaxPacketCount = 3000;
/** Start value of the residual variance for hard outlier rejection (2025 revision). */
const kStartResidualVariance = 3000 * 3000;

/** TimestampExtrapolator::Config (2025). Defaults reproduce the rtc_base/time revision. */
export interface TimestampExtrapolatorConfig {
  /** Full reset if no frame arrived within this time (ms). Default 10000. */
  hardResetTimeoutMs?: number;
  /** RTP jump (ticks) that resets the filter; only with outlier rejection. Default 900000. */
  hardResetRtpTimestampJumpThreshold?: number;
  /** Frames before hard outlier rejection starts. Default 300. */
  outlierRejectionStartupDelay?: number;
  /** Max consecutive rejected frames before the filter is forced to adapt. Default 150. */
  outlierRejectionMaxConsecutive?: number;
  /** Forgetting factor of the residual statistics. Default 0.999. */
  outlierRejectionForgettingFactor?: number;
  /** Enables hard outlier rejection at this many std devs. Default: disabled. */
  outlierRejectionStddev?: number;
  /** CUSUM alarm threshold (ticks). Default 60000. */
  alarmThreshold?: number;
  /** CUSUM drift (ticks). Default 6600. */
  accDrift?: number;
  /** CUSUM residual clamp (ticks). Default 7000. */
  accMaxError?: number;
  /** Reset the whole covariance on an alarm instead of only the offset term. Default false. */
  resetFullCovOnAlarm?: boolean;
}

type ResolvedConfig = Required<Omit<TimestampExtrapolatorConfig, 'outlierRejectionStddev'>> & {
  outlierRejectionStddev: number | undefined;
};

/** Config::ParseAndValidate: invalid values fall back to the defaults. */
function resolveConfig(c: TimestampExtrapolatorConfig): ResolvedConfig {
  const pick = (v: number | undefined, def: number, ok: (x: number) => boolean): number =>
    v !== undefined && ok(v) ? v : def;
  return {
    hardResetTimeoutMs: pick(c.hardResetTimeoutMs, kHardResetTimeoutMs, (x) => x > 0),
    hardResetRtpTimestampJumpThreshold: pick(c.hardResetRtpTimestampJumpThreshold, 900_000, (x) => x > 0),
    outlierRejectionStartupDelay: pick(c.outlierRejectionStartupDelay, 300, (x) => x >= 0),
    outlierRejectionMaxConsecutive: pick(c.outlierRejectionMaxConsecutive, 150, (x) => x > 0),
    outlierRejectionForgettingFactor: pick(
      c.outlierRejectionForgettingFactor,
      0.999,
      (x) => x >= 0 && x < 1,
    ),
    outlierRejectionStddev:
      c.outlierRejectionStddev !== undefined && c.outlierRejectionStddev > 0
        ? c.outlierRejectionStddev
        : undefined,
    alarmThreshold: pick(c.alarmThreshold, kAlarmThreshold, (x) => x > 0),
    accDrift: pick(c.accDrift, kAccDrift, (x) => x >= 0),
    accMaxError: pick(c.accMaxError, kAccMaxError, (x) => x > 0),
    resetFullCovOnAlarm: c.resetFullCovOnAlarm ?? false,
  };
}

export class TimestampExtrapolator {
  private readonly config: ResolvedConfig;
  private w: [number, number] = [90.0, 0];
  private p: [[number, number], [number, number]] = [
    [kP00, 0],
    [0, kP11],
  ];
  private startMs = 0;
  private prevMs = 0;
  private firstUnwrappedTimestamp: number | undefined;
  private unwrapper = new RtpTimestampUnwrapper();
  private prevUnwrappedTimestamp: number | undefined;
  private packetCount = 0;
  // Hard outlier rejection statistics (2025 revision, disabled by default).
  private residualMean = 0;
  private residualVariance = kStartResidualVariance;
  private outliersConsecutiveCount = 0;
  // CUSUM accumulators.
  private detectorAccumulatorPos = 0;
  private detectorAccumulatorNeg = 0;
  private alarms = 0;

  constructor(startMs = 0, config: TimestampExtrapolatorConfig = {}) {
    this.config = resolveConfig(config);
    this.reset(startMs);
  }

  reset(startMs: number): void {
    this.startMs = startMs;
    this.prevMs = startMs;
    this.firstUnwrappedTimestamp = undefined;
    this.prevUnwrappedTimestamp = undefined;
    this.w = [90.0, 0];
    this.p = [
      [kP00, 0],
      [0, kP11],
    ];
    this.unwrapper = new RtpTimestampUnwrapper();
    this.packetCount = 0;
    this.residualMean = 0.0;
    this.residualVariance = kStartResidualVariance;
    this.outliersConsecutiveCount = 0;
    this.detectorAccumulatorPos = 0;
    this.detectorAccumulatorNeg = 0;
  }

  /** Update the filter with a new (local time, RTP timestamp) pair of a complete frame. */
  update(nowMs: number, rtpTimestamp90k: number): void {
    const cfg = this.config;
    // Hard reset based on local clock timeouts.
    if (nowMs - this.prevMs > cfg.hardResetTimeoutMs) {
      this.reset(nowMs);
    } else {
      this.prevMs = nowMs;
    }

    const unwrappedTs90khz = this.unwrapper.unwrap(rtpTimestamp90k);

    // Hard reset on large RTP timestamp jumps; only with outlier rejection (2025). As
    // upstream, prev_ has already been set to now, so the expected change is 0.
    if (this.outlierRejectionEnabled() && this.prevUnwrappedTimestamp !== undefined) {
      const expectedRtpDiff = Math.trunc(roundMs(nowMs - this.prevMs) * this.w[0]);
      const actualRtpDiff = unwrappedTs90khz - this.prevUnwrappedTimestamp;
      const rtpJump = actualRtpDiff - expectedRtpDiff;
      if (Math.abs(rtpJump) > cfg.hardResetRtpTimestampJumpThreshold) this.reset(nowMs);
    }

    // Remove offset to prevent badly scaled matrices. offset.ms() rounds to whole ms.
    const tMs = roundMs(nowMs - this.startMs);

    if (this.firstUnwrappedTimestamp === undefined) {
      // Initial guess of the offset; t_ms should be about zero at this time.
      this.w[1] = -this.w[0] * tMs;
      this.firstUnwrappedTimestamp = unwrappedTs90khz;
    }

    const residual = unwrappedTs90khz - this.firstUnwrappedTimestamp - tMs * this.w[0] - this.w[1];

    // Hard outlier rejection (2025; off by default).
    if (this.outlierRejectionEnabled() && this.outlierDetection(residual)) {
      ++this.outliersConsecutiveCount;
      if (this.outliersConsecutiveCount <= cfg.outlierRejectionMaxConsecutive) {
        return; // A transient spike: reject it.
      }
      this.softReset(); // A persistent delay change: force the filter to adapt.
    }
    this.outliersConsecutiveCount = 0;

    // Soft outlier attenuation (CUSUM): boost the filter's uncertainty if the integrated
    // delay has changed too much. Don't do this during startup.
    if (this.delayChangeDetection(residual) && this.packetCount >= kStartUpFilterDelayInPackets) {
      this.softReset();
    }

    if (
      !this.outlierRejectionEnabled() &&
      this.prevUnwrappedTimestamp !== undefined &&
      unwrappedTs90khz < this.prevUnwrappedTimestamp
    ) {
      // Drop reordered frames.
      return;
    }

    // Recursive least squares update.
    // T = [t(k) 1]'; that = T'*w; K = P*T/(lambda + T'*P*T)
    const p = this.p;
    let k0 = p[0][0] * tMs + p[0][1];
    let k1 = p[1][0] * tMs + p[1][1];
    const tpt = kLambda + tMs * k0 + k1;
    k0 /= tpt;
    k1 /= tpt;
    // w = w + K*(ts(k) - that)
    this.w[0] = this.w[0] + k0 * residual;
    this.w[1] = this.w[1] + k1 * residual;
    // P = 1/lambda*(P - K*T'*P)
    const p00 = (1 / kLambda) * (p[0][0] - (k0 * tMs * p[0][0] + k0 * p[1][0]));
    const p01 = (1 / kLambda) * (p[0][1] - (k0 * tMs * p[0][1] + k0 * p[1][1]));
    p[1][0] = (1 / kLambda) * (p[1][0] - (k1 * tMs * p[0][0] + k1 * p[1][0]));
    p[1][1] = (1 / kLambda) * (p[1][1] - (k1 * tMs * p[0][1] + k1 * p[1][1]));
    p[0][0] = p00;
    p[0][1] = p01;

    this.prevUnwrappedTimestamp = unwrappedTs90khz;
    if (this.packetCount < kMaxPacketCount) this.packetCount++;
  }

  /**
   * The expected local time (ms) for an RTP timestamp, or undefined before the first update.
   * Does not change the unwrapper state.
   */
  extrapolateLocalTime(rtpTimestamp90k: number): number | undefined {
    const unwrappedTs90khz = this.unwrapper.peekUnwrap(rtpTimestamp90k);
    if (this.firstUnwrappedTimestamp === undefined || this.prevUnwrappedTimestamp === undefined) {
      return undefined;
    }
    if (this.packetCount < kStartUpFilterDelayInPackets) {
      // TimeDelta::Millis(ticks / 90.0): microsecond resolution, truncated.
      const diffUs = Math.trunc(((unwrappedTs90khz - this.prevUnwrappedTimestamp) * 1000) / 90);
      return this.prevMs + diffUs / 1000;
    }
    if (this.w[0] < 1e-3) return this.startMs;
    const timestampDiff = unwrappedTs90khz - this.firstUnwrappedTimestamp;
    // static_cast<int64_t>(x + 0.5): whole milliseconds, truncated toward zero.
    const diffMs = Math.trunc((timestampDiff - this.w[1]) / this.w[0] + 0.5) + 0;
    return this.startMs + diffMs;
  }

  // --- Read-only state for tests and metrics. ---

  /** Estimated remote clock rate (RTP ticks per local ms, nominally 90). */
  get ticksPerMs(): number {
    return this.w[0];
  }
  /** Number of CUSUM delay-change alarms so far (including those during startup). */
  get delayChangeAlarms(): number {
    return this.alarms;
  }
  get packetsInFilter(): number {
    return this.packetCount;
  }

  private outlierRejectionEnabled(): boolean {
    return this.config.outlierRejectionStddev !== undefined;
  }

  private softReset(): void {
    if (this.config.resetFullCovOnAlarm) {
      this.p[0][0] = kP00;
      this.p[0][1] = this.p[1][0] = 0;
    }
    this.p[1][1] = kP11;
  }

  private outlierDetection(residual: number): boolean {
    const stddev = this.config.outlierRejectionStddev;
    if (stddev === undefined) return false;
    if (this.packetCount >= this.config.outlierRejectionStartupDelay) {
      const threshold = stddev * Math.sqrt(this.residualVariance);
      // Symmetric on purpose: early frames also alarm.
      if (Math.abs(residual - this.residualMean) > threshold) return true;
    }
    // Update residual statistics only with inliers.
    const f = this.config.outlierRejectionForgettingFactor;
    this.residualMean = f * this.residualMean + (1.0 - f) * residual;
    const residualDeviation = residual - this.residualMean;
    this.residualVariance = Math.max(
      f * this.residualVariance + (1.0 - f) * residualDeviation * residualDeviation,
      1.0,
    );
    return false;
  }

  /** CUSUM detection of sudden delay changes. */
  private delayChangeDetection(residual: number): boolean {
    const cfg = this.config;
    const error =
      residual > 0 ? Math.min(residual, cfg.accMaxError) : Math.max(residual, -cfg.accMaxError);
    this.detectorAccumulatorPos = Math.max(this.detectorAccumulatorPos + error - cfg.accDrift, 0);
    this.detectorAccumulatorNeg = Math.min(this.detectorAccumulatorNeg + error + cfg.accDrift, 0);
    if (
      this.detectorAccumulatorPos > cfg.alarmThreshold ||
      this.detectorAccumulatorNeg < -cfg.alarmThreshold
    ) {
      // Alarm.
      this.detectorAccumulatorPos = this.detectorAccumulatorNeg = 0;
      this.alarms++;
      return true;
    }
    return false;
  }
}
