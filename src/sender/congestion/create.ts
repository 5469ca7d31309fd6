/** `--rate-control` → a controller. */
import { ExternalRate } from './external';
import { FixedRate } from './fixed';
import { Gcc } from './gcc';
import { OracleRate, type CapacityAt } from './oracle';
import type { RateController } from './types';

export type RateControlKind = 'gcc' | 'fixed' | 'oracle' | 'external';

/**
 * The testbed's default `--probe-interval`: GCC probes every 2 s even when the sender is not
 * application limited. libwebrtc does not (0 restores its behaviour exactly): after capacity
 * returns, its estimate climbs additively near the last capacity estimate and needs well over
 * 10 s to refill a link that went 1.0 → 2.5 Mbit/s. Measured in `bench/cc.ts` (README, "Rate
 * controllers on a stepping link"): 2 s refills the link within one interval with p95 queueing
 * under 100 ms; 5 s left one step of three runs at 75 %.
 */
export const DEFAULT_PROBE_INTERVAL_S = 2;

export interface RateControlOptions {
  kind: RateControlKind;
  startBps: number;
  minBps: number;
  maxBps: number;
  /** gcc: periodic probes outside ALR every this many ms (0 = libwebrtc's behaviour: none; the CLI's default is DEFAULT_PROBE_INTERVAL_S). */
  probeIntervalMs?: number;
  /** oracle: the capacity the link offers (the trace it replays, loaded by the caller). */
  oracleCapacity?: CapacityAt;
  /** When the controller starts (our clock, ms). */
  startMs: number;
  /** external: the command to run. */
  command?: string;
  intervalMs: number;
  onExternalExit: (why: string) => void;
}

export class RateControlError extends Error {
  override name = 'UsageError';
}

export function createRateController(o: RateControlOptions): RateController {
  switch (o.kind) {
    case 'fixed':
      return new FixedRate(o.startBps);
    case 'gcc':
      return new Gcc({ startBps: o.startBps, minBps: o.minBps, maxBps: o.maxBps, periodicProbeIntervalMs: o.probeIntervalMs });
    case 'oracle':
      if (!o.oracleCapacity) throw new RateControlError('--rate-control oracle needs --oracle-trace FILE (the trace the link replays)');
      return new OracleRate(o.oracleCapacity, o.startMs);
    case 'external':
      if (!o.command) throw new RateControlError('--rate-control external needs --rate-control-cmd CMD');
      return new ExternalRate({
        command: o.command,
        startBps: o.startBps,
        minBps: o.minBps,
        maxBps: o.maxBps,
        intervalMs: o.intervalMs,
        onExit: o.onExternalExit,
      });
  }
}
