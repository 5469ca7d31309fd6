/** `--rate-control` → a controller. */
import { loadTrace } from '../../emulation/traces/files';
import type { Trace } from '../../emulation/traces/types';
import { ExternalRate } from './external';
import { FixedRate } from './fixed';
import { Gcc } from './gcc';
import { OracleRate } from './oracle';
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
  /** oracle: the capacity trace the link replays, and when its time 0 was (our clock). */
  oracleTrace?: string;
  traceStartMs: number;
  /** external: the command to run. */
  command?: string;
  intervalMs: number;
  onExternalExit: (why: string) => void;
}

export class RateControlError extends Error {
  override name = 'UsageError';
}

/** The oracle's trace, loaded and validated; a bad file is the user's input (one line, usage exit). */
export function loadOracleTrace(ref: string): Trace {
  try {
    return loadTrace(ref);
  } catch (e) {
    throw new RateControlError(`--oracle-trace: ${(e as Error).message}`);
  }
}

export function createRateController(o: RateControlOptions): RateController {
  switch (o.kind) {
    case 'fixed':
      return new FixedRate(o.startBps);
    case 'gcc':
      return new Gcc({ startBps: o.startBps, minBps: o.minBps, maxBps: o.maxBps, periodicProbeIntervalMs: o.probeIntervalMs });
    case 'oracle':
      if (!o.oracleTrace) throw new RateControlError('--rate-control oracle needs --oracle-trace FILE (the trace the link replays)');
      return new OracleRate(loadOracleTrace(o.oracleTrace), o.traceStartMs);
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
