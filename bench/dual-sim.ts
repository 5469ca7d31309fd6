/**
 * Benchmark on simulated time (not a test): single vs dual stream through the whole middle
 * layer in one process (src/sim/simulated-call.ts: real x264 and FFmpeg, a simulated
 * drop-tail link, zero encode/decode time). Deterministic: the same figures on every run
 * and machine with the same FFmpeg.
 *
 *   node dist/bench/dual-sim.js [seconds=20] [all|fixed|gcc] [offsets per trace=5]
 *
 * Three link/target pairs (pacer at 0.95 × the link, an I-frame every 2 s, 640×360 of the
 * default clip) and arms: single, infinite GOP (the lower bound), the prototype's dual
 * stream (I-frame-complete end rule, backup at half the primary's rate), the same end rule
 * with the backup at 1/9, the caught-up end rule with the backup at half the primary's rate,
 * and the default (caught-up end rule, backup at 1/9). Printed per
 * arm: e2e p50/p95/p99 over rendered pictures and their ratio to single, the mean PSNR of
 * the rendered pictures and its difference to single, backup bytes against primary bytes,
 * and how each episode ended (F feedback, T timeout).
 *
 * The gcc section is experiments/dual-vs-single.json on simulated time: single, infinite
 * GOP and the default dual stream under GCC over 4g-1, 4g-2 and the step trace with an
 * outage, each from several offsets (GCC's path is chaotic: one run is one sample), means
 * over the offsets, the total of pictures never rendered.
 */
import { ensureClip } from '../src/experiments/processes';
import { firstPictures } from '../src/media/pictures';
import { percentile } from '../src/metrics/summary';
import { runSimulatedCall, SIM_START_MS, type SimulatedCallOptions } from '../src/sim/simulated-call';
import { loadTrace } from '../src/emulation/traces/files';
import { createRateController, DEFAULT_PROBE_INTERVAL_S } from '../src/sender/congestion/create';

type Arms = [string, Partial<SimulatedCallOptions>][];

interface ArmResult {
  p: number[];
  psnr: number;
  kbps: number;
  backupPct: number;
  ends: string;
  lost: number;
}

