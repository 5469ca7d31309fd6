/**
 * Decode time estimate for the timing model: the 95th percentile of the per-frame decode
 * times observed during the last 10 s, ignoring the first 5 samples (decoder warm-up).
 *
 * Port of libwebrtc modules/video_coding/timing/decode_time_percentile_filter.cc
 * (DecodeTimePercentileFilter; called codec_timer.cc / CodecTimer before 2023, identical
 * logic; read at kengonakajima/minAECM@545857e). Percentile selection as in
 * rtc_base/numerics/percentile_filter.h (see percentile-filter.ts).
 */
import { PercentileFilter } from './percentile-filter';

// --- Constants (decode_time_percentile_filter.cc) ---
/** kIgnoredSampleCount: the first 5 samples are ignored. */
export const kIgnoredSampleCount = 5;
/** kPercentile: the percentile returned by RequiredDecodeTimeMs() (a float upstream). */
export const kPercentile = 0.95;
/** kTimeLimitMs: the window size. */
export const kTimeLimitMs = 10_000;

export class DecodeTimePercentileFilter {
  private ignoredSampleCount = 0;
  private readonly filter = new PercentileFilter(kPercentile);
  private readonly history: { decodeTimeMs: number; sampleTimeMs: number }[] = [];

  /** AddTiming / AddSample: a frame took `decodeTimeMs` to decode, observed at `nowMs`. */
  addSample(decodeTimeMs: number, nowMs: number): void {
    // Ignore the first kIgnoredSampleCount samples.
    if (this.ignoredSampleCount < kIgnoredSampleCount) {
      ++this.ignoredSampleCount;
      return;
    }

    // Insert new decode time value.
    this.filter.insert(decodeTimeMs);
    this.history.push({ decodeTimeMs, sampleTimeMs: nowMs });

    // Pop old decode time values (strictly older than the window).
    while (this.history.length > 0 && nowMs - this.history[0]!.sampleTimeMs > kTimeLimitMs) {
      this.filter.erase(this.history.shift()!.decodeTimeMs);
    }
  }

  /** The 95th percentile decode time within the window (0 when no samples). */
  requiredDecodeTimeMs(): number {
    return this.filter.getPercentileValue();
  }

  /** Newer libwebrtc name of requiredDecodeTimeMs(). */
  getPercentileMs(): number {
    return this.requiredDecodeTimeMs();
  }

  /** Number of samples in the window (for tests and metrics). */
  get sampleCount(): number {
    return this.history.length;
  }
}
