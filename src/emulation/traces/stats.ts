/**
 * Time-weighted statistics of a trace: every sample counts for as long as it holds, so a
 * trace with irregular steps (200 ms here, 3 s there) is not skewed towards its busy parts.
 * The per-second figures are those of DESIGN §8 (what real traces look like), computed on
 * 1-s bins of the time-weighted mean.
 */
import type { Trace, TraceSample } from './types';
import { percentile } from '../../metrics/summary';

export type Direction = 'up' | 'down';

/** One sample and the span of one pass it holds for. */
export interface Segment {
  fromS: number;
  toS: number;
  sample: TraceSample;
}

/** The spans of one pass: sample i holds until sample i+1, the last until durationS. */
export function segments(trace: Trace): Segment[] {
  const s = trace.samples;
  return s.map((sample, i) => ({ fromS: sample.timeS, toS: i + 1 < s.length ? s[i + 1].timeS : trace.durationS, sample }));
}

export function timeWeightedMean(trace: Trace, direction: Direction = 'up'): number {
  let sum = 0;
  for (const g of segments(trace)) sum += g.sample[direction].kbit * (g.toS - g.fromS);
  return sum / trace.durationS;
}

export interface TraceStats {
  meanKbit: number;
  /** Coefficient of variation: time-weighted standard deviation / mean (NaN when the mean is 0). */
  cv: number;
  minKbit: number;
  maxKbit: number;
  p5Kbit: number;
  p50Kbit: number;
  p95Kbit: number;
  /** Share of the time (0–1) the capacity is below 10 % of the mean: outages. */
  belowTenthShare: number;
}

export function traceStats(trace: Trace, direction: Direction = 'up'): TraceStats {
  const segs = segments(trace).map((g) => ({ kbit: g.sample[direction].kbit, dt: g.toS - g.fromS }));
  const total = trace.durationS;
  const mean = segs.reduce((a, g) => a + g.kbit * g.dt, 0) / total;
  const variance = segs.reduce((a, g) => a + (g.kbit - mean) ** 2 * g.dt, 0) / total;
  const sorted = [...segs].sort((a, b) => a.kbit - b.kbit);
  const quantile = (p: number): number => {
    let acc = 0;
    for (const g of sorted) {
      acc += g.dt;
      if (acc >= p * total - 1e-9) return g.kbit;
    }
    return sorted[sorted.length - 1].kbit;
  };
  return {
    meanKbit: mean,
    cv: mean > 0 ? Math.sqrt(variance) / mean : Number.NaN,
    minKbit: sorted[0].kbit,
    maxKbit: sorted[sorted.length - 1].kbit,
    p5Kbit: quantile(0.05),
    p50Kbit: quantile(0.5),
    p95Kbit: quantile(0.95),
    belowTenthShare: segs.filter((g) => g.kbit < 0.1 * mean).reduce((a, g) => a + g.dt, 0) / total,
  };
}

/** The time-weighted mean capacity of each `binS` bin of one pass (the last bin may be shorter). */
export function binMeans(trace: Trace, binS: number, direction: Direction = 'up'): number[] {
  const segs = segments(trace);
  const out: number[] = [];
  let k = 0;
  const bins = Math.ceil(trace.durationS / binS - 1e-9);
  for (let b = 0; b < bins; b++) {
    const from = b * binS;
    const to = Math.min(from + binS, trace.durationS);
    while (k < segs.length && segs[k].toS <= from) k++;
    let sum = 0;
    for (let j = k; j < segs.length && segs[j].fromS < to; j++) {
      sum += segs[j].sample[direction].kbit * (Math.min(to, segs[j].toS) - Math.max(from, segs[j].fromS));
    }
    out.push(sum / (to - from));
  }
  return out;
}

/** DESIGN §8's figures, on 1-s bins. */
export interface SecondStats {
  cv: number;
  /** Lag-1 s autocorrelation of the bin means (NaN for a constant trace). */
  lag1: number;
  /** Share of seconds whose mean is below 10 % of the overall mean. */
  belowTenthShare: number;
  /** Median and 95th percentile of |change between consecutive seconds| / mean. */
  changeP50: number;
  changeP95: number;
}

export function secondStats(trace: Trace, direction: Direction = 'up'): SecondStats {
  const x = binMeans(trace, 1, direction);
  const n = x.length;
  const mean = x.reduce((a, v) => a + v, 0) / n;
  const dev = x.map((v) => v - mean);
  const ss = dev.reduce((a, d) => a + d * d, 0);
  let cross = 0;
  for (let i = 1; i < n; i++) cross += dev[i - 1] * dev[i];
  const changes = x
    .slice(1)
    .map((v, i) => Math.abs(v - x[i]) / mean)
    .sort((a, b) => a - b);
  return {
    cv: mean > 0 ? Math.sqrt(ss / n) / mean : Number.NaN,
    lag1: ss > 0 ? cross / ss : Number.NaN,
    belowTenthShare: x.filter((v) => v < 0.1 * mean).length / n,
    changeP50: percentile(changes, 50),
    changeP95: percentile(changes, 95),
  };
}

