/**
 * Trace replay: puts a link through a trace's states at the trace's times.
 *
 * The schedule is drift-free: the change for sample i of pass p is due at
 * start + p × duration + timeS(i) on the ideal timeline, and each timer is armed for
 * (due − now), so a late timer or a slow `tc` never delays the changes after it. When
 * several samples are already due (the previous apply took longer than their spacing),
 * only the latest is applied and the others are counted as skipped. A direction is
 * changed only when its state actually differs from what was applied last, and applies
 * never overlap (tc takes ~5–20 ms).
 *
 * Clock and timer are injected, so the replayer runs on simulated time in tests. Every
 * applied change is recorded with its scheduled and actual times (`applied`,
 * `timing()`), for the run metadata's report of the replay's timing error.
 */
import { realTimer, type Clock, type Timer } from '../clock';
import { percentile } from '../metrics/summary';
import type { ShapedLink } from './netns';
import { normalizeState } from './netns';
import type { LinkState, Trace, TraceSample } from './traces/types';

/** setTimeout/clearTimeout, injected so that schedules run on simulated time in tests. */

/** The directions that change in one step: up = a → b (media), down = b → a. */
export interface LinkChange {
  up?: LinkState;
  down?: LinkState;
}

export interface AppliedChange {
  /** Trace time of the sample applied, s. */
  traceS: number;
  /** Pass through the trace (0 = first; > 0 only when looping). */
  pass: number;
  /** When the change was due on the ideal timeline, clock ms. */
  scheduledMs: number;
  /** When apply was called, and when it resolved (the change is in force by then). */
  issuedMs: number;
  doneMs: number;
  /** doneMs − scheduledMs: how late the link was in this state (negative with a lead). */
  latenessMs: number;
  change: LinkChange;
  /** Samples that fell due while the previous apply ran and were passed over. */
  skipped: number;
}

export interface ReplayTiming {
  changes: number;
  /** Samples passed over because a later one was already due. */
  skipped: number;
  /** Lateness (doneMs − scheduledMs) over applied changes, ms; null without changes. */
  latenessP50Ms: number | null;
  latenessMaxMs: number | null;
  /** Duration of one apply (doneMs − issuedMs), ms. */
  applyP50Ms: number | null;
  applyMaxMs: number | null;
}

export interface ReplayEnd {
  /** ended: a non-looping trace reached its duration; stopped: stop(); failed: apply threw. */
  reason: 'ended' | 'stopped' | 'failed';
  error?: Error;
}

export interface ReplayOptions {
  trace: Pick<Trace, 'samples' | 'durationS' | 'loop'>;
  /** Puts the link in the given states; resolves once they are in force. */
  apply: (change: LinkChange) => Promise<void>;
  clock: Clock;
  timer: Timer;
  /** The link's state before the replay: a first sample equal to it issues nothing. */
  initial?: { up: LinkState; down: LinkState };
  /**
   * Which of a sample's fields to apply (default: capacity only). Without netem, pass
   * { delay: false, loss: false } and record what is not emulated (checkRequested).
   */
  emulate?: { delay: boolean; loss: boolean };
  /** Issue each change this many ms before it is due, to offset the apply time (0). */
  leadMs?: number;
}

type Normal = Required<LinkState>;

function sameState(a: Normal | undefined, b: Normal): boolean {
  return !!a && a.kbit === b.kbit && a.delayMs === b.delayMs && a.lossPct === b.lossPct;
}

/** The median of sorted values (the project's nearest-rank percentile), null if none. */
function median(sorted: number[]): number | null {
  return sorted.length === 0 ? null : percentile(sorted, 50);
}

export class TraceReplayer {
  readonly done: Promise<ReplayEnd>;
  private readonly samples: TraceSample[];
  private readonly durationMs: number;
  private readonly emulate: { delay: boolean; loss: boolean };
  private readonly leadMs: number;
  private current: { up?: Normal; down?: Normal } = {};
  private readonly log: AppliedChange[] = [];
  private startMs: number | null = null;
  /** The next change point: sample index and pass. */
  private cursor = { pass: 0, index: 0 };
  private handle: unknown;
  private armedFor = 0;
  private running: Promise<void> | null = null;
  private finished = false;
  private skippedTotal = 0;
  private finish!: (end: ReplayEnd) => void;

  constructor(private readonly opts: ReplayOptions) {
    const { samples, durationS } = opts.trace;
    if (samples.length === 0) throw new Error('replay: the trace has no samples');
    if (samples[0].timeS !== 0) throw new Error(`replay: the first sample must be at 0 s (got ${samples[0].timeS})`);
    for (let i = 1; i < samples.length; i++) {
      if (!(samples[i].timeS > samples[i - 1].timeS)) throw new Error(`replay: sample times must increase (${samples[i].timeS} after ${samples[i - 1].timeS})`);
    }
    if (!(durationS > samples[samples.length - 1].timeS)) throw new Error(`replay: durationS ${durationS} must exceed the last sample's time`);
    this.samples = samples;
    this.durationMs = durationS * 1000;
    this.emulate = opts.emulate ?? { delay: false, loss: false };
    this.leadMs = opts.leadMs ?? 0;
    if (opts.initial) this.current = { up: this.normal(opts.initial.up), down: this.normal(opts.initial.down) };
    this.done = new Promise((r) => (this.finish = r));
  }

  /** Starts the trace's time 0 at `atMs` (default now); the first sample is applied then. */
  start(atMs: number = this.opts.clock.now()): void {
    if (this.startMs !== null) throw new Error('replay: already started');
    this.startMs = atMs;
    this.arm();
  }

