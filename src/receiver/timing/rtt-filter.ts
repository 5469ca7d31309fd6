/**
 * RTT filter feeding the jitter estimator's NACK term (GetJitterEstimate adds
 * rtt_multiplier * Rtt() after kNackLimit NACKed frames).
 *
 * Port of libwebrtc modules/video_coding/timing/rtt_filter.cc (read at
 * kengonakajima/minAECM@545857e, the TimeDelta/InlinedVector revision, 2022+).
 *
 * Arithmetic is kept in libwebrtc's units: avg_rtt_ and max_rtt_ are TimeDelta (integer
 * microseconds, products with a double rounded with llround), var_rtt_ is an int64_t in ms^2
 * (assignments truncate), and (rtt - avg).ms() rounds to the nearest ms.
 */

// --- Constants (rtt_filter.cc / rtt_filter.h) ---
/** kMaxRtt: RTT samples are clamped to 3 s. */
export const kMaxRttMs = 3000;
/** kFilterFactorMax: the averaging factor saturates at (35 - 1) / 35. */
export const kFilterFactorMax = 35;
/** kJumpStddev: a sample this many std devs from the average is a jump candidate. */
export const kJumpStddev = 2.5;
/** kDriftStdDev: max - avg beyond this many std devs is a drift candidate. */
export const kDriftStdDev = 3.5;
/** kMaxDriftJumpCount: consecutive jump / drift samples needed to re-initialise. */
export const kMaxDriftJumpCount = 5;

const US_PER_MS = 1000;

export class RttFilter {
  private gotNonZeroUpdate = false;
  private avgRttUs = 0;
  /** ms^2, integer (int64_t upstream). */
  private varRtt = 0;
  private maxRttUs = 0;
  private filtFactCount = 1;
  private lastJumpPositive = false;
  private jumpBuf: number[] = [];
  private driftBuf: number[] = [];

  constructor() {
    this.reset();
  }

  reset(): void {
    this.gotNonZeroUpdate = false;
    this.avgRttUs = 0;
    this.varRtt = 0;
    this.maxRttUs = 0;
    this.filtFactCount = 1;
    // Upstream fills the buffers with zeros (absl::c_fill keeps their size); the first
    // update after a reset always has diff == 0 and clears them, so empty buffers are
    // equivalent.
    this.jumpBuf = [];
    this.driftBuf = [];
  }

  /** Add an RTT sample (ms). */
  update(rttMs: number): void {
    let rttUs = Math.round(rttMs * US_PER_MS);
    if (!this.gotNonZeroUpdate) {
      if (rttUs === 0) return;
      this.gotNonZeroUpdate = true;
    }

    // Sanity check.
    if (rttUs > kMaxRttMs * US_PER_MS) rttUs = kMaxRttMs * US_PER_MS;

    let filtFactor = 0;
    if (this.filtFactCount > 1) {
      filtFactor = (this.filtFactCount - 1) / this.filtFactCount;
    }
    this.filtFactCount++;
    if (this.filtFactCount > kFilterFactorMax) {
      // Keeps filt_factor from going above (kFilterFactorMax - 1) / kFilterFactorMax.
      this.filtFactCount = kFilterFactorMax;
    }
    const oldAvg = this.avgRttUs;
    const oldVar = this.varRtt;
    // TimeDelta * double rounds to the nearest microsecond.
    this.avgRttUs = Math.round(filtFactor * this.avgRttUs) + Math.round((1 - filtFactor) * rttUs);
    const deltaMs = Math.round((rttUs - this.avgRttUs) / US_PER_MS);
    this.varRtt = Math.trunc(filtFactor * this.varRtt + (1 - filtFactor) * (deltaMs * deltaMs));
    this.maxRttUs = Math.max(rttUs, this.maxRttUs);
    if (!this.jumpDetection(rttUs) || !this.driftDetection(rttUs)) {
      // In some cases we don't want to update the statistics.
      this.avgRttUs = oldAvg;
      this.varRtt = oldVar;
    }
  }

  /** The filtered RTT (ms): libwebrtc returns the tracked maximum. */
  rttMs(): number {
    return this.maxRttUs / US_PER_MS;
  }

  /** Current long-term average (ms), for tests and metrics. */
  get avgRttMs(): number {
    return this.avgRttUs / US_PER_MS;
  }

  /** Current variance (ms^2, integer), for tests and metrics. */
  get varRttMs2(): number {
    return this.varRtt;
  }

  private jumpDetection(rttUs: number): boolean {
    const diffFromAvgUs = this.avgRttUs - rttUs;
    // TimeDelta::Millis(double) keeps microsecond precision.
    const jumpThresholdUs = Math.trunc(kJumpStddev * Math.sqrt(this.varRtt) * US_PER_MS);
    if (Math.abs(diffFromAvgUs) > jumpThresholdUs) {
      const positiveDiff = diffFromAvgUs >= 0;
      if (this.jumpBuf.length > 0 && positiveDiff !== this.lastJumpPositive) {
        // The samples in the buffer represent a jump in the other direction.
        this.jumpBuf = [];
      }
      if (this.jumpBuf.length < kMaxDriftJumpCount) {
        this.jumpBuf.push(rttUs);
        this.lastJumpPositive = positiveDiff;
      }
      if (this.jumpBuf.length >= kMaxDriftJumpCount) {
        // Detected an RTT jump.
        this.shortRttFilter(this.jumpBuf);
        this.filtFactCount = kMaxDriftJumpCount + 1;
        this.jumpBuf = [];
      } else {
        return false;
      }
    } else {
      this.jumpBuf = [];
    }
    return true;
  }

  private driftDetection(rttUs: number): boolean {
    const driftThresholdUs = Math.trunc(kDriftStdDev * Math.sqrt(this.varRtt) * US_PER_MS);
    if (this.maxRttUs - this.avgRttUs > driftThresholdUs) {
      if (this.driftBuf.length < kMaxDriftJumpCount) {
        this.driftBuf.push(rttUs);
      }
      if (this.driftBuf.length >= kMaxDriftJumpCount) {
        // Detected an RTT drift.
        this.shortRttFilter(this.driftBuf);
        this.filtFactCount = kMaxDriftJumpCount + 1;
        this.driftBuf = [];
      }
    } else {
      this.driftBuf = [];
    }
    return true;
  }

  private shortRttFilter(buf: readonly number[]): void {
    this.maxRttUs = 0;
    let sumUs = 0;
    for (const rttUs of buf) {
      if (rttUs > this.maxRttUs) this.maxRttUs = rttUs;
      sumUs += rttUs;
    }
    // TimeDelta / double rounds to the nearest microsecond.
    this.avgRttUs = Math.round(sumUs / buf.length);
  }
}
