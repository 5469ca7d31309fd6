/**
 * Delay-based bandwidth estimate: arrival groups → trendline → over-use detector → AIMD.
 *
 * Port of libwebrtc modules/congestion_controller/goog_cc/delay_based_bwe.cc
 * (IncomingPacketFeedbackVector / IncomingPacketFeedback / MaybeUpdateEstimate, 2021+
 * revision with InterArrivalDelta; the video path only, no NetworkStateEstimate; same
 * control flow as the jitsi port of M128).
 *
 * Per transport feedback: every received packet, in arrival order, goes through the
 * arrival-group filter; each completed group pair updates the trendline and the detector.
 * Then, once per feedback:
 *   overusing  → if the acknowledged rate is known and it is time to reduce again
 *                (AimdRateControl.timeToReduceFurther), AIMD decreases to 0.85 × acknowledged;
 *                with no acknowledged rate yet, halve the estimate (at most every RTT);
 *   otherwise  → a probe result (ProbeBitrateEstimator) if there is one becomes the estimate
 *                (AimdRateControl.setEstimate, result.probe); else AIMD update (increase or hold).
 * No packet seen for kStreamTimeOut = 2 s → the group filter, trendline and detector restart.
 */
import { AimdRateControl, type AimdOptions } from './aimd-rate-control';
import { InterArrivalDelta, kSendTimeGroupLengthMs } from './inter-arrival';
import { OveruseDetector } from './overuse-detector';
import { TrendlineEstimator } from './trendline-estimator';
import type { BandwidthUsage } from './types';

/** delay_based_bwe.cc kStreamTimeOut. */
export const kStreamTimeOutMs = 2000;

export interface ReceivedPacket {
  sendTimeMs: number;
  arrivalTimeMs: number;
  sizeBytes: number;
}

export interface DelayBasedResult {
  updated: boolean;
  targetBps: number;
  /** The detector went from underusing back to normal during this feedback. */
  recoveredFromOveruse: boolean;
  /** The estimate was set from a probe result (DelayBasedBwe::Result::probe). */
  probe?: boolean;
}

export interface DelayBasedOptions extends AimdOptions {
  startBps: number;
  minBps: number;
}

export class DelayBasedBwe {
  private interArrival = new InterArrivalDelta(kSendTimeGroupLengthMs);
  private trendline = new TrendlineEstimator();
  private detector = new OveruseDetector();
  private lastSeenPacketMs = -Infinity;
  readonly rateControl: AimdRateControl;

  constructor(opts: DelayBasedOptions) {
    this.rateControl = new AimdRateControl(opts);
    this.rateControl.setStartBitrate(opts.startBps);
    this.rateControl.setMinBitrate(opts.minBps);
  }

  /**
   * @param packets received packets of one feedback, sorted by arrival time
   * @param ackedBps the acknowledged bitrate after this feedback (null if unknown)
   * @param inAlr whether the sender is application limited
   * @param atMs the feedback's arrival time
   */
  incomingPacketFeedbackVector(
    packets: readonly ReceivedPacket[],
    ackedBps: number | null,
    inAlr: boolean,
    atMs: number,
    probeBps: number | null = null,
  ): DelayBasedResult {
    if (packets.length === 0) {
      // All packets of this feedback lost, or very late feedback: no delay information.
      return { updated: false, targetBps: this.rateControl.latestEstimate(), recoveredFromOveruse: false };
    }
    let recoveredFromOveruse = false;
    let prevState = this.detector.state;
    for (const p of packets) {
      this.incomingPacketFeedback(p, atMs);
      if (prevState === 'underusing' && this.detector.state === 'normal') recoveredFromOveruse = true;
      prevState = this.detector.state;
    }
    this.rateControl.setInApplicationLimitedRegion(inAlr);
    return this.maybeUpdateEstimate(ackedBps, probeBps, recoveredFromOveruse, atMs);
  }

  onRttUpdate(rttMs: number): void {
    this.rateControl.setRtt(rttMs);
  }

  latestEstimate(): number {
    return this.rateControl.latestEstimate();
  }

  get state(): BandwidthUsage {
    return this.detector.state;
  }
  get trend(): number {
    return this.trendline.trend;
  }
  get threshold(): number {
    return this.detector.threshold;
  }
  get modifiedTrend(): number {
    return this.detector.modifiedTrend;
  }

  private incomingPacketFeedback(p: ReceivedPacket, atMs: number): void {
    // Reset if the stream has timed out.
    if (!Number.isFinite(this.lastSeenPacketMs) || atMs - this.lastSeenPacketMs > kStreamTimeOutMs) {
      this.interArrival = new InterArrivalDelta(kSendTimeGroupLengthMs);
      this.trendline = new TrendlineEstimator();
      this.detector = new OveruseDetector();
    }
    this.lastSeenPacketMs = atMs;
    const deltas = this.interArrival.computeDeltas(p.sendTimeMs, p.arrivalTimeMs, atMs, p.sizeBytes);
    if (deltas) {
      const trend = this.trendline.update(deltas.arrivalDeltaMs, deltas.sendDeltaMs, p.arrivalTimeMs);
      this.detector.detect(trend, this.trendline.numOfDeltas, deltas.sendDeltaMs, p.arrivalTimeMs);
    }
  }

  private maybeUpdateEstimate(
    ackedBps: number | null,
    probeBps: number | null,
    recoveredFromOveruse: boolean,
    atMs: number,
  ): DelayBasedResult {
    const rc = this.rateControl;
    if (this.detector.state === 'overusing') {
      if (ackedBps !== null && rc.timeToReduceFurther(atMs, ackedBps)) {
        const target = rc.update({ bwState: 'overusing', estimatedThroughputBps: ackedBps }, atMs);
        return { updated: rc.validEstimate(), targetBps: target, recoveredFromOveruse: false };
      }
      if (ackedBps === null && rc.validEstimate() && rc.initialTimeToReduceFurther(atMs)) {
        // Overusing before we have a measured acknowledged bitrate: halve the rate (at most
        // once per RTT, 10–200 ms).
        rc.setEstimate(rc.latestEstimate() / 2, atMs, 'halve-no-acked');
        return { updated: true, targetBps: rc.latestEstimate(), recoveredFromOveruse: false };
      }
      return { updated: false, targetBps: rc.latestEstimate(), recoveredFromOveruse: false };
    }
    if (probeBps !== null) {
      // A probe result (not over-using): take it as the new estimate (AimdRateControl::SetEstimate).
      rc.setEstimate(probeBps, atMs);
      return { updated: true, targetBps: rc.latestEstimate(), recoveredFromOveruse: false, probe: true };
    }
    const target = rc.update({ bwState: this.detector.state, estimatedThroughputBps: ackedBps }, atMs);
    return { updated: rc.validEstimate(), targetBps: target, recoveredFromOveruse };
  }
}
