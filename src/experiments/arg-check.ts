/**
 * Arm options are checked by the real command-line parser (`buildCli()`), so a spec
 * accepts exactly what `testbed offer|answer` accept — typos, bad values and unknown
 * choices are caught with commander's own message before any cell runs. The CLI is
 * built afresh for every check with its actions replaced: nothing is run.
 */
import type { Command } from 'commander';
import type { ArgChecker, PeerRole } from './spec';
import { oneLine } from '../errors';

/** Values for the options a parse needs but the runner supplies (offer's required --play-from). */
const RUNNER_SUPPLIED: Record<PeerRole, string[]> = {
  offer: ['--play-from', 'clip-set-by-the-runner.mp4'],
  answer: [],
};

const silent = { writeOut: () => {}, writeErr: () => {}, outputError: () => {} };

export function commanderArgChecker(buildCli: () => Command): ArgChecker {
  return (role, args) => {
    const program = buildCli();
    const cmd = program.commands.find((c) => c.name() === role);
    if (!cmd) return { ok: false, message: `the CLI has no '${role}' command`, index: null };
    let parsed: Record<string, unknown> = {};
    program.configureOutput(silent).exitOverride();
    cmd.configureOutput(silent).exitOverride();
    cmd.action((opts: Record<string, unknown>) => {
      parsed = opts;
    });
    try {
      program.parse([role, ...RUNNER_SUPPLIED[role], ...args], { from: 'user' });
    } catch (e) {
      const message = oneLine((e as Error).message).replace(/^error: /, '');
      return { ok: false, message, index: argumentIndex(message, args) };
    }
    return { ok: true, options: parsed };
  };
}

/**
 * Which argument an error is about: the option its message names (the last occurrence,
 * as the last one wins). Commander quotes it (`unknown option '--mdoe'`, `option
 * '--mode <mode>' argument 'x' is invalid`); our own parsers name it (`--bitrate must be …`).
 */
export function argumentIndex(message: string, args: string[]): number | null {
  const quoted = /'(-[^'\s]*)[^']*'/.exec(message);
  const bare = /(?:^|\s)(--?[A-Za-z][\w-]*)/.exec(message);
  const flag = quoted?.[1] ?? bare?.[1];
  if (!flag) return null;
  for (let i = args.length - 1; i >= 0; i--) {
    if (args[i] === flag || args[i].startsWith(flag + '=')) return i;
  }
  // `--mode dual` given as one item: commander reports the whole item as the option.
  const whole = args.findIndex((a) => message.includes(`'${a}'`));
  return whole >= 0 ? whole : null;
}

