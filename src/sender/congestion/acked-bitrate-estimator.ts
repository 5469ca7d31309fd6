/**
 * Acknowledged (received) bitrate: every received packet of every transport feedback, in
 * arrival order, into a BitrateEstimator.
 *
 * Port of libwebrtc modules/congestion_controller/goog_cc/acknowledged_bitrate_estimator.cc
 * (the revision with SetAlr / SetAlrEndedTime that goog_cc_network_control.cc calls). The
 * first packet sent after an application-limited region ended tells the estimator to expect
 * a fast rate change (its variance grows): the rate measured during ALR says little about
 * capacity.
 */
import { BitrateEstimator } from './bitrate-estimator';

export interface AckedPacket {
  sendTimeMs: number;
  arrivalTimeMs: number;
  sizeBytes: number;
}

export class AcknowledgedBitrateEstimator {
  private alrEndedTimeMs: number | null = null;
  private inAlr = false;

  constructor(private readonly estimator = new BitrateEstimator()) {}

  /** Received packets only, sorted by arrival time. */
  incomingPacketFeedbackVector(packets: readonly AckedPacket[]): void {
    for (const p of packets) {
      if (this.alrEndedTimeMs !== null && p.sendTimeMs > this.alrEndedTimeMs) {
        this.estimator.expectFastRateChange();
        this.alrEndedTimeMs = null;
      }
      this.estimator.update(p.arrivalTimeMs, p.sizeBytes, this.inAlr);
    }
  }

  bitrateBps(): number | null {
    return this.estimator.bitrateBps();
  }

  peekRateBps(): number | null {
    return this.estimator.peekRateBps();
  }

  setAlrEndedTime(ms: number): void {
    this.alrEndedTimeMs = ms;
  }

  setAlr(inAlr: boolean): void {
    this.inAlr = inAlr;
  }
}
