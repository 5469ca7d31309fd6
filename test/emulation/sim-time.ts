/**
 * Simulated time for schedule tests: a clock and a timer in one, advanced by hand.
 * Timers fire in time order; each may fire late by `lateness()` ms, as real timers on a
 * busy event loop do. Promise callbacks run between timers, so async code that awaits
 * simulated delays (e.g. an apply taking 15 ms of simulated time) behaves as it would
 * on real time.
 */
import type { Clock } from '../../src/clock';
import type { Timer } from '../../src/clock';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

export class SimTime implements Clock, Timer {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(
    start = 0,
    private readonly lateness: () => number = () => 0,
  ) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, delayMs: number): unknown {
    const p = { at: this.t + Math.max(0, delayMs) + this.lateness(), seq: ++this.seq, fn };
    this.pending.push(p);
    return p.seq;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.seq !== handle);
  }

  /** A promise resolved after `ms` of simulated time (no lateness). */
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.pending.push({ at: this.t + ms, seq: ++this.seq, fn: r }));
  }

  /** Runs every timer due up to `untilMs`, in order, then sets the clock to `untilMs`. */
  async runUntil(untilMs: number): Promise<void> {
    for (;;) {
      await settle();
      this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.pending[0];
      if (!next || next.at > untilMs) break;
      this.pending.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = Math.max(this.t, untilMs);
    await settle();
  }
}
