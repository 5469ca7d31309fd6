/** Number helpers shared by the parser, importers and transforms. */

/** A decimal number as trace files write it (Number() alone accepts '', ' ', '0x10', 'Infinity'). */
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number `text` spells, or null when it is not a plain decimal number. */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  if (!NUMBER_RE.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** Median of the steps between consecutive times (0 when there are fewer than two). */
export function medianStep(times: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) steps.push(times[i] - times[i - 1]);
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  const m = steps.length >> 1;
  return steps.length % 2 ? steps[m] : (steps[m - 1] + steps[m]) / 2;
}

/** Rounds to `decimals` places without the binary noise of x.toFixed → Number (1.2000000000000002 → 1.2). */
export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
