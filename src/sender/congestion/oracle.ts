/**
 * The upper reference: the target is 0.95 × the capacity of the trace being replayed at
 * this moment (its `up` direction, the media's), read from the same trace the link
 * emulation replays and looping as the replay does. Delay and loss figures come from a
 * GCC instance fed the same feedback, for the logs only: they never move the target.
 */
import { capacityAt } from '../../emulation/traces/lookup';
import type { Trace } from '../../emulation/traces/types';
import { GccObservedController } from './observed';
import type { NetworkEstimate } from './types';

export const ORACLE_SHARE = 0.95;

export class OracleRate extends GccObservedController {
  readonly name = 'oracle';

  /** `traceStartMs`: when the trace's time 0 was applied to the link, on our clock. */
  constructor(
    private readonly trace: Trace,
    private readonly traceStartMs: number,
  ) {
    super(Math.max(1, trace.samples[0].up.kbit * 1000 * ORACLE_SHARE), 1, Number.MAX_SAFE_INTEGER);
  }

  estimate(nowMs: number): NetworkEstimate {
    const seen = this.observer.estimate(nowMs);
    const kbit = capacityAt(this.trace, (nowMs - this.traceStartMs) / 1000, 'up');
    return { ...seen, targetBps: Math.max(1, kbit * 1000 * ORACLE_SHARE) };
  }
}
