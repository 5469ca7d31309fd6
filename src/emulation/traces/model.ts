/**
 * A seeded model of a wireless link's capacity, for families (wifi, 4g, 5g) whose shape
 * follows what real traces measure (DESIGN §8), scaled into a video call's range.
 *
 * Per second: log-capacity is an AR(1) process, x_i = ρ·x_{i−1} + √(1−ρ²)·σ·ε_i with
 * ρ = exp(−1/τ) (τ the decorrelation time, s) and σ² = ln(1 + cv²), so capacity
 * exp(μ + x) is log-normal with the given mean and coefficient of variation.
 * Within each second, `stepMs` sub-steps spread that second's capacity with
 * log-normal jitter normalised to mean 1, so the per-second figures stay the
 * process's own. Outages (capacity 0) start with a fixed rate per minute and last an
 * exponentially distributed time; outside them the capacity is clipped to
 * [minKbit, maxKbit]. Capacities are whole kbit/s (what tc takes).
 *
 * Every figure that defines a family's shape (cv, τ, outage share, step changes) is
 * relative to the mean, so choosing the mean inside 0.3–6 Mbit/s keeps the shape of the
 * measured traces while scaling them to one call. The seed draws a parameter point in
 * the family's ranges first, then the process, so different seeds give different links
 * of one family; any parameter can be fixed instead.
 */
import { TraceError } from './errors';
import { linkState } from './format';
import { seededRandom, type Random } from './random';
import { mergeRuns } from './transforms';
import type { Trace, TraceSample } from './types';

export interface ModelParams {
  meanKbit: number;
  /** Coefficient of variation of the per-second capacity (outages aside). */
  cv: number;
  /** Decorrelation time of log-capacity, s: lag-1 s autocorrelation exp(−1/τ). */
  tauS: number;
  outagesPerMin: number;
  outageMeanS: number;
  minKbit: number;
  maxKbit: number;
  /** Sub-second step, ms (divides 1000). */
  stepMs: number;
  /** Coefficient of variation of the sub-second jitter around each second's capacity. */
  jitterCv: number;
}

export type ModelFamily = 'wifi' | '4g' | '5g';
export const MODEL_FAMILIES: readonly ModelFamily[] = ['wifi', '4g', '5g'];

type Range = readonly [number, number];

export interface FamilyModel {
  /** Ranges the seed draws from (τ log-uniformly, the others uniformly). */
  draw: { meanKbit: Range; cv: Range; tauS: Range; outagesPerMin: Range; outageMeanS: Range };
  fixed: Pick<ModelParams, 'minKbit' | 'maxKbit' | 'stepMs' | 'jitterCv'>;
  /**
   * What 300-s traces of the family measure on 1-s bins (secondStats) for seeds 1–50:
   * documented in traces/README.md, checked by test/emulation/traces/model.test.ts.
   */
  expect: { cv: Range; lag1: Range; belowTenthShare: Range; changeP50: Range; changeP95: Range };
}

/** Parameter ranges: traces/README.md gives the DESIGN §8 figure behind each. */
export const FAMILY_MODELS: Record<ModelFamily, FamilyModel> = {
  wifi: {
    draw: { meanKbit: [2500, 4000], cv: [0.28, 0.5], tauS: [2, 5], outagesPerMin: [0.1, 0.5], outageMeanS: [0.4, 1.5] },
    fixed: { minKbit: 300, maxKbit: 6000, stepMs: 200, jitterCv: 0.15 },
    expect: { cv: [0.2, 0.55], lag1: [0.5, 0.9], belowTenthShare: [0, 0.03], changeP50: [0.08, 0.28], changeP95: [0.3, 0.9] },
  },
  '4g': {
    draw: { meanKbit: [1500, 3000], cv: [0.35, 0.75], tauS: [4, 9], outagesPerMin: [0.3, 1.5], outageMeanS: [1, 3] },
    fixed: { minKbit: 200, maxKbit: 6000, stepMs: 200, jitterCv: 0.2 },
    expect: { cv: [0.31, 0.8], lag1: [0.6, 0.9], belowTenthShare: [0, 0.1], changeP50: [0.08, 0.28], changeP95: [0.35, 1.2] },
  },
  '5g': {
    draw: { meanKbit: [1500, 2500], cv: [0.5, 0.75], tauS: [4.5, 8], outagesPerMin: [1, 3], outageMeanS: [0.4, 1.2] },
    fixed: { minKbit: 200, maxKbit: 6000, stepMs: 200, jitterCv: 0.25 },
    expect: { cv: [0.4, 0.85], lag1: [0.5, 0.9], belowTenthShare: [0, 0.08], changeP50: [0.1, 0.28], changeP95: [0.5, 1.3] },
  },
};

export function isModelFamily(f: string): f is ModelFamily {
  return (MODEL_FAMILIES as readonly string[]).includes(f);
}

/** The family's parameter point for this random stream (always the same number of draws). */
function drawParams(family: ModelFamily, rand: Random): ModelParams {
  const m = FAMILY_MODELS[family];
  const uni = ([lo, hi]: Range) => lo + (hi - lo) * rand.uniform();
  const logUni = ([lo, hi]: Range) => lo * (hi / lo) ** rand.uniform();
  return {
    meanKbit: Math.round(uni(m.draw.meanKbit)),
    cv: uni(m.draw.cv),
    tauS: logUni(m.draw.tauS),
    outagesPerMin: uni(m.draw.outagesPerMin),
    outageMeanS: uni(m.draw.outageMeanS),
    ...m.fixed,
  };
}

