/**
 * A fixed target rate (`--rate-control fixed --bitrate …`): ignores the network, reports its
 * rate plus the RTT and loss it was told (so the per-run network log stays comparable).
 */
import type { NetworkEstimate, RateController, TransportFeedback } from './types';

export class FixedRate implements RateController {
  readonly name = 'fixed';
  readonly adaptive = false;
  private lossFraction = 0;
  private rttMs: number | null = null;

  constructor(private readonly bps: number) {
    if (!(bps > 0) || !Number.isFinite(bps)) throw new RangeError(`FixedRate: bitrate must be > 0 (got ${bps})`);
  }

  onTransportFeedback(_fb: TransportFeedback): void {}

  onRtt(rttMs: number, _nowMs: number): void {
    this.rttMs = rttMs;
  }

  onLossReport(fractionLost: number, _nowMs: number): void {
    this.lossFraction = fractionLost;
  }

  estimate(_nowMs: number): NetworkEstimate {
    return {
      targetBps: this.bps,
      delayGradient: 0,
      threshold: 0,
      detector: 'normal',
      lossFraction: this.lossFraction,
      ackedBps: null,
      rttMs: this.rttMs,
    };
  }
}
