/**
 * The two `testbed` processes of a cell. Each is started in its own process group
 * (detached) with stdout and stderr going to a log file in the cell: a Ctrl-C on the
 * terminal then reaches only the runner, which passes exactly one SIGINT on to each
 * peer — a second signal would make a peer exit at once without flushing its CSVs.
 */
import { closeSync, openSync, readFileSync, type PathLike } from 'node:fs';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type Spawner = (cmd: string, args: string[], opts: SpawnOptions) => ChildProcess;

/**
 * The environment a peer runs in: glibc's mmap threshold fixed at its default (128 KiB).
 * glibc raises the threshold each time a large mmapped block is freed (up to 32 MiB), after
 * which x264's frame buffers come from the heap and are not returned to the system: each
 * x264 encoder a dual sender opens per backup episode (the shared seed) then left 2.5–6 MB
 * of resident memory behind, ~15 MB a minute (bench/soak.ts). With the threshold fixed,
 * 120 encoders opened and dropped leave 190 MB resident instead of 750 MB. Only the
 * environment at process start sets it (mallopt is not reachable from JavaScript).
 */
export const PEER_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };

export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PeerProcess {
  readonly exited: Promise<PeerExit>;
  private result: PeerExit | null = null;

  private constructor(
    readonly role: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('error', (e) => {
        this.result ??= { code: 127, signal: null };
        process.stderr.write(`testbed run: cannot start the ${role}: ${e.message}\n`);
        resolve(this.result);
      });
      child.once('exit', (code, signal) => {
        this.result ??= { code, signal };
        resolve(this.result);
      });
    });
  }

  /** Starts `cmd args` (through `spawner`, e.g. inside a namespace) logging to `logFile`. */
  static start(role: string, cmd: string, args: string[], logFile: PathLike & string, spawner: Spawner = spawn): PeerProcess {
    const fd = openSync(logFile, 'w');
    try {
      const child = spawner(cmd, args, { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, ...PEER_ENV } });
      return new PeerProcess(role, child, logFile);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exit(): PeerExit | null {
    return this.result;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.result) return;
    try {
      this.child.kill(sig);
    } catch {
      /* already gone */
    }
  }

  /**
   * Whether the process still runs, read from /proc (a zombie has ended): usable while
   * the event loop is blocked, when no 'exit' event can arrive.
   */
  runningNow(): boolean {
    if (this.result || this.pid === undefined) return false;
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }

  /** The last non-empty line the peer printed (its one-line error, if it failed). */
  lastLine(): string {
    try {
      const lines = readFileSync(this.logFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
      return lines[lines.length - 1] ?? '';
    } catch {
      return '';
    }
  }
}

/**
 * Blocks until none of `peers` runs or `timeoutMs` passed. For signal handlers that must
 * let the peers flush before anything else (the link's own teardown) runs.
 */
export function waitForExitSync(peers: PeerProcess[], timeoutMs: number, now: () => number): boolean {
  const deadline = now() + timeoutMs;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (peers.some((p) => p.runningNow())) {
    if (now() > deadline) return false;
    Atomics.wait(cell, 0, 0, 20);
  }
  return true;
}
