/**
 * The checks every process-level test shares (one line on stderr starting `testbed: `, no
 * stack trace; closed CSVs; metadata), beside the process helpers of
 * src/experiments/processes.ts, re-exported here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readCsv } from '../../src/metrics/csv';

import type { ProcResult } from '../../src/experiments/processes';
export { BIN, CLIP, ensureClip, removeTempDirs, ROOT, runCli, startCli, tempDir, uniquePort, type CliOptions, type Proc, type ProcResult } from '../../src/experiments/processes';

/**
 * stderr without the CPU-starvation warning (src/metrics/starvation.ts): a separate line a
 * loaded machine may add to any run that streamed, which is not the run's error or output.
 */
export function withoutCpuWarning(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !l.startsWith('testbed: warning: CPU starved:'))
    .join('\n');
}

/** The error contract: exactly one non-empty line on stderr, `testbed: …`, no stack (a CPU-starvation warning aside). */
export function assertOneLine(r: ProcResult, message?: RegExp): string {
  const lines = withoutCpuWarning(r.stderr).split('\n').filter((l) => l.trim() !== '');
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
