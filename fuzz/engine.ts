/** Runs one fuzz target: inputs, outcomes, and the properties every outcome must have. */
import { mutateBytes, mutateText, random } from './mutate';
import type { FuzzTarget } from './targets';

/** An error message longer than this is a failure (it would flood a terminal or a log). */
export const MAX_MESSAGE = 300;

export interface FuzzResult {
  parsed: number;
  rejected: number;
  failures: { problem: string; input: Buffer }[];
  slowestMs: number;
  perSecond: number;
  heapMaxBytes: number;
}

/** The first non-finite number in a parse result (depth-bounded walk), or null. */
export function nonFinite(v: unknown, path = '', depth = 0): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${path || 'result'} = ${v}`;
  if (depth > 8 || v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return null;
  for (const [k, x] of Object.entries(v)) {
    const bad = nonFinite(x, `${path}.${k}`, depth + 1);
    if (bad) return bad;
  }
  return null;
}

export function fuzz(t: FuzzTarget, iterations: number, seed: number): FuzzResult {
  const r = random(seed);
  const seeds = t.seeds().map((s) => (typeof s === 'string' ? Buffer.from(s) : s));
  const out: FuzzResult = { parsed: 0, rejected: 0, failures: [], slowestMs: 0, perSecond: 0, heapMaxBytes: 0 };
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const a = seeds[Math.floor(r() * seeds.length)];
    const b = seeds[Math.floor(r() * seeds.length)];
    let input: Buffer;
    if (r() < 0.1) input = Buffer.from(Array.from({ length: Math.floor(r() * 256) }, () => Math.floor(r() * 256)));
    else if (t.kind === 'text' && r() < 0.6) input = Buffer.from(mutateText(a.toString('utf8'), b.toString('utf8'), r));
    else input = mutateBytes(a, b, r, t.kind === 'text' ? 64 * 1024 : 4096);
    const fail = (problem: string) => {
      if (out.failures.length < 100) out.failures.push({ problem, input });
    };
    const t0 = performance.now();
    try {
      const result = t.run(t.kind === 'text' ? input.toString('utf8') : input);
      const bad = nonFinite(result);
      if (bad) fail(`accepted a non-finite value: ${bad}`);
      out.parsed++;
    } catch (e) {
      if (!t.errors.some((cls) => e instanceof cls)) fail(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.slice(0, 500));
      else {
        const m = (e as Error).message;
        if (m.includes('\n') || m.length > MAX_MESSAGE) fail(`error message of ${m.length} characters${m.includes('\n') ? ' over several lines' : ''}: ${m.slice(0, 200)}`);
      }
      out.rejected++;
    }
    out.slowestMs = Math.max(out.slowestMs, performance.now() - t0);
    if (i % 5000 === 0) out.heapMaxBytes = Math.max(out.heapMaxBytes, process.memoryUsage().heapUsed);
  }
  out.perSecond = iterations / ((performance.now() - start) / 1000);
  return out;
}
