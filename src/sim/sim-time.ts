/**
 * Simulated time: a clock and a timer in one, advanced by `runUntil`. Timers fire in
 * time order (ties in the order they were set); each may fire late by `lateness()` ms, as
 * real timers on a busy event loop do.
 *
 * Real asynchronous work (x264 and FFmpeg on libuv's pool) takes no simulated time but
 * real time: registered with `track`, it is awaited before the clock moves on, and its
 * results are handed back one at a time in the order the work was started, whatever
 * order the pool finished it in. So a simulation that encodes and decodes for real runs
 * the same way on every run, however slow or loaded the machine is. Promise callbacks
 * run between timers, so async code that awaits simulated delays behaves as it would on
 * real time.
 */
import type { Clock, Timer } from '../clock';

interface Work {
  done: Promise<unknown>;
  release: () => void;
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets every promise callback and immediate that is ready run. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

export class SimTime implements Clock, Timer {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];
  private work: Work[] = [];

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

  /**
   * Real work the clock must wait for before it moves on (codec calls). The returned
   * promise settles as `p` does, released by settle() in the order of the track() calls.
   */
  track<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = p.then(
        (v) => () => resolve(v),
        (e) => () => reject(e),
      );
      const w: Work = { done, release: () => {} };
      done.then((settleCaller) => (w.release = settleCaller));
      this.work.push(w);
    });
  }

  /** Waits until no tracked work is running and every callback it released has run. */
  async settle(): Promise<void> {
    await flush();
    while (this.work.length > 0) {
      const batch = this.work;
      this.work = [];
      await Promise.all(batch.map((w) => w.done));
      await flush();
      for (const w of batch) {
        w.release();
        await flush();
      }
    }
  }

  /** Runs every timer due up to `untilMs`, in order, then sets the clock to `untilMs`. */
  async runUntil(untilMs: number): Promise<void> {
    await this.runUntilDone(() => false, untilMs);
  }

  /** Runs timers until `done()` holds (checked between timers) or `limitMs` is reached; true if it held. */
  async runUntilDone(done: () => boolean, limitMs: number): Promise<boolean> {
    for (;;) {
      await this.settle();
      if (done()) return true;
      this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.pending[0];
      if (!next || next.at > limitMs) {
        this.t = Math.max(this.t, limitMs);
        return done();
      }
      this.pending.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
  }
}
