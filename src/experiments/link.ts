/**
 * The emulated link of a cell, over the tc harness (src/emulation/): namespaces and
 * shaper, trace replay and link monitor as one object with one lifetime. The only
 * module of experiments/ that knows the harness's API.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Clock } from '../clock';
import { UsageError } from '../errors';
import { monitorLinkToCsv, replayCapacity } from '../emulation/link-monitor';
import { checkRequested, detectFeatures, ShapedLink, type Features } from '../emulation/netns';
import { linkReplayer, type ReplayEnd } from '../emulation/replay';
import { stateAt } from '../emulation/traces/lookup';
import type { LinkState, Trace } from '../emulation/traces/types';
import type { Spawner } from './peers';
import type { LinkSpec } from './spec';

export interface ReplayReport {
  changes: number;
  skipped: number;
  lateness_p50_ms: number | null;
  lateness_max_ms: number | null;
  apply_p50_ms: number | null;
  apply_max_ms: number | null;
  /** How the replay ended: stopped (normal: the run ended first), ended (trace over), failed. */
  end: string;
  error: string | null;
  monitor: { ticks: number; missed: number; rows: number; error: string | null };
}

export interface CellLink {
  readonly addrA: string;
  readonly addrB: string;
  /** The command prefix that runs a program in a side's namespace (for meta.json). */
  prefix(side: 'a' | 'b'): string[];
  spawner(side: 'a' | 'b'): Spawner;
  /** Starts the replay and the link monitor; `startMs` (clock ms) is trace time 0. */
  start(startMs: number): void;
  /** Stops both; link.csv is closed when this resolves. */
  stop(): Promise<ReplayReport>;
  down(): Promise<void>;
  describe(): { qdisc: string; queue_ms: number | null; queue_bytes: number | null };
}

export interface LinkSupport {
  features: Features | null;
  /** What each trace (by label) asks that the kernel cannot do, when allowed to go on without it. */
  notEmulated: Map<string, string[]>;
}

/**
 * Checks, before any cell runs, that every trace can be emulated as the spec asks:
 * capacity shaping must work (or the one-line reason, with how to get root); delay and
 * loss without netem only with `"allow_missing": true`, and are then recorded.
 */
export function checkLinkSupport(traces: { label: string; needs: { delay: boolean; loss: boolean } }[], link: LinkSpec, specFile: string): LinkSupport {
  if (traces.length === 0) return { features: null, notEmulated: new Map() };
  const features = detectFeatures();
  const notEmulated = new Map<string, string[]>();
  for (const t of traces) {
    let missing: string[];
    try {
      missing = checkRequested({ qdisc: link.qdisc, ...t.needs }, features, true);
    } catch (e) {
      throw new UsageError(`${specFile}: ${(e as Error).message}`, e instanceof UsageError ? e.exitCode : 2);
    }
    if (missing.length && !link.allowMissing) {
      throw new UsageError(
        `${specFile}: trace ${t.label} needs ${missing.join(' and ')}, which this kernel cannot emulate (no netem: ${features.missing.netem}); ` +
          `"link": {"allow_missing": true} runs without ${missing.length > 1 ? 'them' : 'it'}`,
      );
    }
    notEmulated.set(t.label, missing);
  }
  return { features, notEmulated };
}

/** The link in the trace's first state; delay and loss only when they are emulated. */
export async function bringUpLink(trace: Trace, spec: LinkSpec, notEmulated: string[], linkCsv: string, clock: Clock, features: Features): Promise<CellLink> {
  const first = stateAt(trace, 0);
  const emulate = { delay: !notEmulated.includes('delay'), loss: !notEmulated.includes('loss') };
  const state = (s: LinkState): Partial<LinkState> => ({
    kbit: s.kbit,
    ...(emulate.delay && s.delayMs ? { delayMs: s.delayMs } : {}),
    ...(emulate.loss && s.lossPct ? { lossPct: s.lossPct } : {}),
  });
  const needsNetem = trace.samples.some((s) => [s.up, s.down].some((d) => (emulate.delay && d.delayMs) || (emulate.loss && d.lossPct)));
  const link = await ShapedLink.up(
    {
      rateKbit: first.up.kbit,
      a2b: state(first.up),
      b2a: state(first.down),
      netem: needsNetem,
      qdisc: spec.qdisc,
      ...(spec.queueBytes !== undefined ? { queueBytes: spec.queueBytes } : { queueMs: spec.queueMs }),
    },
    features,
  );
  const replayer = linkReplayer(link, trace, { clock });
  let ended: ReplayEnd | null = null;
  void replayer.done.then((e) => (ended = e));
  let monitor: ReturnType<typeof monitorLinkToCsv> | null = null;
  let monitorError: string | null = null;

  return {
    addrA: link.addrA,
    addrB: link.addrB,
    prefix: (side) => ['ip', 'netns', 'exec', link.ns(side)],
    spawner: (side) => (cmd: string, args: string[], opts: SpawnOptions): ChildProcess => link.spawnIn(side, cmd, args, opts),
    start(startMs) {
      replayer.start(startMs);
      monitor = monitorLinkToCsv(link, linkCsv, {
        capacityAt: replayCapacity(replayer),
        clock,
        startMs,
        onError: (e) => (monitorError = e.message.split('\n')[0]),
      });
    },
    async stop() {
      await replayer.stop();
      await monitor?.close();
      const t = replayer.timing();
      const end = ended as ReplayEnd | null;
      return {
        changes: t.changes,
        skipped: t.skipped,
        lateness_p50_ms: t.latenessP50Ms,
        lateness_max_ms: t.latenessMaxMs,
        apply_p50_ms: t.applyP50Ms,
        apply_max_ms: t.applyMaxMs,
        end: end?.reason ?? 'not started',
        error: end?.error?.message ?? null,
        monitor: { ...(monitor?.monitor.stats ?? { ticks: 0, missed: 0, rows: 0 }), error: monitorError },
      };
    },
    down: () => link.down(),
    describe: () => ({ qdisc: link.qdisc, queue_ms: link.queueMs ?? null, queue_bytes: link.queueBytes ?? null }),
  };
}
