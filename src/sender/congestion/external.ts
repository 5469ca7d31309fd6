/**
 * A rate controller in another process (`--rate-control external --rate-control-cmd CMD`),
 * so a learned policy in any language can drive the bitrate. Line-based JSON over the
 * child's stdin/stdout:
 *
 *   testbed → child, once:  {"type":"hello","version":1,"start_bps":N,"min_bps":N,"max_bps":N,"interval_ms":100}
 *   testbed → child, every interval:
 *     {"type":"observation","time_ms":T,"target_bps":N,"delay_gradient":G,"threshold":X,
 *      "detector":"normal|overusing|underusing","loss_fraction":L,"received_bps":N|null,
 *      "sent_bps":N,"rtt_ms":N|null,"pacer_queue_ms":N}
 *   child → testbed, whenever it decides: {"target_bps":N}
 *
 * The observations are GCC's own measurements (trendline slope, adaptive threshold and
 * detector state, loss from transport feedback, acknowledged rate) from a GCC instance fed
 * the same feedback, plus the sender's measured send rate and pacer queue. The child's
 * latest target (clamped to [min, max]) is used until it sends another; until its first
 * answer the start rate holds. A line that is not such JSON is counted and ignored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { GccObservedController } from './observed';
import type { NetworkEstimate, SenderObservations } from './types';

export interface ExternalRateOptions {
  command: string;
  startBps: number;
  minBps: number;
  maxBps: number;
  intervalMs: number;
  /** Called once if the child exits or fails while the run goes on. */
  onExit: (why: string) => void;
}

export class ExternalRate extends GccObservedController {
  readonly name = 'external';
  private readonly child: ChildProcess;
  private targetBps: number;
  private lastObservationMs = -Infinity;
  private closed = false;
  badLines = 0;
  answers = 0;
  private sender: SenderObservations = { sentBps: 0, pacerQueueMs: 0 };

  constructor(private readonly o: ExternalRateOptions) {
    super(o.startBps, o.minBps, o.maxBps);
    this.targetBps = o.startBps;
    this.child = spawn(o.command, { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.on('error', (e) => this.exited(`cannot start '${o.command}' (${e.message})`));
    this.child.on('exit', (code, signal) => this.exited(`'${o.command}' exited (${signal ?? `code ${code}`})`));
    this.child.stdin!.on('error', () => {});
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.write({ type: 'hello', version: 1, start_bps: o.startBps, min_bps: o.minBps, max_bps: o.maxBps, interval_ms: o.intervalMs });
  }

  private exited(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.o.onExit(why);
  }

  private onLine(line: string): void {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      this.badLines++;
      return;
    }
    const bps = (v as { target_bps?: unknown })?.target_bps;
    if (typeof bps !== 'number' || !Number.isFinite(bps)) {
      this.badLines++;
      return;
    }
    this.answers++;
    this.targetBps = Math.min(this.o.maxBps, Math.max(this.o.minBps, bps));
  }

  private write(msg: object): void {
    if (this.closed || !this.child.stdin?.writable) return;
    this.child.stdin.write(JSON.stringify(msg) + '\n');
  }

  onSenderState(s: SenderObservations): void {
    this.sender = s;
  }

  estimate(nowMs: number): NetworkEstimate {
    const seen = this.observer.estimate(nowMs);
    if (nowMs - this.lastObservationMs >= this.o.intervalMs) {
      this.lastObservationMs = nowMs;
      this.write({
        type: 'observation',
        time_ms: Math.round(nowMs * 1000) / 1000,
        target_bps: this.targetBps,
        delay_gradient: seen.delayGradient,
        threshold: seen.threshold,
        detector: seen.detector,
        loss_fraction: seen.lossFraction,
        received_bps: seen.ackedBps,
        sent_bps: this.sender.sentBps,
        rtt_ms: seen.rttMs,
        pacer_queue_ms: this.sender.pacerQueueMs,
      });
    }
    return { ...seen, targetBps: this.targetBps };
  }

  close(): void {
    this.closed = true;
    this.child.stdin?.end();
    this.child.kill();
  }
}
