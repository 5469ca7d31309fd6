import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAMILY_MODELS, MODEL_FAMILIES, generateModel, type ModelFamily } from '../../../src/emulation/traces/model';
import { formatTrace } from '../../../src/emulation/traces/format';
import { secondStats, timeWeightedMean } from '../../../src/emulation/traces/stats';
import { TraceError } from '../../../src/emulation/traces/errors';
import { ROOT } from '../../helpers/cli';

const gen = (family: ModelFamily, seed: number, overrides = {}, durationS = 300) => generateModel({ family, seed, durationS, name: `${family}-${seed}`, overrides });

test('the same seed gives the same trace; seeds and families give different ones', () => {
  assert.equal(formatTrace(gen('4g', 7).trace), formatTrace(gen('4g', 7).trace));
  assert.notEqual(formatTrace(gen('4g', 7).trace), formatTrace(gen('4g', 8).trace));
  // Same seed, another family: an independent process, not the same walk rescaled.
  const a = secondStats(gen('wifi', 1, { meanKbit: 2000, cv: 0.5, tauS: 3, outagesPerMin: 0, minKbit: 0, maxKbit: 1e9 }).trace);
  const b = secondStats(gen('4g', 1, { meanKbit: 2000, cv: 0.5, tauS: 3, outagesPerMin: 0, minKbit: 0, maxKbit: 1e9, jitterCv: 0.15 }).trace);
  assert.notEqual(a.cv, b.cv);
});

test('the seed draws parameters inside the family ranges; overrides replace a draw', () => {
  for (const family of MODEL_FAMILIES) {
    const r = FAMILY_MODELS[family].draw;
    for (let seed = 0; seed < 30; seed++) {
      const { params, trace } = gen(family, seed, {}, 5);
      for (const k of ['meanKbit', 'cv', 'tauS', 'outagesPerMin', 'outageMeanS'] as const) {
        assert.ok(params[k] >= r[k][0] && params[k] <= r[k][1], `${family} seed ${seed} ${k}=${params[k]}`);
      }
      assert.match(trace.source, new RegExp(`^model ${family}\\(seed=${seed}, mean=${params.meanKbit} kbit/s, cv=`));
      assert.equal(trace.loop, true);
      assert.equal(trace.durationS, 5);
    }
  }
  const { params } = gen('5g', 3, { cv: 0.1, stepMs: 500 });
  assert.equal(params.cv, 0.1);
  assert.equal(params.stepMs, 500);
  assert.equal(params.tauS, gen('5g', 3).params.tauS, 'fixing one parameter leaves the other draws alone');
});

test('the process: mean, cv and lag-1 autocorrelation as parameterised (no outages, no clip, long run)', () => {
  const tauS = 4;
  const { trace } = gen('4g', 5, { meanKbit: 2000, cv: 0.3, tauS, outagesPerMin: 0, minKbit: 0, maxKbit: 1e9 }, 20_000);
  const s = secondStats(trace);
  const mean = timeWeightedMean(trace);
  assert.ok(Math.abs(mean - 2000) / 2000 < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(s.cv - 0.3) < 0.03, `cv ${s.cv}`);
  // Log-normal: the capacity's lag-1 autocorrelation is (e^{σ²ρ} − 1)/(e^{σ²} − 1) for log-lag ρ = e^{−1/τ}.
  const sigma2 = Math.log(1 + 0.3 ** 2);
  const expect = (Math.exp(sigma2 * Math.exp(-1 / tauS)) - 1) / (Math.exp(sigma2) - 1);
  assert.ok(Math.abs(s.lag1 - expect) < 0.03, `lag1 ${s.lag1} vs ${expect}`);
  assert.equal(s.belowTenthShare, 0);
});

test('outages: capacity 0 for about rate × length of the time; clip bounds the rest', () => {
  const { trace } = gen('5g', 2, { outagesPerMin: 3, outageMeanS: 2, minKbit: 500, maxKbit: 3000 }, 20_000);
  let out = 0;
  trace.samples.forEach((s, i) => {
    const to = i + 1 < trace.samples.length ? trace.samples[i + 1].timeS : trace.durationS;
    if (s.up.kbit === 0) out += to - s.timeS;
    else assert.ok(s.up.kbit >= 500 && s.up.kbit <= 3000 && Number.isInteger(s.up.kbit), `${s.up.kbit}`);
    assert.equal(s.down.kbit, s.up.kbit);
  });
  // Each outage begins outside one: share ≈ r·L / (1 + r·L) with r·L = 3/60 × 2 = 0.1.
  const share = out / trace.durationS;
  assert.ok(Math.abs(share - 0.1 / 1.1) < 0.02, `outage share ${share}`);
});

test("each family's 300-s traces measure inside its documented ranges (seeds 1–50)", () => {
  for (const family of MODEL_FAMILIES) {
    const e = FAMILY_MODELS[family].expect;
    for (let seed = 1; seed <= 50; seed++) {
      const s = secondStats(gen(family, seed).trace);
      for (const k of ['cv', 'lag1', 'belowTenthShare', 'changeP50', 'changeP95'] as const) {
        assert.ok(s[k] >= e[k][0] && s[k] <= e[k][1], `${family} seed ${seed}: ${k} ${s[k].toFixed(3)} outside [${e[k]}]`);
      }
    }
  }
});

test('traces/README.md documents exactly the ranges the model is tested against', () => {
  const readme = readFileSync(join(ROOT, 'traces', 'README.md'), 'utf8');
  const r = ([lo, hi]: readonly [number, number]) => `${lo}–${hi}`;
  const p = ([lo, hi]: readonly [number, number]) => `${+(lo * 100).toFixed(1)}–${+(hi * 100).toFixed(1)} %`;
  for (const family of MODEL_FAMILIES) {
    const { draw: d, expect: e, fixed: f } = FAMILY_MODELS[family];
    const expectRow = `| ${family} | ${r(e.cv)} | ${r(e.lag1)} | ${p(e.belowTenthShare)} | ${p(e.changeP50)} | ${p(e.changeP95)} |`;
    assert.ok(readme.includes(expectRow), `README lacks: ${expectRow}`);
    const drawRow = `| ${family} | ${r(d.meanKbit)} | ${r(d.cv)} | ${r(d.tauS)} | ${r(d.outagesPerMin)} × ${r(d.outageMeanS)} | ${f.minKbit}–${f.maxKbit} | ${f.jitterCv} |`;
    assert.ok(readme.includes(drawRow), `README lacks: ${drawRow}`);
  }
});

test('bad parameters are one-line errors', () => {
  assert.throws(() => gen('wifi', 1, { stepMs: 300 }), (e: Error) => e instanceof TraceError && /the step must be a whole number of ms dividing 1000/.test(e.message));
  assert.throws(() => gen('wifi', 1, { minKbit: 10, maxKbit: 5 }), /clip bounds/);
  assert.throws(() => gen('wifi', -1), /the seed must be an integer/);
  assert.throws(() => gen('wifi', 1, {}, 0), /the duration must be > 0/);
});
