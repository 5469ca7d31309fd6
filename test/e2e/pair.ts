/**
 * Runs `testbed answer` and `testbed offer` as two separate processes over loopback,
 * as a researcher would, and collects their exit codes and stderr.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import type { ShapedLink } from '../../src/emulation/netns';
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

export function runCli(
  args: string[],
  opts: { timeoutMs?: number; input?: string; spawner?: (cmd: string, args: string[]) => ChildProcess } = {},
): Promise<ProcResult> {
  return new Promise((resolvePromise) => {
    const spawner = opts.spawner ?? ((cmd, a) => spawn(cmd, a, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
    const child = spawner(process.execPath, [BIN, ...args]);
    if (!child.stdout || !child.stderr || !child.stdin) throw new Error('runCli needs piped stdio');
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
  const port = String(freePort());
  const sig = ['--out', out, '--signaling', 'tcp-socket', '--signaling-host', link.addrA, '--signaling-port', port];
  const spawner = (side: 'a' | 'b') => (cmd: string, args: string[]) =>
    link.spawnIn(side, cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const answer = runCli(['answer', ...sig, '--ice-host', link.addrB, ...answerArgs], { spawner: spawner('b') });
  const offer = runCli(['offer', ...sig, '--ice-host', link.addrA, ...offerArgs], { spawner: spawner('a') });
  return { offer: await offer, answer: await answer };
}
