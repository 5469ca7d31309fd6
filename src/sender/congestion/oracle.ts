/**
 * The upper reference: the target is 0.95 × the capacity of the trace being replayed at
 * this moment, read from the same trace file the link emulation replays. Delay and loss
 * figures come from a GCC instance fed the same feedback, for the logs only: they never
 * move the target.
 */
import { capacityAt, type TraceStep } from '../../emulation/trace';
import { Gcc } from './gcc';
import type { NetworkEstimate, RateController, TransportFeedback } from './types';

export const ORACLE_SHARE = 0.95;

export class OracleRate implements RateController {
  readonly name = 'oracle';
  private readonly observer: Gcc;

  /** `traceStartMs`: when the trace's time 0 was applied to the link, on our clock. */
  constructor(
    private readonly trace: TraceStep[],
    private readonly traceStartMs: number,
  ) {
    const first = trace[0].kbit * 1000;
    this.observer = new Gcc({ startBps: Math.max(1, first * ORACLE_SHARE), minBps: 1, maxBps: Number.MAX_SAFE_INTEGER });
  }

  onTransportFeedback(fb: TransportFeedback): void {
    this.observer.onTransportFeedback(fb);
  }

  onRtt(rttMs: number, nowMs: number): void {
    this.observer.onRtt(rttMs, nowMs);
  }

  onLossReport(fractionLost: number, nowMs: number): void {
    this.observer.onLossReport(fractionLost, nowMs);
  }

  estimate(nowMs: number): NetworkEstimate {
    const seen = this.observer.estimate(nowMs);
    const kbit = capacityAt(this.trace, Math.max(0, (nowMs - this.traceStartMs) / 1000));
    return { ...seen, targetBps: Math.max(1, kbit * 1000 * ORACLE_SHARE) };
  }
}
