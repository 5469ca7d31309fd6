/**
 * Link monitor: samples the shaper's counters of both directions every 100 ms and turns
 * each pair of consecutive readings into a `LinkRow` (link.csv): throughput from the
 * byte counter's delta over the actual elapsed time, drops in the interval, backlog at
 * its end, next to the capacity the trace asks for.
 *
 * The counters are the qdisc's own (`tc -s -j qdisc show`): with link.sh's size table
 * they count IP bytes, what the shaper let through, unlike /sys/class/net statistics,
 * which count Ethernet frames. Reading them costs one persistent `tc -batch` process
 * per direction (a line in, a JSON line out, ~0.3 ms), not one exec per sample
 * (~3 ms of CPU each, ~6 % of a core at 20 reads/s).
 *
 * Sampling is drift-free (tick k at start + k × interval, armed for due − now); a tick
 * that falls due while the previous reading is still running is skipped and counted.
 * Clock and timer are injected, so the schedule and the arithmetic run on simulated
 * time in tests.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Clock } from '../clock';
import { monotonicClock } from '../clock';
import { CsvWriter } from '../metrics/csv';
import { LINK_COLUMNS, type LinkRow } from '../metrics/rows';
import type { ShapedLink } from './netns';
import { realTimer, type Timer } from '../clock';
import type { TraceReplayer } from './replay';

export interface QdiscCounters {
  /** Bytes sent (IP bytes under link.sh's size table), since the qdisc was made. */
  bytes: number;
  packets: number;
  drops: number;
  /** Bytes and packets queued now. */
  backlog: number;
  qlen: number;
}

/** up = a → b (media, the a2b egress), down = b → a. */
export type MonitorDir = 'up' | 'down';

export interface CounterSource {
  read(dir: MonitorDir): Promise<QdiscCounters>;
  close(): void;
}

/** The capacity the trace asks for at a clock time, and the trace's own time. */
export type CapacityAt = (timeMs: number) => { traceS: number; up: number; down: number };

/** Capacity from a replayer's trace: the sample in force on its ideal timeline. */
export function replayCapacity(replayer: Pick<TraceReplayer, 'positionAt'>): CapacityAt {
  return (timeMs) => {
    const p = replayer.positionAt(timeMs);
    return { traceS: p.traceS, up: p.sample.up.kbit, down: p.sample.down.kbit };
  };
}

/** Capacity of a link without a trace: its current rates, trace time counted from `startMs`. */
export function linkCapacity(link: Pick<ShapedLink, 'rateKbit'>, startMs: number): CapacityAt {
  return (timeMs) => {
    const r = link.rateKbit;
    return { traceS: (timeMs - startMs) / 1000, up: r.a2b, down: r.b2a };
  };
}

export class CountersError extends Error {
  override name = 'CountersError';
}

const SHAPERS = new Set(['tbf', 'htb']);

/**
 * The shaper's counters from `tc -s -j qdisc show dev X`: the tbf or htb qdisc (root,
 * or under a netem root), else the root qdisc. Throws CountersError on anything else.
 */
export function shaperCounters(json: string): QdiscCounters {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    throw new CountersError(`tc output is not JSON: ${json.slice(0, 80)}`);
  }
  if (!Array.isArray(list) || list.length === 0) throw new CountersError('tc listed no qdisc');
  const qs = list as Record<string, unknown>[];
  const q = qs.find((x) => SHAPERS.has(String(x.kind))) ?? qs.find((x) => x.root === true);
  if (!q) throw new CountersError('tc listed no shaper and no root qdisc');
  const num = (k: string): number => {
    const v = q[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CountersError(`qdisc ${String(q.kind)}: counter '${k}' missing`);
    return v;
  };
  return { bytes: num('bytes'), packets: num('packets'), drops: num('drops'), backlog: num('backlog'), qlen: num('qlen') };
}

export interface Reading {
  /** Clock time the counters were asked for, ms. */
  atMs: number;
  counters: QdiscCounters;
}

