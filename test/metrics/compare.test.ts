import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareArms, comparePairs, COMPARE_METRICS, formatComparison } from '../../src/metrics/compare';
import { rng } from '../helpers/random';

const P50 = COMPARE_METRICS[0];

describe('arms against a baseline (paired bootstrap)', () => {
  it('pairs cells by trace and repetition, and the interval covers the true difference', () => {
    // Baseline cells vary a lot between traces; the arm is baseline − 10 ms ± 2 ms noise.
    const rand = rng(3);
    const rows: Record<string, string>[] = [];
    for (const trace of ['4g-1', '4g-2', 'wifi-1']) {
      for (let rep = 0; rep < 5; rep++) {
        const base = 100 + 80 * rand() + (trace === 'wifi-1' ? 200 : 0);
        rows.push({ arm: 'single', trace, repetition: String(rep), e2e_p50_ms: base.toFixed(3) });
        rows.push({ arm: 'dual', trace, repetition: String(rep), e2e_p50_ms: (base - 10 + 4 * (rand() - 0.5)).toFixed(3) });
      }
    }
    // A dual cell without a baseline twin is left out, not paired with another trace.
    rows.push({ arm: 'dual', trace: '5g-1', repetition: '0', e2e_p50_ms: '5' });
    const [r] = compareArms(rows, 'single', { metrics: [P50], resamples: 2000 });
    assert.equal(r.pairs, 15);
    assert.ok(r.difference.low <= -10 && r.difference.high >= -10, `[${r.difference.low}, ${r.difference.high}]`);
    // Pairing removes the spread between traces: the interval is narrow (unpaired it would span ±50 ms).
    assert.ok(r.difference.high - r.difference.low < 3, `width ${r.difference.high - r.difference.low}`);
    assert.ok(r.ratio && r.ratio.value < 1 && r.ratio.high < 1);
    assert.match(formatComparison([r], 'single'), /dual vs single \(15 pairs/);
  });

  it('pairs within a scene: cells of one trace and repetition but different clips are never paired', () => {
    const rows: Record<string, string>[] = [];
    for (const [scene, base] of [['screen', 50], ['high-motion', 300]] as const) {
      rows.push({ arm: 'single', scene, trace: 't', repetition: '0', e2e_p50_ms: String(base) });
      rows.push({ arm: 'dual', scene, trace: 't', repetition: '0', e2e_p50_ms: String(base - 10) });
    }
    const [r] = compareArms(rows, 'single', { metrics: [P50], resamples: 500 });
    assert.equal(r.pairs, 2);
    assert.equal(r.difference.value, -10, 'each dual cell against the single cell of its own scene');
    assert.equal(r.difference.low, -10);
    assert.equal(r.difference.high, -10);
  });

  it('is deterministic for a seed; empty or unknown input is handled', () => {
    const pairs: [number, number][] = [[1, 2], [3, 3], [5, 4], [2, 6]];
    assert.deepEqual(comparePairs('a', P50, pairs, { seed: 9, resamples: 500 }), comparePairs('a', P50, pairs, { seed: 9, resamples: 500 }));
    const none = comparePairs('a', P50, []);
    assert.equal(none.pairs, 0);
    assert.ok(Number.isNaN(none.difference.value));
    assert.throws(() => compareArms([{ arm: 'x', trace: 't', repetition: '0' }], 'nope'), /no arm 'nope'.*arms: x/);
  });
});
