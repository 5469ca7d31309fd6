/** `--oracle-trace`: the trace the link replays, as the oracle controller's capacity over time. */
import { loadTrace } from '../emulation/traces/files';
import { capacityAt } from '../emulation/traces/lookup';
import type { CapacityAt } from '../sender/congestion/oracle';
import { UsageError } from './session';

/** Loads and checks the trace now (a bad file is the user's input: one line, usage exit); binds its start later. */
export function loadOracleCapacity(ref: string): (traceStartMs: number) => CapacityAt {
  let trace;
  try {
    trace = loadTrace(ref);
  } catch (e) {
    throw new UsageError(`--oracle-trace: ${(e as Error).message}`);
  }
  return (traceStartMs) => (nowMs) => capacityAt(trace, (nowMs - traceStartMs) / 1000, 'up');
}
