/**
 * Benchmark (not a test): rate controllers on a stepping link. `node dist/bench/cc.js
 * [trace=step-2.5-1.0-2.5] [arms=gcc,gcc-libwebrtc,fixed,oracle]` (needs root); the trace is a
 * bundled name or a .trace path. Environment: KEYINT (frames between I-frames, default 60;
 * 0 = only the first, WebRTC's habit), VBV_MS, PACING_FACTOR, PROBE_INTERVAL_S (the gcc arm's
 * --probe-interval; default: the CLI's), REPS (runs per arm, interleaved; default 1).
 *
 * A tbf link between two namespaces replays the trace (capacity steps via tc qdisc change
 * on a drift-free schedule), 300 ms queue; offer (720p30, single stream) streams through it
 * under each controller. `fixed` runs at 0.95 × the first step; `oracle` at 0.95 × the
 * capacity in force; `gcc` is the testbed's default GCC starting at 1 Mbit/s (libwebrtc's,
 * plus a periodic probe outside ALR); `gcc-libwebrtc` the same with libwebrtc's probing only.
 * Per step, over its last 10 s: link utilisation (IP bytes delivered, from the receiver's
 * transport-wide feedback as acknowledged rate / capacity), p95 one-way queueing delay
 * (per frame: last packet's network time minus the run's minimum), and after each drop the
 * time until the target is below the new capacity. With REPS > 1: the median and the range.
 */
import { join } from 'node:path';
import { detectShaping, ShapedLink } from '../src/emulation/netns';
import { linkReplayer } from '../src/emulation/replay';
import { loadTrace, resolveTrace } from '../src/emulation/traces/files';
import type { Trace, TraceSample } from '../src/emulation/traces/types';
import { readCsv } from '../src/metrics/csv';
import { percentile } from '../src/metrics/summary';
import { monotonicClock } from '../src/clock';
import { ensureClip, ROOT, runPairShaped, tempDir } from '../src/experiments/processes';

/**
 * x264's VBV buffer, ms of the target: bounds each I-frame's burst. The default 1 s lets an
 * I-frame reach ~100 kB at 1 Mbit/s, whose queueing every 2 s reads as over-use to GCC's
 * delay detector; real-time encoders keep it far smaller. Both figures are in the README.
 */
const VBV_MS = Number(process.env.VBV_MS ?? 250);
/** Pacing factor (pacing rate = factor × target); libwebrtc's default 2.5. */
const PACING_FACTOR = Number(process.env.PACING_FACTOR ?? 2.5);
/** Frames between forced I-frames (0: only the first, as WebRTC senders do: I-frames on PLI only). */
const KEYINT = Number(process.env.KEYINT ?? 60);
/** The `gcc` arm's --probe-interval, s (periodic probing outside ALR); unset: the CLI's default. */
const PROBE_INTERVAL_S = process.env.PROBE_INTERVAL_S === undefined ? null : Number(process.env.PROBE_INTERVAL_S);
/** Runs per arm; the table shows the median and the range. */
const REPS = Math.max(1, Number(process.env.REPS ?? 1));

interface StepFigures {
  fromS: number;
  toS: number;
  kbit: number;
  utilisation: number;
  p95QueueMs: number;
  reactionS: number | null;
}

function analyse(out: string, trace: TraceSample[], startMs: number, durationS: number): StepFigures[] {
  const net = readCsv(join(out, 'network.csv')).map((r) => ({
    tS: (Number(r.time_ms) - startMs) / 1000,
    target: Number(r.target_bps),
    received: r.received_bps === '' ? Number.NaN : Number(r.received_bps),
  }));
  const frames = readCsv(join(out, 'frames.csv')).filter((f) => f.network_ms !== '');
  const base = Math.min(...frames.map((f) => Number(f.network_ms)));
  const figures: StepFigures[] = [];
  trace.forEach((step, i) => {
    const toS = i + 1 < trace.length ? trace[i + 1].timeS : durationS;
    const fromWin = Math.max(step.timeS, toS - 10);
    const inWin = net.filter((n) => n.tS >= fromWin && n.tS < toS && Number.isFinite(n.received));
    const util = inWin.reduce((a, n) => a + n.received, 0) / Math.max(1, inWin.length) / (step.up.kbit * 1000);
    const q = frames
      .filter((f) => {
        const t = (Number(f.capture_ms) - startMs) / 1000;
        return t >= fromWin && t < toS;
      })
      .map((f) => Number(f.network_ms) - base)
      .sort((a, b) => a - b);
    let reactionS: number | null = null;
    if (i > 0 && step.up.kbit < trace[i - 1].up.kbit) {
      const below = net.find((n) => n.tS >= step.timeS && n.target < step.up.kbit * 1000);
      reactionS = below ? below.tS - step.timeS : Number.POSITIVE_INFINITY;
    }
    figures.push({ fromS: step.timeS, toS, kbit: step.up.kbit, utilisation: util, p95QueueMs: percentile(q, 95), reactionS });
  });
  return figures;
}

