/**
 * Per-SSRC reception statistics for RTCP receiver reports: extended highest sequence
 * number, cumulative and interval loss (RFC 3550 Appendix A.3) and interarrival jitter
 * (Appendix A.8), in RTP timestamp units.
 */
import type { ReportBlock } from '../rtp/types';

const RTP_CLOCK_HZ = 90000;

export class ReceiveStatistics {
  private baseSeq = -1;
  private cycles = 0;
  private maxSeq = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit: number | null = null;
  private lastSr: { middle32: number; arrivalMs: number } | null = null;

  constructor(readonly ssrc: number) {}

  onPacket(seq: number, rtpTimestamp: number, arrivalMs: number): void {
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else {
      const delta = (seq - this.maxSeq + 0x10000) & 0xffff;
      if (delta > 0 && delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
    }
    this.received++;
    // A.8: transit time in timestamp units; the frame's packets share a timestamp, so
    // this measures the spread of a frame's packets as well as network jitter, as in
    // every RTP video receiver.
    const transit = (arrivalMs * RTP_CLOCK_HZ) / 1000 - rtpTimestamp;
    if (this.lastTransit !== null) {
      let d = transit - this.lastTransit;
      if (d > 0x8000_0000) d -= 0x1_0000_0000;
      if (d < -0x8000_0000) d += 0x1_0000_0000;
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  onSenderReport(ntpMiddle32: number, arrivalMs: number): void {
    this.lastSr = { middle32: ntpMiddle32 >>> 0, arrivalMs };
  }

  get packetsReceived(): number {
    return this.received;
  }

  get extendedHighestSeq(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected but not received since the start (negative with duplicates, as RFC 3550 allows). */
  get cumulativeLost(): number {
    return this.baseSeq < 0 ? 0 : this.extendedHighestSeq - this.baseSeq + 1 - this.received;
  }

  /** The report block for the next RR; advances the interval counters. */
  reportBlock(nowMs: number): ReportBlock | null {
    if (this.baseSeq < 0) return null;
    const expected = this.extendedHighestSeq - this.baseSeq + 1;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval > 0 && lostInterval > 0 ? Math.floor((lostInterval * 256) / expectedInterval) : 0;
    const cumulative = Math.max(-0x800000, Math.min(0x7fffff, this.cumulativeLost));
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: cumulative,
      highestSeq: this.extendedHighestSeq >>> 0,
      jitter: Math.round(this.jitter),
      lsr: this.lastSr?.middle32 ?? 0,
      dlsr: this.lastSr ? Math.round(((nowMs - this.lastSr.arrivalMs) / 1000) * 65536) : 0,
    };
  }
}
