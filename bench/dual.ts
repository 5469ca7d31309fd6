/**
 * Benchmark (not a test): single vs dual stream on the same shaped link, side by side, with
 * repetitions and paired bootstrap intervals against the single stream.
 * `REPS=5 node dist/bench/dual.js [seconds=30] [linkKbit=1500] [arms]` (needs root for the namespaces).
 *
 * Link: tc tbf in two namespaces, LINK each way, 1 s tail-drop queue. Encoder target 2/3 of
 * the link, I-frame every 2 s, x264 veryfast; pacer at 0.95 × the link rate so queues build
 * in the pacer, where the backup priority applies. Repetitions are interleaved (arm A, B, …,
 * then again), each on a fresh link.
 *
 * Arms (comma-separated names, default all but episodic):
 *   single; infinite-gop (single, an I-frame only at the start: the lower bound);
 *   dual (the default: shared reference, caught-up end rule, backup 1/9 of the primary);
 *   dual-iframe-complete (the prototype's end rule, same backup rate);
 *   dual-prototype (the prototype's end rule and a backup at half the primary's rate, the
 *   default before the caught-up rule); dual-episodic.
 * Printed per run: p50/p95/p99 e2e, I-picture and P-picture p95, freezes, backup bytes; then
 * each arm against single with 95 % intervals (src/metrics/compare.ts, as `testbed compare`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectShaping, ShapedLink } from '../src/emulation/netns';
import { compareArms, formatComparison, type SummaryRecord } from '../src/metrics/compare';
import { summarizeRun } from '../src/metrics/summary';
import { ensureClip, runPairShaped, tempDir } from '../src/experiments/processes';

const REPS = Math.max(1, Number(process.env.REPS ?? 1));

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 30);
  const linkKbit = Number(process.argv[3] ?? 1500);
  const support = detectShaping();
  if (!support.available) {
    console.error(`bench: needs network namespaces and tc: ${support.reason}`);
    process.exit(1);
  }
  const target = Math.round((linkKbit * 1000 * 2) / 3);
  const pacingFactor = (0.95 * linkKbit * 1000) / target;
  const all: Record<string, string[]> = {
    single: ['--mode', 'single'],
    'infinite-gop': ['--mode', 'single', '--keyint', '0'],
    dual: ['--mode', 'dual'],
    'dual-iframe-complete': ['--mode', 'dual', '--backup-end', 'iframe-complete'],
    'dual-prototype': ['--mode', 'dual', '--backup-end', 'iframe-complete', '--backup-bitrate', String(Math.round(target / 2))],
    'dual-episodic': ['--mode', 'dual', '--backup-reference', 'episodic'],
  };
  const names = (process.argv[4] ?? 'single,infinite-gop,dual,dual-iframe-complete,dual-prototype').split(',');
  for (const n of names) if (!all[n]) throw new Error(`unknown arm '${n}' (arms: ${Object.keys(all).join(', ')})`);
  const clip = ensureClip();
  const records: SummaryRecord[] = [];
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  const head = ['arm', 'rep', 'e2e p50', 'p95', 'p99', 'I-pic p95', 'P-pic p95', 'freezes', 'backup %'];
  console.log(head.join('\t'));
  for (let rep = 0; rep < REPS; rep++) {
    for (const arm of names) {
      const link = await ShapedLink.up({ rateKbit: linkKbit, queueMs: 1000 });
      try {
        const out = tempDir('bench-dual');
        const { offer, answer } = await runPairShaped(link, out, [
          '--play-from', clip, '--loop', '--duration', String(seconds), '--rate-control', 'fixed', '--bitrate', String(target),
          '--keyint', '60', '--pacing-factor', pacingFactor.toFixed(4), ...all[arm],
        ]);
        if (offer.code !== 0 || answer.code !== 0) throw new Error(`${arm}: offer ${offer.stderr.trim()} / answer ${answer.stderr.trim()}`);
        const meta = JSON.parse(readFileSync(join(out, 'sender-meta.json'), 'utf8'));
        const backupPct = (100 * (meta.counters.backup_bytes_sent ?? 0)) / meta.counters.primary_bytes_sent;
        const s = summarizeRun(join(out, 'frames.csv'));
        const row = [s.components.e2e_ms.p50, s.components.e2e_ms.p95, s.components.e2e_ms.p99, s.iFrameE2e.p95, s.pFrameE2e.p95];
        console.log([arm, rep, ...row.map(f), s.freezes, backupPct.toFixed(1)].join('\t') + `\t(${out})`);
        records.push({
          arm,
          trace: `tbf-${linkKbit}`,
          repetition: String(rep),
          e2e_p50_ms: String(row[0]),
          e2e_p95_ms: String(row[1]),
          e2e_p99_ms: String(row[2]),
          iframe_picture_p95_ms: String(row[3]),
          pframe_picture_p95_ms: String(row[4]),
          freezes: String(s.freezes),
          backup_bytes_pct: String(backupPct),
        });
      } finally {
        await link.down();
      }
    }
  }
  console.log(`\n== against single: ${linkKbit} kbit/s tbf link, target ${target / 1000} kbit/s, I-frame every 2 s, ${seconds} s, 720p30 default clip, ${REPS} interleaved runs per arm`);
  console.log(formatComparison(compareArms(records, 'single'), 'single'));
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
