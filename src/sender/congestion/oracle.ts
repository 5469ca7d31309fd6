/**
 * The upper reference: the target is 0.95 × the capacity the link offers at this moment
 * (the media direction of the trace the link emulation replays, handed in by whoever
 * loaded that trace). Delay and loss figures come from a GCC instance fed the same
 * feedback, for the logs only: they never move the target.
 */
import { GccObservedController } from './observed';
import type { RateUpdate } from './types';

export const ORACLE_SHARE = 0.95;

/** The link's media-direction capacity, kbit/s, at a moment on the sender's clock (ms). */
export type CapacityAt = (nowMs: number) => number;

export class OracleRate extends GccObservedController {
  readonly name = 'oracle';

  constructor(private readonly capacityKbitAt: CapacityAt, startMs: number) {
    super(Math.max(1, capacityKbitAt(startMs) * 1000 * ORACLE_SHARE), 1, Number.MAX_SAFE_INTEGER);
  }

  estimate(nowMs: number): RateUpdate {
    return { targetBps: Math.max(1, this.capacityKbitAt(nowMs) * 1000 * ORACLE_SHARE) };
  }
}
