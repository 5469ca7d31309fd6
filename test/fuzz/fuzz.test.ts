/**
 * The short seeded fuzz pass CI runs (the full one is `node dist/fuzz/run.js`, a million
 * inputs per target): every parser that reads the wire or a file parses or refuses each
 * input with its own error type in one short line, and accepts no non-finite number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, nonFinite } from '../../fuzz/engine';
import { targets } from '../../fuzz/targets';

const INPUTS = 2000;

for (const t of targets()) {
  test(`fuzz ${t.name}: ${INPUTS} seeded inputs, only documented errors of one short line`, () => {
    const r = fuzz(t, INPUTS, 20261207);
    assert.deepEqual(r.failures.slice(0, 3).map((f) => f.problem), []);
    assert.equal(r.parsed + r.rejected, INPUTS);
    // The seeds themselves parse: the pass mutates valid input, not only garbage.
    for (const s of t.seeds()) assert.doesNotThrow(() => t.run(t.kind === 'text' ? String(s) : s), `${t.name} seed`);
  });
}

test('the non-finite check finds NaN and infinities at any depth', () => {
  assert.equal(nonFinite({ a: [1, { b: NaN }] }), '.a.1.b = NaN');
  assert.equal(nonFinite({ a: 1, b: 'x', c: Buffer.from([1]) }), null);
  assert.equal(nonFinite(-Infinity), 'result = -Infinity');
});