async function runArm(base: SimulatedCallOptions, extra: Partial<SimulatedCallOptions>): Promise<ArmResult> {
  const r = await runSimulatedCall({ ...base, ...extra });
  const e2e = r.frames.filter((f) => f.rendered === 1).map((f) => Number(f.e2e_ms)).sort((a, b) => a - b);
  const psnrs = [...r.psnrDb.values()];
  const bytes = (s: string) => r.sender.filter((f) => f.stream === s).reduce((a, f) => a + f.size_bytes, 0);
  return {
    p: [50, 95, 99].map((q) => percentile(e2e, q)),
    psnr: psnrs.reduce((a, b) => a + b, 0) / psnrs.length,
    kbps: (8 * (bytes('primary') + bytes('backup'))) / (base.frames / base.fps) / 1000,
    backupPct: (100 * bytes('backup')) / bytes('primary'),
    ends: r.senderEvents.filter((e) => e.from_state === 'BACKUP' && e.to_state === 'NORMAL' && e.frame_id > 0).map((e) => (/timeout/.test(e.cause) ? 'T' : 'F')).join(''),
    lost: base.frames - e2e.length,
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Runs each arm once per variant of the base options (interleaved: variant by variant) and
 * prints one row per arm against the first arm (single): means over the variants, ratios of
 * means, episodes' ends (F feedback, T timeout) and pictures never rendered, summed.
 */
async function table(title: string, variants: readonly SimulatedCallOptions[], arms: Arms, makeExtra?: (arm: string) => Partial<SimulatedCallOptions>): Promise<void> {
  console.log(`\n== ${title}`);
  console.log(['arm', 'e2e p50', 'p95', 'p99', 'PSNR dB', 'kbit/s', 'backup %', 'episodes ended; not rendered'].join('\t'));
  const results = new Map<string, ArmResult[]>(arms.map(([name]) => [name, []]));
  for (const base of variants) {
    for (const [name, extra] of arms) results.get(name)!.push(await runArm(base, { ...extra, ...makeExtra?.(name) }));
  }
  const single = results.get(arms[0][0])!;
  const sp = [0, 1, 2].map((i) => mean(single.map((r) => r.p[i])));
  for (const [name] of arms) {
    const rs = results.get(name)!;
    const p = [0, 1, 2].map((i) => mean(rs.map((r) => r.p[i])));
    const psnr = mean(rs.map((r) => r.psnr));
    const kbps = mean(rs.map((r) => r.kbps));
    const lost = rs.reduce((a, r) => a + r.lost, 0);
    console.log(
      [
        name,
        ...p.map((v, i) => `${v.toFixed(0)} (${(v / sp[i]).toFixed(2)}×)`),
        `${psnr.toFixed(2)} (${(psnr - mean(single.map((r) => r.psnr))).toFixed(2)})`,
        `${kbps.toFixed(0)} (${(kbps / mean(single.map((r) => r.kbps))).toFixed(2)}×)`,
        mean(rs.map((r) => r.backupPct)).toFixed(1),
        rs.map((r) => r.ends).join(' ') + `; ${lost}`,
      ].join('\t'),
    );
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 20);
  const which = process.argv[3] ?? 'all';
  // argv[4]: how many offsets per trace in the gcc section (default 5; 4G traces from 20 s
  // every 30 s, so at most 9 for a 30-s call in their 300 s).
  if (!['all', 'fixed', 'gcc'].includes(which)) throw new Error(`second argument: all, fixed or gcc, got '${which}'`);
  const pictures = await firstPictures(ensureClip(), 30, { width: 640, height: 360 });
  const common = { pictures, fps: 30, frames: seconds * 30, keyint: 60, dual: null, psnr: true };
  if (which !== 'gcc') {
    for (const [linkKbit, targetBps] of [[1500, 1_000_000], [1500, 1_200_000], [3000, 2_000_000]]) {
      const base: SimulatedCallOptions = {
        ...common,
        link: { up: { kbit: linkKbit, queueMs: 1000 }, down: { kbit: linkKbit } },
        bitrateBps: targetBps,
        pacingFactor: (0.95 * linkKbit * 1000) / targetBps,
      };
      await table(`${linkKbit} kbit/s link, target ${targetBps / 1000} kbit/s, ${seconds} s on simulated time`, [base], [
        ['single', {}],
        ['infinite-gop', { keyint: 0 }],
        ['dual-prototype', { dual: 'shared', backupEnd: 'iframe-complete', backupBitrateBps: targetBps / 2 }],
        ['dual-iframe-complete', { dual: 'shared', backupEnd: 'iframe-complete' }],
        ['dual-caught-up-half', { dual: 'shared', backupBitrateBps: targetBps / 2 }],
        ['dual (default)', { dual: 'shared' }],
      ]);
    }
  }
  if (which !== 'fixed') {
    // experiments/dual-vs-single.json on simulated time: GCC from the CLI's defaults (start
    // 2 Mbit/s, 0.1-20 Mbit/s, probes every 2 s), the uplink replaying a bundled trace, a
    // 200 ms drop-tail queue, the default pacing factor. The simulation is deterministic but
    // GCC's path is chaotic (a few bytes more or less change when it backs off), so each
    // trace runs from five offsets: the 4G traces from five starting points, the step trace
    // with five phases of the I-frame schedule against its outage.
    const n = Number(process.argv[4] ?? 5);
    const spread = (from: number, step: number) => Array.from({ length: n }, (_, k) => from + k * step);
    const traces: [string, number[]][] = [
      ['4g-1', spread(20, 30)],
      ['4g-2', spread(20, 30)],
      ['step-2.0-0.0-2.0', spread(5, 0.4).map((x) => Math.round(x * 10) / 10)],
    ];
    for (const [name, offsets] of traces) {
      const trace = loadTrace(name);
      const variants = offsets.map((offsetS): SimulatedCallOptions => ({
        ...common,
        link: { up: { trace, traceStartMs: SIM_START_MS - offsetS * 1000, queueMs: 200 }, down: { kbit: 100_000 } },
        bitrateBps: 2_000_000,
      }));
      const gcc = () => ({ controller: createRateController({ kind: 'gcc', startBps: 2_000_000, minBps: 100_000, maxBps: 20_000_000, probeIntervalMs: DEFAULT_PROBE_INTERVAL_S * 1000, startMs: 0, intervalMs: 100, onExternalExit: () => {} }) });
      await table(`${name} from ${offsets.join(', ')} s, GCC, 200 ms queue, ${seconds} s on simulated time`, variants, [
        ['single', {}],
        ['infinite-gop', { keyint: 0 }],
        ['dual (default)', { dual: 'shared' }],
      ], gcc);
    }
  }
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
