import type { ClockRelation } from '../metrics/rows';

/**
 * NTP-style offset between the sender's and the receiver's monotonic clocks from
 * SR → clock-echo round trips: offset = ((t1 − t0) + (t2 − t3)) / 2, error bounded by
 * half the round trip; the sample with the smallest round trip wins (as ntpd's
 * clock filter does).
 */
export class ClockSync {
  private readonly sent = new Map<number, number>();
  private best: { offsetMs: number; rttMs: number } | null = null;
  private samples = 0;

  srSent(lsr: number, t0: number): void {
    this.sent.set(lsr >>> 0, t0);
    if (this.sent.size > 64) this.sent.delete(this.sent.keys().next().value as number);
  }

  /** Returns the round-trip time of this sample, or null if the SR is unknown. */
  echo(lsr: number, t1: number, t2: number, t3: number): number | null {
    const t0 = this.sent.get(lsr >>> 0);
    if (t0 === undefined) return null;
    const rttMs = t3 - t0 - (t2 - t1);
    const offsetMs = (t1 - t0 + (t2 - t3)) / 2;
    this.samples++;
    if (!this.best || rttMs < this.best.rttMs) this.best = { offsetMs, rttMs };
    return rttMs;
  }

  relation(): ClockRelation {
    if (!this.best) return { offsetMs: 0, method: 'not-estimated', uncertaintyMs: Number.NaN, samples: 0 };
    return {
      offsetMs: this.best.offsetMs,
      method: 'rtcp-round-trip',
      uncertaintyMs: Math.max(0, this.best.rttMs / 2),
      samples: this.samples,
    };
  }
}
