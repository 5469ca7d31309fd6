/**
 * Benchmark (not a test): rate controllers on a stepping link. `node dist/bench/cc.js
 * [trace=step-2.5-1.0-2.5] [arms=gcc,gcc-probe,fixed,oracle]` (needs root); the trace is a
 * bundled name or a .trace path. Environment: KEYINT (frames between I-frames, default 60;
 * 0 = only the first, WebRTC's habit), VBV_MS, PACING_FACTOR, PROBE_INTERVAL_S.
 *
 * A tbf link between two namespaces replays the trace (capacity steps via tc qdisc change
 * on a drift-free schedule), 300 ms queue; offer (720p30, single stream) streams through it
 * under each controller. `fixed` runs at 0.95 × the first step; `oracle` at 0.95 × the
 * capacity in force; `gcc` starts at 1 Mbit/s with libwebrtc's probing; `gcc-probe` adds
 * periodic probes outside ALR every PROBE_INTERVAL_S (default 2 s).
 * Per step, over its last 10 s: link utilisation (bytes delivered, from the receiver's
 * transport-wide feedback as acknowledged rate / capacity), p95 one-way queueing delay
 * (per frame: last packet's network time minus the run's minimum), and after each drop the
 * time until the target is below the new capacity.
 */
import { join } from 'node:path';
import { detectShaping, ShapedLink } from '../src/emulation/netns';
import { linkReplayer } from '../src/emulation/replay';
import { loadTrace, resolveTrace } from '../src/emulation/traces/files';
import type { Trace, TraceSample } from '../src/emulation/traces/types';
import { readCsv } from '../src/metrics/csv';
import { percentile } from '../src/metrics/summary';
import { monotonicClock } from '../src/clock';
import { ensureClip, ROOT, runPairShaped, tempDir } from '../test/e2e/pair';

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
/** The `gcc-probe` arm's --probe-interval, s (periodic probing outside ALR). */
const PROBE_INTERVAL_S = Number(process.env.PROBE_INTERVAL_S ?? 2);

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

async function main(): Promise<void> {
  const tracePath = resolveTrace(process.argv[2] ?? 'step-2.5-1.0-2.5');
  const arms = (process.argv[3] ?? 'gcc,gcc-probe,fixed,oracle').split(',');
  const support = detectShaping();
  if (!support.available) {
    console.error(`bench: needs network namespaces and tc: ${support.reason}`);
    process.exit(1);
  }
  const loaded: Trace = loadTrace(tracePath);
  // The benchmark plays one pass: its analysis is per step, a loop would repeat them.
  const trace = loaded.samples;
  const durationS = loaded.durationS;
  const clip = ensureClip();
  const lines: string[] = [];
  for (const arm of arms) {
    const link = await ShapedLink.up({ rateKbit: trace[0].up.kbit, queueMs: 300 });
    const out = tempDir(`bench-cc-${arm}`);
    // The trace's time 0 is when the offer starts streaming; set it a moment ahead and tell the oracle.
    const startMs = monotonicClock.now() + 1500;
    const replayer = linkReplayer(link, loaded, { clock: monotonicClock });
    replayer.start(startMs);
    const armArgs: Record<string, string[]> = {
      gcc: ['--rate-control', 'gcc', '--bitrate', '1000000'],
      'gcc-probe': ['--rate-control', 'gcc', '--bitrate', '1000000', '--probe-interval', String(PROBE_INTERVAL_S)],
      fixed: ['--rate-control', 'fixed', '--bitrate', String(Math.round(trace[0].up.kbit * 950))],
      oracle: ['--rate-control', 'oracle', '--oracle-trace', tracePath, '--trace-start-ms', startMs.toFixed(3), '--bitrate', String(Math.round(trace[0].up.kbit * 950))],
    };
    try {
      const { offer, answer } = await runPairShaped(link, out, [
        '--play-from', clip, '--loop', '--duration', String(durationS - 1.5), '--keyint', String(KEYINT), '--vbv-buffer', String(VBV_MS), '--pacing-factor', String(PACING_FACTOR), ...armArgs[arm],
      ]);
      if (offer.code !== 0 || answer.code !== 0) throw new Error(`${arm}: offer ${offer.stderr.trim()} / answer ${answer.stderr.trim()}`);
    } finally {
      await replayer.stop();
      await link.down();
    }
    console.error(`${arm}: done (${out})`);
    for (const f of analyse(out, trace, startMs, durationS)) {
      lines.push(
        `${arm.padEnd(8)}${`${f.fromS}–${f.toS} s`.padStart(10)}${(f.kbit / 1000).toFixed(1).padStart(8)}` +
          `${(100 * f.utilisation).toFixed(1).padStart(12)} %${f.p95QueueMs.toFixed(0).padStart(12)}` +
          `${(f.reactionS === null ? '' : Number.isFinite(f.reactionS) ? f.reactionS.toFixed(2) + ' s' : 'never').padStart(14)}`,
      );
    }
  }
  console.log(`\n== rate controllers on ${tracePath.replace(ROOT + '/', '')} (tbf, 300 ms queue), 720p30, single stream, ${KEYINT ? `I-frame every ${KEYINT} frames` : 'I-frames on PLI only'}, VBV ${VBV_MS} ms, pacing factor ${PACING_FACTOR}`);
  console.log(`${'arm'.padEnd(8)}${'step'.padStart(10)}${'Mbit/s'.padStart(8)}${'util (last 10 s)'.padStart(14)}${'p95 queue ms'.padStart(12)}${'below new cap'.padStart(14)}`);
  for (const l of lines) console.log(l);
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