  /** Stops scheduling; resolves after an apply in progress has finished. */
  async stop(): Promise<void> {
    if (this.handle !== undefined) this.opts.timer.clearTimeout(this.handle);
    this.handle = undefined;
    this.end({ reason: 'stopped' });
    await this.running;
  }

  get applied(): readonly AppliedChange[] {
    return this.log;
  }

  timing(): ReplayTiming {
    const late = this.log.map((c) => c.latenessMs).sort((a, b) => a - b);
    const dur = this.log.map((c) => c.doneMs - c.issuedMs).sort((a, b) => a - b);
    return {
      changes: this.log.length,
      skipped: this.skippedTotal,
      latenessP50Ms: median(late),
      latenessMaxMs: late.length ? late[late.length - 1] : null,
      applyP50Ms: median(dur),
      applyMaxMs: dur.length ? dur[dur.length - 1] : null,
    };
  }

  /**
   * Where the trace is at clock time `timeMs` on the ideal timeline: its own time
   * (within one pass) and the sample in force. Before the start: time 0. For the link
   * monitor's trace_s and capacity columns.
   */
  positionAt(timeMs: number): { traceS: number; pass: number; sample: TraceSample } {
    const elapsed = Math.max(0, timeMs - (this.startMs ?? timeMs));
    let pass = Math.floor(elapsed / this.durationMs);
    let inPass = elapsed - pass * this.durationMs;
    if (!this.opts.trace.loop && pass > 0) {
      pass = 0;
      inPass = this.durationMs;
    }
    const traceS = inPass / 1000;
    // Last sample with timeS <= traceS (binary search).
    let lo = 0;
    let hi = this.samples.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.samples[mid].timeS <= traceS) lo = mid;
      else hi = mid - 1;
    }
    return { traceS, pass, sample: this.samples[lo] };
  }

  private normal(s: LinkState): Normal {
    const n = normalizeState(s);
    return { kbit: n.kbit, delayMs: this.emulate.delay ? n.delayMs : 0, lossPct: this.emulate.loss ? n.lossPct : 0 };
  }

  private dueMs(p: { pass: number; index: number }): number {
    return this.startMs! + p.pass * this.durationMs + this.samples[p.index].timeS * 1000;
  }

  /** The change point after p, or null at the end of a non-looping trace. */
  private after(p: { pass: number; index: number }): { pass: number; index: number } | null {
    if (p.index + 1 < this.samples.length) return { pass: p.pass, index: p.index + 1 };
    return this.opts.trace.loop ? { pass: p.pass + 1, index: 0 } : null;
  }

  /** Arms the timer for the cursor's change point (or the trace's end). */
  private arm(): void {
    if (this.finished) return;
    const endMs = this.startMs! + this.durationMs;
    this.armedFor = this.cursor.index < 0 ? endMs : this.dueMs(this.cursor) - this.leadMs;
    this.handle = this.opts.timer.setTimeout(() => this.tick(), this.armedFor - this.opts.clock.now());
  }

  private tick(): void {
    this.handle = undefined;
    if (this.finished) return;
    // libuv timers count whole ms and may fire up to 1 ms before a fractional due time.
    if (this.opts.clock.now() < this.armedFor) {
      this.arm();
      return;
    }
    if (this.cursor.index < 0) {
      this.end({ reason: 'ended' });
      return;
    }
    this.running = this.step().finally(() => (this.running = null));
  }

  private async step(): Promise<void> {
    const now = this.opts.clock.now();
    let point = this.cursor;
    let skipped = 0;
    for (let next = this.after(point); next && this.dueMs(next) - this.leadMs <= now; next = this.after(point)) {
      point = next;
      skipped++;
    }
    this.skippedTotal += skipped;
    const sample = this.samples[point.index];
    const change: LinkChange = {};
    const target = { up: this.normal(sample.up), down: this.normal(sample.down) };
    for (const dir of ['up', 'down'] as const) if (!sameState(this.current[dir], target[dir])) change[dir] = target[dir];
    if (change.up || change.down) {
      const issuedMs = this.opts.clock.now();
      try {
        await this.opts.apply(change);
      } catch (e) {
        this.end({ reason: 'failed', error: e as Error });
        return;
      }
      const doneMs = this.opts.clock.now();
      const scheduledMs = this.dueMs(point);
      if (change.up) this.current.up = target.up;
      if (change.down) this.current.down = target.down;
      this.log.push({ traceS: sample.timeS, pass: point.pass, scheduledMs, issuedMs, doneMs, latenessMs: doneMs - scheduledMs, change, skipped });
    }
    const next = this.after(point);
    this.cursor = next ?? { pass: point.pass, index: -1 };
    this.arm();
  }

  private end(end: ReplayEnd): void {
    if (this.finished) return;
    this.finished = true;
    this.finish(end);
  }
}

/**
 * A replayer driving a ShapedLink: trace `up` is the link's a2b, `down` its b2a. Delay
 * and loss are applied only when the link has netem (otherwise they are not emulated:
 * report them with checkRequested).
 */
export function linkReplayer(link: ShapedLink, trace: ReplayOptions['trace'], opts: { clock: Clock; timer?: Timer; leadMs?: number }): TraceReplayer {
  const s = link.state;
  return new TraceReplayer({
    trace,
    clock: opts.clock,
    timer: opts.timer ?? realTimer,
    leadMs: opts.leadMs,
    initial: { up: s.a2b, down: s.b2a },
    emulate: { delay: link.netem, loss: link.netem },
    apply: (c) => link.setState({ a2b: c.up, b2a: c.down }),
  });
}
