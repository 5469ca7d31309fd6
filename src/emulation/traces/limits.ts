/**
 * What any trace may hold, checked where a trace enters the testbed (the canonical parser
 * and every importer), so no later stage sees a value that is not finite or out of order.
 * The bounds are far outside real data and only catch unit mistakes and hostile files: a
 * fuzz pass found `1000.5 1e308` read as an infinite capacity, `-1e308 2` as a NaN
 * duration, and a mahimahi file whose last timestamp was 10^12 ms asking for an array of
 * 5·10^9 bins.
 */
import { clipText } from '../../errors';
import { TraceError } from './errors';
import type { LinkState, Trace } from './types';

/** One week: the longest public link traces are hours long. */
export const MAX_TRACE_S = 7 * 86_400;
/** 1 Tbit/s in kbit/s: 100 × the fastest link tc shapes on these machines. */
export const MAX_KBIT = 1e9;
/** Base delay, ms (netem's own limit is about 4.3 s × 1000; a minute is already absurd). */
export const MAX_DELAY_MS = 60_000;

/**
 * Checks a trace's values: times finite, from 0, increasing and within a week; duration
 * after the last time and within a week; capacities, delays and losses finite and in range.
 * `where` prefixes the message (a file name).
 */
export function checkTrace(t: Trace, where: string): Trace {
  const bad = (what: string): never => {
    throw new TraceError(`${where}: ${what}`);
  };
  if (t.samples.length === 0) bad('no samples');
  let prev = -Infinity;
  t.samples.forEach((s, i) => {
    if (!Number.isFinite(s.timeS) || s.timeS < 0 || s.timeS > MAX_TRACE_S) bad(`sample ${i + 1}: time ${s.timeS} s is outside 0–${MAX_TRACE_S} s (one week)`);
    if (i === 0 && s.timeS !== 0) bad(`the first sample must be at time 0, got ${s.timeS}`);
    if (s.timeS <= prev) bad(`sample ${i + 1}: times must increase (${s.timeS} after ${prev})`);
    prev = s.timeS;
    checkState(s.up, `sample ${i + 1} up`, bad);
    checkState(s.down, `sample ${i + 1} down`, bad);
  });
  if (!Number.isFinite(t.durationS) || t.durationS <= prev || t.durationS > MAX_TRACE_S) {
    bad(`the duration ${t.durationS} s must be after the last sample (${prev} s) and at most ${MAX_TRACE_S} s (one week)`);
  }
  return t;
}

function checkState(l: LinkState, what: string, bad: (what: string) => never): void {
  if (!Number.isFinite(l.kbit) || l.kbit < 0 || l.kbit > MAX_KBIT) bad(`${what}: capacity ${l.kbit} kbit/s is outside 0–${MAX_KBIT} (1 Tbit/s)`);
  if (l.delayMs !== undefined && !(Number.isFinite(l.delayMs) && l.delayMs >= 0 && l.delayMs <= MAX_DELAY_MS)) bad(`${what}: delay ${l.delayMs} ms is outside 0–${MAX_DELAY_MS}`);
  if (l.lossPct !== undefined && !(Number.isFinite(l.lossPct) && l.lossPct >= 0 && l.lossPct <= 100)) bad(`${what}: loss ${l.lossPct} % is outside 0–100`);
}

/** A value for an error message: at most `max` characters, never throws (cycles, deep nesting, huge strings). */
export function shown(v: unknown, max = 60): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v.length > max ? v.slice(0, max) : v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = Array.isArray(v) ? 'an array' : typeof v;
  }
  return clipText(s, max);
}
