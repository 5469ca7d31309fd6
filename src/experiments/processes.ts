/**
 * Running the `testbed` command as a user would: a separate process per peer, with its
 * exit code, stdout, stderr and the moment it ended; both peers of a run over loopback or
 * across a shaped link between namespaces. Used by the benchmarks and the tests.
 */
import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ShapedLink } from '../emulation/netns';
import { PEER_ENV } from './peers';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'testbed.js');
export const CLIP = join(ROOT, 'clips', 'default-720p30.mp4');

export function ensureClip(): string {
  if (!existsSync(CLIP)) execFileSync(process.execPath, [BIN, 'clips', 'make', 'default'], { stdio: 'inherit' });
  return CLIP;
}

const madeDirs: string[] = [];

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `testbed-${prefix}-`));
  madeDirs.push(d);
  return d;
}

/** Removes every directory tempDir() made in this process. */
export function removeTempDirs(): void {
  for (const d of madeDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// One random base per test process, then consecutive ports: no two tests share one.
let nextPort = 20000 + Math.floor(Math.random() * 15000);
export function uniquePort(): number {
  return nextPort++;
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** performance.now() when the process ended. */
  endedMs: number;
}

export interface Proc {
  child: ChildProcess;
  done: Promise<ProcResult>;
}

/**
 * Starts `node bin/testbed.js ARGS`. `input` is written to stdin and stdin closed;
 * without it stdin is /dev/null. The process is killed after `timeoutMs` so a hanging
 * command fails its test instead of the whole run.
 */
export interface CliOptions {
  input?: string;
  timeoutMs?: number;
  /** How to start the process (default: spawn here; a shaped link spawns inside its namespace). */
  spawner?: (cmd: string, args: string[], opts: SpawnOptions) => ChildProcess;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export function startCli(args: string[], opts: CliOptions = {}): Proc {
  const child = (opts.spawner ?? spawn)(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...PEER_ENV, ...opts.env },
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<ProcResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveDone({ code, signal, stdout, stderr, endedMs: performance.now() });
    });
  });
  return { child, done };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<ProcResult> {
  return startCli(args, opts).done;
}

/** A run of both peers may take a benchmark's whole duration. */
const PAIR_TIMEOUT_MS = 120_000;

/** Both peers writing into one directory, so the run ends with a joined frames.csv. */
export async function runPair(
  out: string,
  offerArgs: string[],
  answerArgs: string[] = [],
): Promise<{ offer: ProcResult; answer: ProcResult }> {
  const common = ['--out', out, '--signaling', 'tcp-socket', '--signaling-port', String(uniquePort())];
  const answer = runCli(['answer', ...common, ...answerArgs], { timeoutMs: PAIR_TIMEOUT_MS });
  const offer = runCli(['offer', ...common, ...offerArgs], { timeoutMs: PAIR_TIMEOUT_MS });
  return { offer: await offer, answer: await answer };
}

/**
 * The same over a shaped link: the offer (sender) in namespace a, the answer in b, each
 * offering its veth address as ICE host candidate; the answer reaches the offerer's
 * signaling socket across the link.
 */
export async function runPairShaped(
  link: ShapedLink,
  out: string,
  offerArgs: string[],
  answerArgs: string[] = [],
): Promise<{ offer: ProcResult; answer: ProcResult }> {
  const sig = ['--out', out, '--signaling', 'tcp-socket', '--signaling-host', link.addrA, '--signaling-port', String(uniquePort())];
  const inside = (side: 'a' | 'b') => ({
    timeoutMs: PAIR_TIMEOUT_MS,
    spawner: (cmd: string, args: string[], opts: SpawnOptions) => link.spawnIn(side, cmd, args, opts),
  });
  const answer = runCli(['answer', ...sig, '--ice-host', link.addrB, ...answerArgs], inside('b'));
  const offer = runCli(['offer', ...sig, '--ice-host', link.addrA, ...offerArgs], inside('a'));
  return { offer: await offer, answer: await answer };
}
