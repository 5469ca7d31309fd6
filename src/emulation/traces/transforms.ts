/**
 * Pure functions Trace → Trace: what an experiment does to a trace before replaying it
 * (scale a measured trace into a video call's range keeping its shape, bound it, fit it
 * to the experiment's length). Times are rounded to the microsecond so that repeated
 * sums (300 + 0.2) stay readable in the canonical file.
 */
import { TraceError } from './errors';
import { linkState } from './format';
import { roundTo } from './numbers';
import { segments, timeWeightedMean, type Segment } from './stats';
import type { LinkState, Trace, TraceSample } from './types';

/** A new trace from spans (in time order) over [0, durationS). */
function fromSpans(base: Trace, spans: { fromS: number; sample: TraceSample }[], durationS: number): Trace {
  const samples: TraceSample[] = [];
  for (const sp of spans) {
    const t = roundTo(sp.fromS, 6);
    if (t >= durationS) break;
    const s = { ...sp.sample, timeS: t };
    // Two spans closer than a microsecond: the later one is what holds.
    if (samples.length && samples[samples.length - 1].timeS >= t) samples[samples.length - 1] = s;
    else samples.push(s);
  }
  return { ...base, durationS: roundTo(durationS, 6), samples };
}

function mapStates(t: Trace, f: (s: LinkState) => LinkState): Trace {
  return { ...t, samples: t.samples.map((s) => ({ timeS: s.timeS, up: f(s.up), down: f(s.down) })) };
}

function positive(what: string, x: number): void {
  if (!Number.isFinite(x) || x <= 0) throw new TraceError(`${what} must be a positive number, got ${x}`);
}

/** Both directions' capacity × factor (the shape and the up/down ratio are kept). */
export function scaleBy(t: Trace, factor: number): Trace {
  positive('the scale factor', factor);
  return mapStates(t, (s) => ({ ...s, kbit: s.kbit * factor }));
}

/** Scales both directions so that the up capacity's time-weighted mean is `meanKbit`. */
export function scaleToMean(t: Trace, meanKbit: number): Trace {
  positive('the target mean', meanKbit);
  const mean = timeWeightedMean(t, 'up');
  if (mean === 0) throw new TraceError(`trace ${t.name}: the up capacity is 0 throughout, it cannot be scaled to a mean`);
  return scaleBy(t, meanKbit / mean);
}

/**
 * Bounds every capacity to [minKbit, maxKbit]. An outage (0) stays an outage unless
 * `keepOutages` is false: bounding a trace to a call's range should not erase the
 * moments nothing passes, which are what loss-recovery experiments are about.
 */
export function clip(t: Trace, minKbit: number, maxKbit: number, keepOutages = true): Trace {
  if (!(minKbit >= 0) || !(maxKbit >= minKbit)) throw new TraceError(`clip bounds must satisfy 0 <= min <= max, got [${minKbit}, ${maxKbit}]`);
  return mapStates(t, (s) => ({ ...s, kbit: s.kbit === 0 && keepOutages ? 0 : Math.min(maxKbit, Math.max(minKbit, s.kbit)) }));
}

/** The first `durationS` seconds of the trace played over and over (a cut when shorter than one pass). */
export function repeatTo(t: Trace, durationS: number): Trace {
  positive('the duration', durationS);
  const spans: Segment[] = [];
  for (let k = 0; k * t.durationS < durationS; k++) {
    for (const g of segments(t)) spans.push({ ...g, fromS: k * t.durationS + g.fromS, toS: k * t.durationS + g.toS });
  }
  return fromSpans(t, spans, durationS);
}

/** The first `durationS` seconds of one pass. */
export function cut(t: Trace, durationS: number): Trace {
  positive('the duration', durationS);
  if (durationS > t.durationS) {
    throw new TraceError(`trace ${t.name}: cannot cut ${t.durationS} s to ${durationS} s (longer: repeat it instead)`);
  }
  return fromSpans(t, segments(t), durationS);
}

