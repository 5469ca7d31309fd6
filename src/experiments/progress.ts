/**
 * Progress of an experiment on stderr: cells done / total, the current cell, elapsed
 * time and an ETA. A bar (cli-progress) when stderr is a terminal; one plain line per
 * event otherwise, so CI and Slurm logs stay readable.
 *
 * The ETA is the mean wall time of the cells run so far times the cells left (minus what
 * the current one has already taken); before the first cell ends, the spec's estimate
 * per cell. Skipped (already done) cells cost nothing and do not count.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export interface ProgressSink {
  /** The bar's state changed (value = cells finished). */
  update(value: number, total: number, fields: { cell: string; elapsed: string; eta: string }): void;
  /** A line that stays (a cell finished, was skipped, failed). */
  log(line: string): void;
  stop(): void;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Cells left × mean cell time, less the current cell's elapsed time. */
export function estimateRemainingMs(o: { remaining: number; durationsMs: number[]; estimateCellMs: number; currentElapsedMs: number }): number {
  if (o.remaining <= 0) return 0;
  const perCell = o.durationsMs.length ? o.durationsMs.reduce((a, b) => a + b, 0) / o.durationsMs.length : o.estimateCellMs;
  return Math.max(0, o.remaining * perCell - o.currentElapsedMs);
}

export class Progress {
  private done = 0;
  private current: { label: string; startMs: number } | null = null;
  private readonly durationsMs: number[] = [];
  private readonly startMs: number;

  constructor(
    private readonly total: number,
    private readonly estimateCellMs: number,
    private readonly now: () => number,
    private readonly sink: ProgressSink,
  ) {
    this.startMs = now();
  }

  private position(): string {
    return `[${Math.min(this.done + 1, this.total)}/${this.total}]`;
  }

  private fields() {
    const now = this.now();
    const eta = estimateRemainingMs({
      remaining: this.total - this.done,
      durationsMs: this.durationsMs,
      estimateCellMs: this.estimateCellMs,
      currentElapsedMs: this.current ? now - this.current.startMs : 0,
    });
    return { cell: this.current?.label ?? '-', elapsed: formatDuration(now - this.startMs), eta: formatDuration(eta) };
  }

  skip(cell: string, why: string): void {
    this.sink.log(`${this.position()} ${cell}: skipped (${why})`);
    this.done++;
    this.refresh();
  }

  begin(cell: string): void {
    this.current = { label: cell, startMs: this.now() };
    const f = this.fields();
    this.sink.log(`${this.position()} ${cell}: running (elapsed ${f.elapsed}, ETA ${f.eta})`);
    this.refresh();
  }

  end(cell: string, ok: boolean, note: string): void {
    const took = this.current ? this.now() - this.current.startMs : 0;
    this.durationsMs.push(took);
    this.sink.log(`${this.position()} ${cell}: ${ok ? 'done' : 'FAILED'} in ${formatDuration(took)}${note ? ': ' + note : ''}`);
    this.current = null;
    this.done++;
    this.refresh();
  }

  /** Redraws elapsed / ETA (called every second while a cell runs). */
  refresh(): void {
    this.sink.update(this.done, this.total, this.fields());
  }

  stop(): void {
    this.sink.stop();
  }
}

/** One line per event, for logs. Updates without an event print nothing. */
export class PlainSink implements ProgressSink {
  constructor(private readonly write: (s: string) => void) {}
  update(): void {}
  log(line: string): void {
    this.write(`run ${line}\n`);
  }
  stop(): void {}
}

/** A cli-progress bar on a terminal, event lines printed above it. */
export class BarSink implements ProgressSink {
  private readonly multi: MultiBar;
  private bar: SingleBar | null = null;

  constructor(stream: NodeJS.WritableStream) {
    this.multi = new MultiBar(
      {
        stream,
        // Not {eta}: that is cli-progress's own (from the rate of progress), which would shadow ours.
        format: ' {bar} {value}/{total} cells | {cell} | elapsed {elapsed} | ETA {left}',
        hideCursor: true,
        // The runner handles SIGINT (and stops the bar in its own time).
        gracefulExit: false,
        clearOnComplete: false,
        stopOnComplete: false,
        autopadding: true,
      },
      Presets.shades_classic,
    );
  }

  update(value: number, total: number, fields: { cell: string; elapsed: string; eta: string }): void {
    const payload = { cell: fields.cell, elapsed: fields.elapsed, left: fields.eta };
    if (!this.bar) this.bar = this.multi.create(total, value, payload);
    else this.bar.update(value, payload);
  }

  /** Logged lines wait for the next redraw: redraw at once, so they appear when they happen. */
  log(line: string): void {
    this.multi.log(`${line}\n`);
    if (this.bar) this.multi.update();
  }

  stop(): void {
    if (this.bar) this.multi.update();
    this.multi.stop();
  }
}
