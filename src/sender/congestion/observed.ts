import { Gcc } from './gcc';
import type { NetworkEstimate, RateController, RateUpdate, TransportFeedback } from './types';

/**
 * A controller whose target comes from elsewhere (a trace, another process) while its
 * delay, loss and acknowledged-rate figures come from a GCC instance fed the same
 * feedback — for the logs and observations only: that GCC never sets the target.
 */
export abstract class GccObservedController implements RateController {
  abstract readonly name: string;
  readonly adaptive = true;
  protected readonly observer: Gcc;

  constructor(startBps: number, minBps: number, maxBps: number) {
    this.observer = new Gcc({ startBps, minBps, maxBps });
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

  abstract estimate(nowMs: number): RateUpdate;

  diagnostics(nowMs: number): NetworkEstimate {
    return this.observer.estimate(nowMs);
  }
}
