/**
 * The upper reference: the target is 0.95 × the capacity of the trace being replayed at
 * this moment, read from the same trace file the link emulation replays. Delay and loss
 * figures come from a GCC instance fed the same feedback, for the logs only: they never
 * move the target.
 */
import { capacityAt, type TraceStep } from '../../emulation/trace';
import { GccObservedController } from './observed';
import type { NetworkEstimate } from './types';

export const ORACLE_SHARE = 0.95;

export class OracleRate extends GccObservedController {
  readonly name = 'oracle';

  /** `traceStartMs`: when the trace's time 0 was applied to the link, on our clock. */
  constructor(
    private readonly trace: TraceStep[],
    private readonly traceStartMs: number,
  ) {
    super(Math.max(1, trace[0].kbit * 1000 * ORACLE_SHARE), 1, Number.MAX_SAFE_INTEGER);
  }

  estimate(nowMs: number): NetworkEstimate {
    const seen = this.observer.estimate(nowMs);
    const kbit = capacityAt(this.trace, Math.max(0, (nowMs - this.traceStartMs) / 1000));
    return { ...seen, targetBps: Math.max(1, kbit * 1000 * ORACLE_SHARE) };
  }
}
