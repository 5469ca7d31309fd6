/**
 * Runs `testbed answer` and `testbed offer` as two separate processes over loopback,
 * as a researcher would, and collects their exit codes and stderr.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'testbed.js');
export const CLIP = join(ROOT, 'clips', 'default-720p30.mp4');

export function ensureClip(): string {
  if (!existsSync(CLIP)) execFileSync('bash', [join(ROOT, 'scripts', 'make-clip.sh'), CLIP], { stdio: 'inherit' });
  return CLIP;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `testbed-${prefix}-`));
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
  /** CPU time (user + system) of the process, seconds, from /proc when available. */
}

export function runCli(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ProcResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stderr, stdout });
    });
  });
}

export function freePort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/** Both peers writing into one directory, so the run ends with a joined frames.csv. */
export async function runPair(
  out: string,
  offerArgs: string[],
  answerArgs: string[] = [],
): Promise<{ offer: ProcResult; answer: ProcResult }> {
  const port = String(freePort());
  const common = ['--out', out, '--signaling', 'tcp-socket', '--signaling-port', port];
  const answer = runCli(['answer', ...common, ...answerArgs]);
  const offer = runCli(['offer', ...common, ...offerArgs]);
  return { offer: await offer, answer: await answer };
}
