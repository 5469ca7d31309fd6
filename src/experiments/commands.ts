/**
 * The two peers' command lines for a cell: the runner's options (where to write, how to
 * meet, what to play, for how long, the replayed trace for the oracle), then the arm's
 * own options. The same function serves the run and `--dry-run`, so what a dry run
 * prints is what runs.
 */
import { join } from 'node:path';
import { withSeed, type Cell } from './matrix';

/** Where the peers meet: the offerer's address (signaling and ICE), the answerer's (ICE). */
export interface Endpoints {
  offerAddr: string;
  answerAddr: string;
  port: number | string;
  /** Command prefix that puts a peer in its namespace (`ip netns exec NS`), empty over loopback. */
  offerPrefix: string[];
  answerPrefix: string[];
}

export interface CommandContext {
  node: string;
  /** bin/testbed.js. */
  bin: string;
  cellDir: string;
  clip: string;
  /** Seconds of media the offer sends (warm-up included). */
  mediaS: number;
  /** The cell's trace file and when its replay starts (CLOCK_MONOTONIC ms), for oracle arms. */
  trace: { file: string; startMs: number | string } | null;
  /** The answer's recording, when PSNR is measured. */
  recordTo: string | null;
}

export const TRACE_FILE = 'trace.trace';
export const RECORDING_FILE = 'recording.mp4';

export function peerCommands(cell: Cell, ctx: CommandContext, ep: Endpoints): { offer: string[]; answer: string[] } {
  const meet = ['--out', ctx.cellDir, '--signaling', 'tcp-socket', '--signaling-host', ep.offerAddr, '--signaling-port', String(ep.port)];
  // --loop: --duration holds even when the clip is shorter than the run.
  const offer = [...meet, '--ice-host', ep.offerAddr, '--play-from', ctx.clip, '--loop', '--duration', String(ctx.mediaS)];
  if (cell.arm.rateControl === 'oracle' && ctx.trace) offer.push('--oracle-trace', ctx.trace.file, '--trace-start-ms', String(ctx.trace.startMs));
  const answer = [...meet, '--ice-host', ep.answerAddr];
  if (ctx.recordTo) answer.push('--record-to', ctx.recordTo);
  return {
    offer: [...ep.offerPrefix, ctx.node, ctx.bin, 'offer', ...offer, ...withSeed(cell.arm.offer, cell.seed)],
    answer: [...ep.answerPrefix, ctx.node, ctx.bin, 'answer', ...answer, ...withSeed(cell.arm.answer, cell.seed)],
  };
}

export function traceFileOf(cellDir: string): string {
  return join(cellDir, TRACE_FILE);
}

/** A command line as a shell would need it typed (for dry runs and logs). */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
