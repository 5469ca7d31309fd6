import assert from 'node:assert/strict';

/** Deterministic PRNG (mulberry32): seeded tests replay the same inputs every run. */
export { mulberry32 as rng } from '../../src/prng';

/**
 * Feeds inputs to a parser and counts outcomes: a parse, or a rejection with the parser's
 * own error type. Anything else thrown (an out-of-bounds read, a failed `check`) fails the test.
 */
export function parseFuzzer<T>(parse: (b: Buffer) => T, errorType: new (...args: never[]) => Error, check?: (result: T, input: Buffer) => void) {
  const counts = { parsed: 0, rejected: 0 };
  const attempt = (buf: Buffer): void => {
    try {
      const r = parse(buf);
      check?.(r, buf);
      counts.parsed++;
    } catch (e) {
      assert.ok(e instanceof errorType, `unexpected ${String(e)}`);
      counts.rejected++;
    }
  };
  return { attempt, counts };
}
