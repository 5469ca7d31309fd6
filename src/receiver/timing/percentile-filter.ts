/**
 * Percentile filters used by the decode-time filter and (optionally) by the jitter estimator.
 *
 * Follows libwebrtc:
 *  - rtc_base/numerics/percentile_filter.h        PercentileFilter<T>
 *  - rtc_base/numerics/moving_percentile_filter.h MovingPercentileFilter<T>, MovingMedianFilter<T>
 *
 * The percentile is a C++ `float` and the target index is
 * `static_cast<int64_t>(percentile_ * (set_.size() - 1))`, computed in single precision;
 * Math.fround reproduces that (0.95f * 20 = 19, not 18.999...).
 */
export class PercentileFilter {
  private readonly percentileF32: number;
  /** Multiset kept sorted ascending. */
  private readonly sorted: number[] = [];

  constructor(percentile: number) {
    if (!(percentile >= 0 && percentile <= 1)) {
      throw new RangeError(`percentile must be in [0, 1], got ${percentile}`);
    }
    this.percentileF32 = Math.fround(percentile);
  }

  insert(value: number): void {
    // Insert at the upper bound, like std::multiset::insert.
    this.sorted.splice(this.upperBound(value), 0, value);
  }

  /** Remove one occurrence of `value`; false if it is not present. */
  erase(value: number): boolean {
    const i = this.lowerBound(value);
    if (i >= this.sorted.length || this.sorted[i] !== value) return false;
    this.sorted.splice(i, 1);
    return true;
  }

  /** The percentile value, or 0 when empty (GetPercentileValue()). */
  getPercentileValue(): number {
    const n = this.sorted.length;
    if (n === 0) return 0;
    const index = Math.trunc(Math.fround(this.percentileF32 * Math.fround(n - 1)));
    return this.sorted[index]!;
  }

  reset(): void {
    this.sorted.length = 0;
  }

  get size(): number {
    return this.sorted.length;
  }

  private lowerBound(value: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private upperBound(value: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Percentile over the latest `windowSize` samples (MovingPercentileFilter<T>). */
export class MovingPercentileFilter {
  private readonly filter: PercentileFilter;
  private readonly samples: number[] = [];

  constructor(
    percentile: number,
    private readonly windowSize: number,
  ) {
    if (!(windowSize > 0)) throw new RangeError('windowSize must be > 0');
    this.filter = new PercentileFilter(percentile);
  }

  insert(value: number): void {
    this.filter.insert(value);
    this.samples.push(value);
    if (this.samples.length > this.windowSize) {
      this.filter.erase(this.samples.shift()!);
    }
  }

  reset(): void {
    this.filter.reset();
    this.samples.length = 0;
  }

  getFilteredValue(): number {
    return this.filter.getPercentileValue();
  }

  getNumberOfSamplesStored(): number {
    return this.samples.length;
  }
}

/** MovingMedianFilter<T>: MovingPercentileFilter with percentile 0.5. */
export class MovingMedianFilter extends MovingPercentileFilter {
  constructor(windowSize: number) {
    super(0.5, windowSize);
  }
}
