/**
 * A cap on a rate measured over a sliding window, after libwebrtc's RateLimiter
 * (rtc_base/rate_limiter.cc, on RateStatistics from rtc_base/rate_statistics.cc). Its use
 * here, as in libwebrtc: RtpTransportControllerSend owns one for retransmissions with a
 * 500 ms window (kRetransmitWindowSizeMs), sets its maximum to the target rate on every
 * target update (UpdateControlState: SetMaxRate), and RTPSender::ReSendPacket drops a
 * retransmission the limiter refuses (TryUseRate).
 *
 * The rule (TryUseRate): with bytes already used in the window, a use of `bytes` is
 * refused when (used + bytes) × 8 / window > max rate, i.e. used + bytes > max × window;
 * an allowed use counts from now on. With nothing used in the window there is no current
 * rate and the use is allowed whatever its size (libwebrtc: "This prevents problems at
 * very low rates, where for instance retransmissions would never be allowed due to too
 * high bitrate caused by a single packet"). So the bytes used in any window of that
 * length never exceed max × window, or one use if that single use is larger.
 *
 * A pure object: the caller passes the time. Differences from libwebrtc (on purpose):
 *   - time is exact (fractional ms) instead of 1 ms buckets, and no integer rounding;
 *   - the window is always its full length: libwebrtc's RateStatistics measures over the
 *     shorter span since its very first sample during its first window, which also lets
 *     every use in that first millisecond through; here the first window is like any other.
 */

/** RtpTransportControllerSend: kRetransmitWindowSizeMs = 500. */
export const RETRANSMIT_WINDOW_MS = 500;

interface Use {
  atMs: number;
  bytes: number;
}

export class RateLimiter {
  private maxRateBps: number;
  private readonly uses: Use[] = [];
  private head = 0;
  private usedBytes = 0;
  private lastNowMs = -Infinity;

  /**
   * `maxRateBps` defaults to no limit, as libwebrtc's (uint32 max) until the first
   * SetMaxRate.
   */
  constructor(
    readonly windowMs: number = RETRANSMIT_WINDOW_MS,
    maxRateBps: number = Infinity,
  ) {
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`window must be a finite number > 0 ms, got ${windowMs}`);
    this.maxRateBps = checkRate(maxRateBps);
  }

  setMaxRate(bps: number): void {
    this.maxRateBps = checkRate(bps);
  }

  get maxRate(): number {
    return this.maxRateBps;
  }

  /** Uses `bytes` now if the window allows it (then true), or leaves the window unchanged (false). */
  tryUseRate(bytes: number, nowMs: number): boolean {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`bytes must be a finite number >= 0, got ${bytes}`);
    const now = this.advance(nowMs);
    if (this.uses.length > this.head && ((this.usedBytes + bytes) * 8000) / this.windowMs > this.maxRateBps) return false;
    this.uses.push({ atMs: now, bytes });
    this.usedBytes += bytes;
    return true;
  }

  /** Bytes used in the window ending at `nowMs`. */
  usedInWindow(nowMs: number): number {
    this.advance(nowMs);
    return this.usedBytes;
  }

  /** Forgets uses that left the window (at or before now − window); time never goes back. */
  private advance(nowMs: number): number {
    if (!Number.isFinite(nowMs)) throw new RangeError(`time must be finite, got ${nowMs}`);
    if (nowMs > this.lastNowMs) this.lastNowMs = nowMs;
    const now = this.lastNowMs;
    while (this.head < this.uses.length && this.uses[this.head].atMs <= now - this.windowMs) {
      this.usedBytes -= this.uses[this.head].bytes;
      this.head++;
    }
    if (this.head === this.uses.length) {
      this.uses.length = 0;
      this.head = 0;
      this.usedBytes = 0;
    } else if (this.head >= 1024) {
      this.uses.splice(0, this.head);
      this.head = 0;
    }
    return now;
  }
}

function checkRate(bps: number): number {
  if (Number.isNaN(bps) || bps < 0) throw new RangeError(`max rate must be >= 0 bit/s, got ${bps}`);
  return bps;
}
