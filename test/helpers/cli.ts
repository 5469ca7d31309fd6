/**
 * Running the `testbed` command as a user would: a separate process per peer, with
 * its exit code, stdout, stderr and the moment it ended, plus the checks every error
 * path shares (one line on stderr starting `testbed: `, no stack trace).
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readCsv } from '../../src/metrics/csv';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'testbed.js');
export const CLIP = join(ROOT, 'clips', 'default-720p30.mp4');

export function ensureClip(): string {
  if (!existsSync(CLIP)) execFileSync('bash', [join(ROOT, 'scripts', 'make-clip.sh'), CLIP], { stdio: 'inherit' });
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
}

export function startCli(args: string[], opts: CliOptions = {}): Proc {
  const child = (opts.spawner ?? spawn)(process.execPath, [BIN, ...args], {
    cwd: ROOT,
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

/** The error contract: exactly one non-empty line on stderr, `testbed: …`, no stack. */
export function assertOneLine(r: ProcResult, message?: RegExp): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got ${lines.length}:\n${r.stderr}`);
  assert.match(lines[0], /^testbed: \S/, `stderr line must start with 'testbed: ': ${lines[0]}`);
  assert.doesNotMatch(r.stderr, /^\s{4}at /m, 'no stack trace');
  if (message) assert.match(lines[0], message);
  return lines[0];
}

/** Polls `cond` every 50 ms; fails with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Data rows in a CSV being written (lines after the header), 0 while it does not exist. */
export function csvLinesSoFar(path: string): number {
  if (!existsSync(path)) return 0;
  return Math.max(0, readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length - 1);
}

/**
 * A CSV that was flushed and closed: parses, has exactly the expected header, ends with
 * a newline (no half-written row), and has at least `minRows` rows. Returns the rows.
 */
export function assertClosedCsv(path: string, columns: readonly string[], minRows: number): Record<string, string>[] {
  assert.ok(existsSync(path), `${path} exists`);
  const text = readFileSync(path, 'utf8');
  assert.equal(text.split('\n')[0], columns.join(','), `${path}: header`);
  assert.ok(text.endsWith('\n'), `${path}: ends with a complete row`);
  const rows = readCsv(path);
  assert.ok(rows.length >= minRows, `${path}: ${rows.length} rows, expected at least ${minRows}`);
  return rows;
}

export interface MetaFile {
  role: string;
  complete: boolean;
  incomplete_reason: string | null;
  counters: Record<string, number>;
}

export function readMetaFile(dir: string, role: 'sender' | 'receiver'): MetaFile {
  const p = join(dir, `${role}-meta.json`);
  assert.ok(existsSync(p), `${p} exists`);
  return JSON.parse(readFileSync(p, 'utf8')) as MetaFile;
}

/** The run metadata of a run that did not finish, and why. */
export function assertIncomplete(dir: string, role: 'sender' | 'receiver', reason: RegExp): MetaFile {
  const meta = readMetaFile(dir, role);
  assert.equal(meta.complete, false, `${role}-meta.json: complete`);
  assert.equal(typeof meta.incomplete_reason, 'string', `${role}-meta.json: incomplete_reason`);
  assert.match(meta.incomplete_reason!, reason);
  return meta;
}