/** A counter that went backwards was reset (qdisc replaced): count from 0. */
function delta(cur: number, prev: number): number {
  return cur >= prev ? cur - prev : cur;
}

/** One link.csv row from two consecutive readings of one direction. */
export function linkRow(direction: MonitorDir, prev: Reading, cur: Reading, capacity: ReturnType<CapacityAt>): LinkRow {
  const elapsedMs = cur.atMs - prev.atMs;
  if (!(elapsedMs > 0)) throw new RangeError(`readings must be in time order (${prev.atMs} then ${cur.atMs})`);
  return {
    time_ms: cur.atMs,
    trace_s: capacity.traceS,
    direction,
    capacity_kbit: capacity[direction],
    // bytes × 8 / ms = kbit/s
    throughput_kbit: (delta(cur.counters.bytes, prev.counters.bytes) * 8) / elapsedMs,
    backlog_bytes: cur.counters.backlog,
    drops: delta(cur.counters.drops, prev.counters.drops),
  };
}

// ---------------------------------------------------------------------------------
// Reading the counters with tc

/** One `tc -n NS -s -j -batch -` process: a `qdisc show` line in, one JSON line out. */
class TcBatch {
  private readonly child: ChildProcess;
  private readonly waiting: { resolve: (line: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private exitReason: string | null = null;
  private stderr = '';

  constructor(
    private readonly ns: string,
    private readonly dev: string,
    private readonly timeoutMs: number,
  ) {
    this.child = spawn('tc', ['-n', ns, '-s', '-j', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      clearTimeout(w.timer);
      w.resolve(line);
    });
    this.child.stderr!.on('data', (d) => (this.stderr = (this.stderr + String(d)).slice(-500)));
    this.child.stdin!.on('error', () => {}); // EPIPE after tc exits: reported by 'exit'
    const failAll = (reason: string): void => {
      this.exitReason ??= reason;
      for (const w of this.waiting.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new CountersError(this.exitReason));
      }
    };
    this.child.on('error', (e) => failAll(`tc for ${ns} failed to start: ${e.message}`));
    this.child.on('exit', (code, sig) => failAll(`tc for ${ns} ended (${sig ?? `exit ${code}`}): ${this.stderr.trim().split('\n').pop() ?? ''}`));
  }

  get process(): ChildProcess {
    return this.child;
  }

  query(): Promise<string> {
    if (this.exitReason) return Promise.reject(new CountersError(this.exitReason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.findIndex((w) => w.timer === timer);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new CountersError(`tc for ${this.ns} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.push({ resolve, reject, timer });
      this.child.stdin!.write(`qdisc show dev ${this.dev}\n`);
    });
  }

  close(): void {
    this.child.stdin!.end();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}

/** Reads the shaper counters of a ShapedLink's two egresses through persistent tc processes. */
export class TcCounterSource implements CounterSource {
  private readonly batches: Record<MonitorDir, TcBatch>;

  constructor(link: ShapedLink, timeoutMs = 1000) {
    const make = (dir: 'a2b' | 'b2a'): TcBatch => {
      const { ns, dev } = link.egress(dir);
      const b = new TcBatch(ns, dev, timeoutMs);
      link.track(b.process); // removed with the link even if close() is never called
      return b;
    };
    this.batches = { up: make('a2b'), down: make('b2a') };
  }

  async read(dir: MonitorDir): Promise<QdiscCounters> {
    return shaperCounters(await this.batches[dir].query());
  }

  /** The tc processes, e.g. to measure their CPU time. */
  get pids(): number[] {
    return [this.batches.up.process.pid, this.batches.down.process.pid].filter((p): p is number => p !== undefined);
  }

  close(): void {
    this.batches.up.close();
    this.batches.down.close();
  }
}

// ---------------------------------------------------------------------------------
// The sampling loop

export interface LinkMonitorOptions {
  source: CounterSource;
  clock: Clock;
  timer: Timer;
  capacityAt: CapacityAt;
  onRow: (row: LinkRow) => void;
  /** Sampling interval, ms (100). */
  intervalMs?: number;
  /** The source failed (e.g. the link was removed): sampling has stopped. */
  onError?: (e: Error) => void;
}

export class LinkMonitor {
  private readonly intervalMs: number;
  private startMs: number | null = null;
  private k = 0;
  private handle: unknown;
  private prev: Partial<Record<MonitorDir, Reading>> = {};
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Ticks done, and ticks skipped because a reading was still running at their time. */
  readonly stats = { ticks: 0, missed: 0, rows: 0 };

  constructor(private readonly opts: LinkMonitorOptions) {
    this.intervalMs = opts.intervalMs ?? 100;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0 (got ${opts.intervalMs})`);
  }

  /** First reading (the baseline) at `atMs` (default now); rows from the next one on. */
  start(atMs: number = this.opts.clock.now()): void {
    if (this.startMs !== null) throw new Error('link monitor: already started');
    this.startMs = atMs;
    this.arm();
  }

  /** Stops sampling; resolves when a reading in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) this.opts.timer.clearTimeout(this.handle);
    this.handle = undefined;
    await this.running;
  }

  private due(): number {
    return this.startMs! + this.k * this.intervalMs;
  }

  private arm(): void {
    if (this.stopped) return;
    this.handle = this.opts.timer.setTimeout(() => this.tick(), this.due() - this.opts.clock.now());
  }

  private tick(): void {
    this.handle = undefined;
    if (this.stopped) return;
    // libuv timers count whole ms and may fire up to 1 ms before a fractional due time.
    if (this.opts.clock.now() < this.due()) {
      this.arm();
      return;
    }
    this.running = this.sample().finally(() => (this.running = null));
  }

  private async sample(): Promise<void> {
    const atMs = this.opts.clock.now();
    let readings: [QdiscCounters, QdiscCounters];
    try {
      readings = await Promise.all([this.opts.source.read('up'), this.opts.source.read('down')]);
    } catch (e) {
      this.stopped = true;
      this.opts.onError?.(e as Error);
      return;
    }
    this.stats.ticks++;
    const capacity = this.opts.capacityAt(atMs);
    (['up', 'down'] as const).forEach((dir, i) => {
      const cur = { atMs, counters: readings[i] };
      const prev = this.prev[dir];
      if (prev && atMs > prev.atMs) {
        this.opts.onRow(linkRow(dir, prev, cur, capacity));
        this.stats.rows++;
      }
      this.prev[dir] = cur;
    });
    // The next tick on the ideal timeline that is still ahead.
    const now = this.opts.clock.now();
    const next = Math.max(this.k + 1, Math.floor((now - this.startMs!) / this.intervalMs) + 1);
    this.stats.missed += next - this.k - 1;
    this.k = next;
    this.arm();
  }
}

/**
 * Monitors a ShapedLink into `csvPath` (link.csv, LINK_COLUMNS) from `startMs` (default
 * now; e.g. the replay's start, so samples fall on the trace's 100-ms grid) until `close()`, which
 * stops sampling, ends the tc processes and flushes the file. `capacityAt` is the
 * trace's capacity (e.g. from TraceReplayer.positionAt) or the link's fixed rate.
 */
export function monitorLinkToCsv(
  link: ShapedLink,
  csvPath: string,
  opts: { capacityAt: CapacityAt; clock?: Clock; timer?: Timer; intervalMs?: number; onError?: (e: Error) => void; startMs?: number },
): { monitor: LinkMonitor; source: TcCounterSource; close(): Promise<void> } {
  const writer = new CsvWriter<LinkRow>(csvPath, LINK_COLUMNS);
  const source = new TcCounterSource(link);
  const monitor = new LinkMonitor({
    source,
    clock: opts.clock ?? monotonicClock,
    timer: opts.timer ?? realTimer,
    capacityAt: opts.capacityAt,
    intervalMs: opts.intervalMs,
    onError: opts.onError,
    onRow: (r) => writer.write(r),
  });
  monitor.start(opts.startMs);
  return {
    monitor,
    source,
    async close() {
      await monitor.stop();
      source.close();
      await writer.close();
    },
  };
}