/**
 * The trace as replayed from `offsetS` seconds in: a looping trace is rotated (what was
 * before the offset comes at the end), a non-looping one loses its first `offsetS`.
 */
export function offset(t: Trace, offsetS: number): Trace {
  if (!Number.isFinite(offsetS) || offsetS < 0) throw new TraceError(`the offset must be >= 0 s, got ${offsetS}`);
  const d = t.durationS;
  if (!t.loop && offsetS >= d) throw new TraceError(`trace ${t.name}: offset ${offsetS} s is past its end (${d} s, not looping)`);
  const o = offsetS % d;
  const segs = segments(t);
  const spans: { fromS: number; sample: TraceSample }[] = [];
  for (const g of segs) if (g.toS > o) spans.push({ fromS: Math.max(g.fromS, o) - o, sample: g.sample });
  if (t.loop) for (const g of segs) if (g.fromS < o) spans.push({ fromS: d - o + g.fromS, sample: g.sample });
  return fromSpans(t, spans, t.loop ? d : d - o);
}

/**
 * Fixed steps of `stepS`: each bin holds the time-weighted mean of what the trace did in
 * it (capacity, and delay/loss where given; a bin where they are given only part of the
 * time counts the rest as 0). The last bin may be shorter.
 */
export function resample(t: Trace, stepS: number): Trace {
  positive('the resampling step', stepS);
  const segs = segments(t);
  const spans: { fromS: number; sample: TraceSample }[] = [];
  const bins = Math.ceil(t.durationS / stepS - 1e-9);
  let k = 0;
  for (let b = 0; b < bins; b++) {
    const from = b * stepS;
    const to = Math.min(from + stepS, t.durationS);
    while (k < segs.length && segs[k].toS <= from) k++;
    const parts: { w: number; s: TraceSample }[] = [];
    for (let j = k; j < segs.length && segs[j].fromS < to; j++) {
      parts.push({ w: (Math.min(to, segs[j].toS) - Math.max(from, segs[j].fromS)) / (to - from), s: segs[j].sample });
    }
    spans.push({ fromS: from, sample: { timeS: from, up: meanState(parts.map((p) => ({ w: p.w, l: p.s.up }))), down: meanState(parts.map((p) => ({ w: p.w, l: p.s.down }))) } });
  }
  return fromSpans(t, spans, t.durationS);
}

function meanState(parts: { w: number; l: LinkState }[]): LinkState {
  const mean = (f: (l: LinkState) => number | undefined): number | undefined =>
    parts.some((p) => f(p.l) !== undefined) ? parts.reduce((a, p) => a + p.w * (f(p.l) ?? 0), 0) : undefined;
  return linkState(mean((l) => l.kbit)!, mean((l) => l.delayMs), mean((l) => l.lossPct));
}

/**
 * Rounds capacities to `decimals` places (tc takes whole kbit/s; 0 places by default). A
 * capacity above 0 stays above 0: rounding must not invent an outage.
 */
export function roundKbit(t: Trace, decimals = 0): Trace {
  const least = 10 ** -decimals;
  return mapStates(t, (s) => ({ ...s, kbit: s.kbit > 0 ? Math.max(least, roundTo(s.kbit, decimals)) : 0 }));
}

/** Drops samples that repeat the previous one (both directions equal): the same link, fewer tc changes. */
export function mergeRuns(t: Trace): Trace {
  const samples: TraceSample[] = [];
  for (const s of t.samples) {
    const prev = samples[samples.length - 1];
    if (prev && sameState(prev.up, s.up) && sameState(prev.down, s.down)) continue;
    samples.push(s);
  }
  return { ...t, samples };
}

function sameState(a: LinkState, b: LinkState): boolean {
  return a.kbit === b.kbit && a.delayMs === b.delayMs && a.lossPct === b.lossPct;
}
