/**
 * The rate at which packets reached the receiver, from transport-wide feedback: bytes of
 * packets whose arrival fell in the last second (receiver clock), whatever controller
 * runs — network.csv's received_bps is a measurement, not a controller's estimate.
 */
import type { PacketResult } from './congestion/types';

const WINDOW_MS = 1000;

export class DeliveryRate {
  private readonly arrivals: { t: number; bytes: number }[] = [];
  private bytes = 0;
  private latest = -Infinity;

  onFeedback(packets: PacketResult[]): void {
    for (const p of packets) {
      if (p.arrivalTimeMs === null) continue;
      this.arrivals.push({ t: p.arrivalTimeMs, bytes: p.sizeBytes });
      this.bytes += p.sizeBytes;
      this.latest = Math.max(this.latest, p.arrivalTimeMs);
    }
    this.arrivals.sort((a, b) => a.t - b.t);
    while (this.arrivals.length && this.arrivals[0].t <= this.latest - WINDOW_MS) this.bytes -= this.arrivals.shift()!.bytes;
  }

  /** bit/s over the last second of arrivals, or null before any feedback. */
  bps(): number | null {
    return Number.isFinite(this.latest) ? (this.bytes * 8 * 1000) / WINDOW_MS : null;
  }
}
