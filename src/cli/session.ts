/**
 * What both peers' commands share: the output directory, run metadata, the end of a
 * run (normal, peer gone, interrupted) and the rule that every failure is one line on
 * stderr and a non-zero exit, with whatever was measured flushed first.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Clock } from '../clock';
import type { ClockRelation, RunMeta } from '../metrics/rows';
import { newRunMeta, sameClock, selfInfo, writeMeta } from '../metrics/run-meta';
import { tryJoin } from '../metrics/join';
import { createSignaling, type Signaling, type SignalingOptions } from '../transport/signaling';
import { WebRtcPeer } from '../transport/webrtc';

import { oneLine, SIGNAL_EXIT, UsageError, type StopSignal } from '../errors';
import { starvationOf, starvationWarning } from '../metrics/starvation';
export { oneLine, UsageError };
export { readMeta, sameClock, VERSION, writeMeta } from '../metrics/run-meta';

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync never returns under /proc
 * (Node 20), so a mistyped --out there would hang instead of failing.
 */
export function makeDirs(dir: string): void {
  const full = resolve(dir);
  if (existsSync(full)) return;
  makeDirs(dirname(full));
  mkdirSync(full);
}

/** Creates (if needed) and checks the output directory before anything runs. */
export function prepareOutDir(dir: string): string {
  try {
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error('exists and is not a directory');
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`cannot write to --out ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return dir;
}

/** perf_hooks' event-loop sampling interval (ms). */
const LOOP_RESOLUTION_MS = 10;

/**
 * One peer's run from start to end, what offer and answer share: the metadata (every
 * option) written before anything can fail, signaling and the WebRTC peer, SIGINT/SIGTERM,
 * how the run ends (normally, or with a reason and an exit code), and the teardown that
 * always leaves the metadata written, the connection closed and the two sides joined.
 */
export class PeerRun {
  /** Event-loop delay over the run (perf_hooks), reported with the CPU time. */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  readonly self = selfInfo();
  readonly meta: RunMeta;
  readonly signaling: Signaling;
  readonly peer: WebRtcPeer;
  /** null while running; '' after a normal end; otherwise why the run stopped. */
  stopReason: string | null = null;
  private exitCode = 0;
  private abortConnect: (e: Error) => void = () => {};
  private readonly aborted: Promise<never>;
  private ended: () => void = () => {};
  /** Resolves when stop() is called. */
  readonly stopped: Promise<void>;

  constructor(
    role: RunMeta['role'],
    o: { signaling: SignalingOptions; iceHost: string },
    readonly outDir: string,
    readonly clock: Clock,
    private readonly log: (msg: string) => void,
  ) {
    this.meta = newRunMeta(role, this.self, { ...o, signaling: { ...o.signaling } }, clock.now());
    this.loopDelay.enable();
    writeMeta(outDir, this.meta);
    this.signaling = createSignaling(o.signaling);
    this.peer = WebRtcPeer.create({ iceHost: o.iceHost, clock });
    this.aborted = new Promise<never>((_, reject) => (this.abortConnect = reject));
    this.aborted.catch(() => {});
    this.stopped = new Promise<void>((r) => (this.ended = r));
    onInterrupt((sig, code) => this.stop(`interrupted (${sig})`, code));
  }

  /**
   * Ends the run: `reason` null is the normal end. The first call wins; a stop while still
   * connecting ends the wait at once, not at --connect-timeout.
   */
  stop(reason: string | null, code: number): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason ?? '';
    this.exitCode = code;
    this.ended();
    if (reason) this.abortConnect(new UsageError(reason, code));
  }

  /** The receiver's clock against ours: shared on one host (one boot id), else the estimate. */
  setClock(estimated: ClockRelation): void {
    this.meta.clock = sameClock(this.self, this.meta.peer) ? { offsetMs: 0, method: 'shared-monotonic-clock', uncertaintyMs: 0, samples: 0 } : estimated;
  }

  /** Signaling, SDP and ICE/DTLS, abandoned when the run is stopped meanwhile. */
  async connect(steps: () => Promise<void>): Promise<void> {
    const connecting = steps();
    connecting.catch(() => {});
    await Promise.race([connecting, this.aborted]);
  }

  /**
   * Writes the final metadata, closes signaling and the peer, joins both sides. Rethrows
   * `error` (a failure that escaped the run, after its message went into the metadata), or
   * throws the stop reason when the run stopped early.
   */
  async finish(complete: boolean, counters: Record<string, number>, error: unknown = null): Promise<number> {
    const cpu = process.cpuUsage();
    this.loopDelay.disable();
    // How long timers waited for the event loop beyond their time: what delays a capture, a
    // pacer burst or a render on this process. perf_hooks records each whole 10 ms sampling
    // interval (an idle loop reads ~10 ms), so the resolution is taken off.
    const ms = (ns: number) => Math.max(0, Math.round((ns - LOOP_RESOLUTION_MS * 1e6) / 1e4) / 100);
    const loop = { event_loop_delay_p99_ms: ms(this.loopDelay.percentile(99)), event_loop_delay_max_ms: ms(this.loopDelay.max) };
    this.meta.counters = { ...counters, cpu_s: (cpu.user + cpu.system) / 1e6, ...loop };
    this.meta.ended_ms = this.clock.now();
    this.meta.complete = complete;
    const failure = error === null ? null : error instanceof Error ? error.message : String(error);
    this.meta.incomplete_reason = complete ? null : this.stopReason || failure || 'error';
    writeMeta(this.outDir, this.meta);
    const starved = starvationWarning(starvationOf(counters));
    if (starved) process.stderr.write(`testbed: warning: ${starved}\n`);
    this.signaling.close();
    await this.peer.close();
    if (error !== null) throw error;
    const joined = tryJoin(this.outDir);
    if (joined) this.log(`joined ${joined}`);
    if (this.stopReason) throw new UsageError(this.stopReason, this.exitCode);
    return 0;
  }
}

export function parseIntOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+(\.\d+)?(e\d+)?$/i.test(v.trim()) || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${name} must be a number between ${min} and ${max}, got '${v}'`);
    }
    return Math.round(n);
  };
}

export function parseFloatOption(name: string, min: number, max = Number.MAX_VALUE) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${name} must be a number between ${min} and ${max}, got '${v}'`);
    }
    return n;
  };
}

/** Verbose logging to stderr (stdout may carry SDP), with the time on our clock. */
export function makeLogger(verbose: boolean, tag: string): (msg: string) => void {
  return verbose ? (msg) => process.stderr.write(`[${tag} ${new Date().toISOString().slice(11, 23)}] ${msg}\n`) : () => {};
}

/**
 * Runs `onStop` once on SIGINT/SIGTERM so files are flushed and closed; a second
 * signal exits at once.
 */
export function onInterrupt(onStop: (signal: StopSignal, exitCode: number) => void): void {
  let seen = false;
  const handler = (signal: StopSignal) => {
    if (seen) process.exit(SIGNAL_EXIT[signal]);
    seen = true;
    onStop(signal, SIGNAL_EXIT[signal]);
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
