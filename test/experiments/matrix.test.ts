/** The matrix: stable order, stable ids, per-cell seeds, fingerprints. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCli } from '../../src/cli/main';
import { commanderArgChecker } from '../../src/experiments/arg-check';
import { cellFingerprint, cellId, deriveSeed, expandMatrix, fnv1a32, withSeed } from '../../src/experiments/matrix';
import { parseSpec } from '../../src/experiments/spec';

const check = commanderArgChecker(buildCli);

function spec(extra: Record<string, unknown> = {}) {
  return parseSpec(
    JSON.stringify({
      name: 'm',
      duration_s: 10,
      seed: 7,
      repetitions: 2,
      arms: { single: { offer: ['--mode', 'single'] }, dual: { offer: ['--mode', 'dual'] } },
      traces: ['4g-1', { trace: 'step-2.5-1.0-2.5', label: 'step' }],
      ...extra,
    }),
    'experiments/m.json',
    check,
  );
}

describe('experiment matrix', () => {
  it('arms × traces × repetitions: repetition outermost, then trace, then arm', () => {
    const cells = expandMatrix(spec());
    assert.deepEqual(
      cells.map((c) => c.id),
      [
        'single__4g-1__r0',
        'dual__4g-1__r0',
        'single__step__r0',
        'dual__step__r0',
        'single__4g-1__r1',
        'dual__4g-1__r1',
        'single__step__r1',
        'dual__step__r1',
      ],
    );
    assert.deepEqual(cells.map((c) => c.index), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(cellId('a', null, 'b', 3), 'a__b__r3');
    assert.equal(cellId('a', 'screen', 'b', 3), 'a__screen__b__r3');
  });

  it('clips: a dimension inside each trace, named in the cell ids; seeds shared across clips', () => {
    const cells = expandMatrix(spec({ clips: ['talking-head', 'screen'], repetitions: 1 }));
    assert.deepEqual(
      cells.map((c) => c.id),
      [
        'single__talking-head__4g-1__r0',
        'dual__talking-head__4g-1__r0',
        'single__screen__4g-1__r0',
        'dual__screen__4g-1__r0',
        'single__talking-head__step__r0',
        'dual__talking-head__step__r0',
        'single__screen__step__r0',
        'dual__screen__step__r0',
      ],
    );
    assert.deepEqual(cells.map((c) => c.clip.label), ['talking-head', 'talking-head', 'screen', 'screen', 'talking-head', 'talking-head', 'screen', 'screen']);
    assert.equal(new Set(cells.filter((c) => c.trace.label === 'step').map((c) => c.seed)).size, 1, 'one trace slice for every clip and arm');
    const fp = (i: number) => cellFingerprint(spec({ clips: ['talking-head', 'screen'] }), cells[i]);
    assert.notEqual(fp(0), fp(2), 'the clip is part of what a result depends on');
  });

  it('is the same for the same spec (ids, order and seeds)', () => {
    const a = expandMatrix(spec()).map((c) => [c.id, c.seed]);
    const b = expandMatrix(spec()).map((c) => [c.id, c.seed]);
    assert.deepEqual(a, b);
  });

  it('seeds: shared by the arms of a trace and repetition, different across traces, repetitions and spec seeds', () => {
    const cells = expandMatrix(spec());
    const seedOf = (id: string) => cells.find((c) => c.id === id)!.seed;
    assert.equal(seedOf('single__4g-1__r0'), seedOf('dual__4g-1__r0'), 'common random numbers across arms');
    const distinct = new Set(['single__4g-1__r0', 'single__step__r0', 'single__4g-1__r1', 'single__step__r1'].map(seedOf));
    assert.equal(distinct.size, 4);
    assert.equal(seedOf('single__4g-1__r0'), deriveSeed(7, '4g-1', 0));
    assert.notEqual(deriveSeed(7, '4g-1', 0), deriveSeed(8, '4g-1', 0));
    for (const c of cells) assert.ok(Number.isInteger(c.seed) && c.seed >= 0 && c.seed <= 0xffffffff);
  });

  it('FNV-1a 32 matches its published test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  it('{seed} in arm options becomes the cell seed', () => {
    assert.deepEqual(withSeed(['--x', 'seed={seed}', '{seed}'], 42), ['--x', 'seed=42', '42']);
  });

  it('fingerprints change with what the results depend on, and only with that', () => {
    const s = spec();
    const [c0] = expandMatrix(s);
    const fp = cellFingerprint(s, c0);
    assert.equal(cellFingerprint(spec(), expandMatrix(spec())[0]), fp, 'stable');
    assert.equal(cellFingerprint(spec({ description: 'other words' }), expandMatrix(spec({ description: 'other words' }))[0]), fp);
    assert.notEqual(cellFingerprint(spec({ duration_s: 11 }), expandMatrix(spec({ duration_s: 11 }))[0]), fp);
    const otherArgs = spec({ arms: { single: { offer: ['--mode', 'single', '--keyint', '30'] }, dual: { offer: ['--mode', 'dual'] } } });
    assert.notEqual(cellFingerprint(otherArgs, expandMatrix(otherArgs)[0]), fp);
    const otherLink = spec({ link: { queue_ms: 300 } });
    assert.notEqual(cellFingerprint(otherLink, expandMatrix(otherLink)[0]), fp);
  });
});
