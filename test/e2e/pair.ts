/**
 * Runs `testbed answer` and `testbed offer` as two separate processes, as a researcher
 * would — over loopback, or across a shaped link between namespaces — with the CLI
 * helpers every process-level test uses.
 */
import type { SpawnOptions } from 'node:child_process';
import type { ShapedLink } from '../../src/emulation/netns';
import { runCli, uniquePort, type ProcResult } from '../helpers/cli';

export { ensureClip, ROOT, tempDir, type ProcResult } from '../helpers/cli';

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