/** One run of `arm` through a freshly shaped link replaying `loaded`; its figures per step. */
async function runArm(arm: string, loaded: Trace, tracePath: string, clip: string): Promise<StepFigures[]> {
  const trace = loaded.samples;
  const durationS = loaded.durationS;
  const link = await ShapedLink.up({ rateKbit: trace[0].up.kbit, queueMs: 300 });
  const out = tempDir(`bench-cc-${arm}`);
  // The trace's time 0 is when the offer starts streaming; set it a moment ahead and tell the oracle.
  const startMs = monotonicClock.now() + 1500;
  const replayer = linkReplayer(link, loaded, { clock: monotonicClock });
  replayer.start(startMs);
  const startRate = String(Math.round(trace[0].up.kbit * 950));
  const armArgs: Record<string, string[]> = {
    // The testbed's default GCC: libwebrtc's, plus a periodic probe (--probe-interval, default 2 s).
    gcc: ['--rate-control', 'gcc', '--bitrate', '1000000', ...(PROBE_INTERVAL_S === null ? [] : ['--probe-interval', String(PROBE_INTERVAL_S)])],
    // libwebrtc's probing only: initial, in ALR, after a large drop.
    'gcc-libwebrtc': ['--rate-control', 'gcc', '--bitrate', '1000000', '--probe-interval', '0'],
    fixed: ['--rate-control', 'fixed', '--bitrate', startRate],
    oracle: ['--rate-control', 'oracle', '--oracle-trace', tracePath, '--trace-start-ms', startMs.toFixed(3), '--bitrate', startRate],
  };
  const args = armArgs[arm];
  if (!args) throw new Error(`unknown arm ${arm} (gcc, gcc-libwebrtc, fixed, oracle)`);
  try {
    const { offer, answer } = await runPairShaped(link, out, [
      '--play-from', clip, '--loop', '--duration', String(durationS - 1.5), '--keyint', String(KEYINT), '--vbv-buffer', String(VBV_MS), '--pacing-factor', String(PACING_FACTOR), ...args,
    ]);
    if (offer.code !== 0 || answer.code !== 0) throw new Error(`${arm}: offer ${offer.stderr.trim()} / answer ${answer.stderr.trim()}`);
  } finally {
    await replayer.stop();
    await link.down();
  }
  console.error(`${arm}: done (${out})`);
  return analyse(out, trace, startMs, durationS);
}

/** The median run (nearest rank, as every percentile the testbed prints). */
function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

async function main(): Promise<void> {
  const tracePath = resolveTrace(process.argv[2] ?? 'step-2.5-1.0-2.5');
  const arms = (process.argv[3] ?? 'gcc,gcc-libwebrtc,fixed,oracle').split(',');
  const support = detectShaping();
  if (!support.available) {
    console.error(`bench: needs network namespaces and tc: ${support.reason}`);
    process.exit(1);
  }
  const loaded: Trace = loadTrace(tracePath);
  const clip = ensureClip();
  // Repetitions interleave the arms, so a load change on this shared machine hits all of them.
  const runs = new Map<string, StepFigures[][]>(arms.map((a) => [a, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const arm of arms) runs.get(arm)!.push(await runArm(arm, loaded, tracePath, clip));
  }
  const secs = (x: number | null) => (x === null ? '' : Number.isFinite(x) ? `${x.toFixed(2)} s` : 'never');
  const cols = (cells: string[]) => (cells[0]!.padEnd(14) + cells.slice(1).map((c, i) => c.padStart([10, 8, 22, 18, 24][i]!)).join('')).trimEnd();
  console.log(
    `\n== rate controllers on ${tracePath.replace(ROOT + '/', '')} (tbf, 300 ms queue), 720p30, single stream, ` +
      `${KEYINT ? `I-frame every ${KEYINT} frames` : 'I-frames on PLI only'}, VBV ${VBV_MS} ms, pacing factor ${PACING_FACTOR}` +
      (REPS > 1 ? `; median of ${REPS} runs [min–max]` : ''),
  );
  console.log(cols(['arm', 'step', 'Mbit/s', 'util (last 10 s)', 'p95 queue ms', 'below new cap']));
  for (const [arm, reps] of runs) {
    reps[0]!.forEach((step, i) => {
      const per = reps.map((r) => r[i]!);
      const util = per.map((f) => f.utilisation);
      const q = per.map((f) => f.p95QueueMs);
      const range = (xs: number[], f: (x: number) => string) => (REPS > 1 ? `${f(median(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]` : f(xs[0]!));
      const reactions = per.map((f) => f.reactionS);
      const reaction = step.reactionS === null ? '' : REPS > 1 ? range(reactions.map((x) => x ?? Number.NaN), (x) => secs(x)) : secs(reactions[0]!);
      console.log(cols([arm, `${step.fromS}–${step.toS} s`, (step.kbit / 1000).toFixed(1), range(util, (x) => (100 * x).toFixed(1)) + ' %', range(q, (x) => x.toFixed(0)), reaction]));
    });
  }
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