function checkParams(p: ModelParams): void {
  const bad = (what: string) => {
    throw new TraceError(`model: ${what}`);
  };
  if (!(p.meanKbit > 0)) bad(`the mean must be > 0 kbit/s, got ${p.meanKbit}`);
  if (!(p.cv >= 0 && p.cv <= 3)) bad(`the cv must be in 0–3, got ${p.cv}`);
  if (!(p.tauS > 0)) bad(`tau must be > 0 s, got ${p.tauS}`);
  if (!(p.outagesPerMin >= 0)) bad(`the outage rate must be >= 0 per minute, got ${p.outagesPerMin}`);
  if (!(p.outageMeanS > 0)) bad(`the mean outage length must be > 0 s, got ${p.outageMeanS}`);
  if (!(p.minKbit >= 0 && p.maxKbit >= p.minKbit)) bad(`the clip bounds must satisfy 0 <= min <= max, got [${p.minKbit}, ${p.maxKbit}]`);
  if (!(Number.isInteger(p.stepMs) && p.stepMs >= 10 && p.stepMs <= 1000 && 1000 % p.stepMs === 0)) {
    bad(`the step must be a whole number of ms dividing 1000 (10–1000), got ${p.stepMs}`);
  }
  if (!(p.jitterCv >= 0 && p.jitterCv <= 3)) bad(`the jitter cv must be in 0–3, got ${p.jitterCv}`);
}

export interface ModelRequest {
  family: ModelFamily;
  seed: number;
  durationS: number;
  /** Parameters fixed by hand instead of drawn. */
  overrides?: Partial<ModelParams>;
  name: string;
  loop?: boolean;
}

/** A model trace and the parameters it was made with. */
export function generateModel(req: ModelRequest): { trace: Trace; params: ModelParams } {
  if (!Number.isInteger(req.seed) || req.seed < 0 || req.seed > 0xffffffff) throw new TraceError(`model: the seed must be an integer 0–4294967295, got ${req.seed}`);
  if (!(req.durationS > 0)) throw new TraceError(`model: the duration must be > 0 s, got ${req.durationS}`);
  const rand = seededRandom(req.seed, req.family);
  const params = { ...drawParams(req.family, rand), ...definedOnly(req.overrides ?? {}) };
  checkParams(params);
  const samples = capacityProcess(params, req.durationS, rand).map(
    (kbit, i): TraceSample => ({ timeS: (i * params.stepMs) / 1000, up: linkState(kbit), down: linkState(kbit) }),
  );
  const trace: Trace = {
    name: req.name,
    family: req.family,
    source: describe(req.family, req.seed, params),
    durationS: req.durationS,
    loop: req.loop ?? true,
    samples,
  };
  return { trace: mergeRuns(trace), params };
}

function definedOnly<T extends object>(o: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Capacity (whole kbit/s) of each sub-step covering [0, durationS). */
function capacityProcess(p: ModelParams, durationS: number, rand: Random): number[] {
  const perSecond = 1000 / p.stepMs;
  const steps = Math.ceil((durationS * 1000) / p.stepMs - 1e-9);
  const seconds = Math.ceil(steps / perSecond);
  const sigma = Math.sqrt(Math.log(1 + p.cv ** 2));
  const mu = Math.log(p.meanKbit) - sigma ** 2 / 2;
  const rho = Math.exp(-1 / p.tauS);
  const jitterSigma = Math.sqrt(Math.log(1 + p.jitterCv ** 2));
  const outageStart = (p.outagesPerMin * p.stepMs) / 60_000;
  const out: number[] = [];
  let x = sigma * rand.normal(); // the stationary distribution: no warm-up transient
  let outageLeft = 0;
  for (let i = 0; i < seconds; i++) {
    if (i > 0) x = rho * x + Math.sqrt(1 - rho ** 2) * sigma * rand.normal();
    const level = Math.exp(mu + x);
    const e = Array.from({ length: perSecond }, () => Math.exp(jitterSigma * rand.normal()));
    const eMean = e.reduce((a, v) => a + v, 0) / perSecond;
    for (let k = 0; k < perSecond; k++) {
      if (outageLeft === 0 && rand.uniform() < outageStart) {
        const lengthS = -Math.log(1 - rand.uniform()) * p.outageMeanS;
        outageLeft = Math.max(1, Math.round((lengthS * 1000) / p.stepMs));
      }
      const kbit = outageLeft > 0 ? 0 : Math.round(Math.min(p.maxKbit, Math.max(p.minKbit, (level * e[k]) / eMean)));
      if (outageLeft > 0) outageLeft--;
      out.push(kbit);
    }
  }
  return out.slice(0, steps);
}

/** The `source` header: everything needed to know what the trace is (the seed regenerates it). */
function describe(family: ModelFamily, seed: number, p: ModelParams): string {
  return (
    `model ${family}(seed=${seed}, mean=${p.meanKbit} kbit/s, cv=${p.cv.toFixed(2)}, tau=${p.tauS.toFixed(1)} s, ` +
    `outages=${p.outagesPerMin.toFixed(2)}/min x ${p.outageMeanS.toFixed(1)} s, clip=[${p.minKbit}, ${p.maxKbit}] kbit/s, ` +
    `step=${p.stepMs} ms, jitter cv=${p.jitterCv}) - see traces/README.md`
  );
}
