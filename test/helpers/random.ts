import assert from 'node:assert/strict';

/** Deterministic PRNG (mulberry32): seeded tests replay the same inputs every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
