/**
 * Opt-in GCC internals (TESTBED_GCC_DEBUG=FILE): one JSON line per rate update with the
 * target, the detector and Gcc.debug() (src/sender/congestion/README.md). An observer of
 * the send session's rate loop; nothing in the send path reads it.
 */
import { appendFileSync } from 'node:fs';
import { Gcc } from './gcc';
import type { RateController } from './types';

export function gccDebugObserver(file: string | undefined): ((nowMs: number, ctl: RateController) => void) | undefined {
  if (!file) return undefined;
  return (t, ctl) => {
    if (!(ctl instanceof Gcc)) return;
    const est = ctl.estimate(t);
    appendFileSync(file, JSON.stringify({ t, targetBps: est.targetBps, detector: est.detector, ...ctl.debug() }) + '\n');
  };
}
