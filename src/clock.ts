/**
 * Time is injected everywhere: components take `now` (ms) as a parameter, and only
 * the process edges (CLI, runtime loops) read a Clock. The real clock is CLOCK_MONOTONIC
 * (process.hrtime), which every process on one host shares, so sender and receiver
 * timestamps written on one host are directly comparable.
 */
export interface Clock {
  /** Milliseconds on a monotonic timeline (fractional). */
  now(): number;
}

export const monotonicClock: Clock = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
};

/** A clock driven by hand, for deterministic tests on simulated time. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/** Timers, injected like the clock so schedules (trace replay, sampling) run on simulated time in tests. */
export interface Timer {
  setTimeout(fn: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimer: Timer = {
  setTimeout: (fn, delayMs) => setTimeout(fn, Math.max(0, delayMs)),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Runs `fn` every `intervalMs` on `timer` (re-armed after each run, as Node's setInterval
 * does) until the returned function is called.
 */
export function repeat(timer: Timer, intervalMs: number, fn: () => void): () => void {
  let handle: unknown = null;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = timer.setTimeout(tick, intervalMs);
    fn();
  };
  handle = timer.setTimeout(tick, intervalMs);
  return () => {
    stopped = true;
    timer.clearTimeout(handle);
  };
}
