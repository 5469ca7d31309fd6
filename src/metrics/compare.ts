/**
 * Arms against a baseline arm, with statistics a reviewer accepts: cells of one trace and
 * repetition share a seed (the same trace slice, the same start), so each arm's cell is
 * paired with the baseline's cell of that scene, trace and repetition, and the paired differences
 * are bootstrapped (percentile interval over resampled pairs, seeded so the same results
 * give the same interval). Reported per metric: the mean paired difference and the ratio
 * of means (arm / baseline), each with its 95 % interval.
 */
import { mean, quantileSorted } from 'simple-statistics';
import { seededRandom } from '../emulation/traces/random';
import type { ExperimentSummaryRow } from './rows';

type NumericKey = {
  [K in keyof ExperimentSummaryRow]: ExperimentSummaryRow[K] extends number | '' ? K : never;
}[keyof ExperimentSummaryRow];

export interface CompareMetric {
  key: NumericKey;
  label: string;
}

/** The metrics issue 12's aims are stated in. */
export const COMPARE_METRICS: CompareMetric[] = [
  { key: 'e2e_p50_ms', label: 'e2e p50 (ms)' },
  { key: 'e2e_p95_ms', label: 'e2e p95 (ms)' },
  { key: 'e2e_p99_ms', label: 'e2e p99 (ms)' },
  { key: 'iframe_picture_p95_ms', label: 'I-picture p95 (ms)' },
  { key: 'pframe_picture_p95_ms', label: 'P-picture p95 (ms)' },
  { key: 'freezes', label: 'freezes' },
  { key: 'bitrate_kbps', label: 'kbit/s' },
  { key: 'backup_bytes_pct', label: 'backup bytes %' },
  { key: 'psnr_db', label: 'PSNR (dB)' },
];

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface MetricComparison {
  arm: string;
  metric: CompareMetric;
  /** Pairs with a value on both sides. */
  pairs: number;
  baselineMean: number;
  armMean: number;
  /** Mean of (arm − baseline) over the pairs. */
  difference: Interval;
  /** mean(arm) / mean(baseline); null when the baseline's mean is 0. */
  ratio: Interval | null;
}

export interface CompareOptions {
  resamples?: number;
  seed?: number;
  metrics?: CompareMetric[];
}

/** A summary row as read from summary.csv: every value a string. */
export type SummaryRecord = Record<string, string>;

const DEFAULT_RESAMPLES = 10_000;

export class CompareError extends Error {
  override name = 'UsageError';
}

/** Every arm but the baseline, each metric, paired by (scene, trace, repetition); a summary without a scene column pairs by trace and repetition. */
export function compareArms(rows: readonly SummaryRecord[], baseline: string, o: CompareOptions = {}): MetricComparison[] {
  const arms = [...new Set(rows.map((r) => r.arm))];
  if (!arms.includes(baseline)) throw new CompareError(`no arm '${baseline}' in the results (arms: ${arms.join(', ')})`);
  const key = (r: SummaryRecord) => `${r.scene ?? ''}\u0000${r.trace}\u0000${r.repetition}`;
  const base = new Map(rows.filter((r) => r.arm === baseline).map((r) => [key(r), r]));
  const out: MetricComparison[] = [];
  for (const arm of arms.filter((a) => a !== baseline)) {
    const cells = rows.filter((r) => r.arm === arm);
    for (const metric of o.metrics ?? COMPARE_METRICS) {
      const pairs: [number, number][] = [];
      for (const c of cells) {
        const b = base.get(key(c));
        const x = num(c[metric.key]);
        const y = b ? num(b[metric.key]) : null;
        if (x !== null && y !== null) pairs.push([x, y]);
      }
      out.push(comparePairs(arm, metric, pairs, o));
    }
  }
  return out;
}

/** Bootstrap intervals for the mean difference and the ratio of means of `pairs` ([arm, baseline]). */
export function comparePairs(arm: string, metric: CompareMetric, pairs: readonly [number, number][], o: CompareOptions = {}): MetricComparison {
  const n = pairs.length;
  const armMean = n ? mean(pairs.map((p) => p[0])) : NaN;
  const baselineMean = n ? mean(pairs.map((p) => p[1])) : NaN;
  const stat = (sample: readonly [number, number][]) => {
    let a = 0;
    let b = 0;
    for (const [x, y] of sample) {
      a += x;
      b += y;
    }
    return { diff: (a - b) / sample.length, ratio: b === 0 ? NaN : a / b };
  };
  if (n === 0) return { arm, metric, pairs: 0, armMean, baselineMean, difference: { value: NaN, low: NaN, high: NaN }, ratio: null };
  const rng = seededRandom(o.seed ?? 1, `compare:${arm}:${metric.key}`);
  const diffs: number[] = [];
  const ratios: number[] = [];
  const sample: [number, number][] = new Array(n);
  for (let i = 0; i < (o.resamples ?? DEFAULT_RESAMPLES); i++) {
    for (let j = 0; j < n; j++) sample[j] = pairs[Math.floor(rng.uniform() * n)];
    const s = stat(sample);
    diffs.push(s.diff);
    if (Number.isFinite(s.ratio)) ratios.push(s.ratio);
  }
  diffs.sort((a, b) => a - b);
  ratios.sort((a, b) => a - b);
  const whole = stat(pairs);
  const interval = (value: number, sorted: number[]): Interval => ({ value, low: quantileSorted(sorted, 0.025), high: quantileSorted(sorted, 0.975) });
  return {
    arm,
    metric,
    pairs: n,
    armMean,
    baselineMean,
    difference: interval(whole.diff, diffs),
    ratio: Number.isFinite(whole.ratio) && ratios.length ? interval(whole.ratio, ratios) : null,
  };
}

function num(v: string | undefined): number | null {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** `value [low, high]`, with `suffix` after the value (e.g. '×'); '–' where undefined. */
export function formatInterval(i: Interval | null, digits: number, suffix = ''): string {
  return i ? `${fixed(i.value, digits)}${suffix} [${fixed(i.low, digits)}, ${fixed(i.high, digits)}]` : '–';
}

/** A table: one block per arm, one line per metric. */
export function formatComparison(results: readonly MetricComparison[], baseline: string): string {
  const f = (x: number) => fixed(x, 1);
  const lines: string[] = [];
  for (const arm of [...new Set(results.map((r) => r.arm))]) {
    const rs = results.filter((r) => r.arm === arm);
    lines.push(`${arm} vs ${baseline} (${Math.max(...rs.map((r) => r.pairs))} pairs; bootstrap 95 % intervals)`);
    const rows = rs.map((r) => [
      r.metric.label,
      f(r.baselineMean),
      f(r.armMean),
      formatInterval(r.difference, 1),
      formatInterval(r.ratio, 2, '×'),
    ]);
    const head = ['metric', baseline, arm, 'difference', 'ratio'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)) + 2);
    for (const row of [head, ...rows]) lines.push(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(''));
    lines.push('');
  }
  return lines.join('\n');
}
