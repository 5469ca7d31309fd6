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
