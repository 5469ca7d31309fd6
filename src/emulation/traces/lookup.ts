/** What the link is at a given moment of a trace's replay. */
import type { Trace, TraceSample } from './types';

/**
 * The sample in force `tS` seconds after the replay started: a looping trace starts again
 * at time 0 every `durationS`; after the end of a non-looping one the last sample holds.
 * Times before 0 read the first sample.
 */
export function stateAt(trace: Trace, tS: number): TraceSample {
  const s = trace.samples;
  let t = Math.max(0, tS);
  if (t >= trace.durationS) {
    if (!trace.loop) return s[s.length - 1];
    t %= trace.durationS;
  }
  // The last sample whose time is <= t (binary search: replay and the oracle ask often).
  let lo = 0;
  let hi = s.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid].timeS <= t) lo = mid;
    else hi = mid - 1;
  }
  return s[lo];
}

/** Capacity (kbit/s) of one direction at `tS`; `up` is the media direction. */
export function capacityAt(trace: Trace, tS: number, direction: 'up' | 'down' = 'up'): number {
  return stateAt(trace, tS)[direction].kbit;
}
