/**
 * Benchmark (not a test): single vs dual stream on the same shaped link, side by side.
 * `node dist/bench/dual.js [seconds=30] [linkKbit=1500]` (needs root for the namespaces).
 *
 * Link: tc tbf in two namespaces, LINK each way, 1 s tail-drop queue (no loss: recovery
 * is issue 4). Encoder target 2/3 of the link, I-frame every 2 s, x264 veryfast; pacer at
 * 0.95 × the link rate so queues build in the pacer, where the backup priority applies.
 * Arms: single; dual with the shared reference; dual with the episodic reference.
 * Printed per arm: p50/p95/p99 e2e of all pictures and of I-frame pictures, the ratio of
 * I-picture p95 to P-picture p95, freezes (> 200 ms between rendered pictures), and the
 * bytes each stream put on the wire (RTP header + payload, from the sender's counters).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectShaping, ShapedLink } from '../src/emulation/netns';
import { summarizeRun, type RunSummary } from '../src/metrics/summary';
import { ensureClip, runPairShaped, tempDir } from '../src/experiments/processes';

interface Arm {
  name: string;
  args: string[];
}

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
  const clip = ensureClip();
  const arms: Arm[] = [
    { name: 'single', args: ['--mode', 'single'] },
    { name: 'dual/shared', args: ['--mode', 'dual', '--backup-reference', 'shared'] },
    { name: 'dual/episodic', args: ['--mode', 'dual', '--backup-reference', 'episodic'] },
  ];
  const results: { arm: Arm; s: RunSummary; bytes: Record<string, number> }[] = [];
  for (const arm of arms) {
    const link = await ShapedLink.up({ rateKbit: linkKbit, queueMs: 1000 });
    try {
      const out = tempDir('bench-dual');
      const { offer, answer } = await runPairShaped(link, out, [
        '--play-from', clip, '--loop', '--duration', String(seconds), '--rate-control', 'fixed', '--bitrate', String(target),
        '--keyint', '60', '--pacing-factor', pacingFactor.toFixed(4), ...arm.args,
      ]);
      if (offer.code !== 0 || answer.code !== 0) throw new Error(`${arm.name}: offer ${offer.stderr.trim()} / answer ${answer.stderr.trim()}`);
      const meta = JSON.parse(readFileSync(join(out, 'sender-meta.json'), 'utf8'));
      const bytes = { primary: meta.counters.primary_bytes_sent ?? 0, backup: meta.counters.backup_bytes_sent ?? 0 };
      results.push({ arm, s: summarizeRun(join(out, 'frames.csv')), bytes });
      console.error(`${arm.name}: done (${out})`);
    } finally {
      await link.down();
    }
  }
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  console.log(`\n== single vs dual: ${linkKbit} kbit/s tbf link, target ${target / 1000} kbit/s, I-frame every 2 s, ${seconds} s, 720p30 default clip`);
  const head = ['arm', 'e2e p50', 'p95', 'p99', 'I-pic p50', 'I-pic p95', 'I-pic p99', 'I95/P95', 'freezes', 'primary kB', 'backup kB', 'extra'];
  const rows = results.map(({ arm, s, bytes }) => [
    arm.name,
    f(s.components.e2e_ms.p50), f(s.components.e2e_ms.p95), f(s.components.e2e_ms.p99),
    f(s.iFrameE2e.p50), f(s.iFrameE2e.p95), f(s.iFrameE2e.p99),
    (s.iFrameE2e.p95 / s.pFrameE2e.p95).toFixed(2),
    String(s.freezes),
    (bytes.primary / 1000).toFixed(0), (bytes.backup / 1000).toFixed(0),
    `${((100 * bytes.backup) / bytes.primary).toFixed(1)} %`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(''));
  console.log('(e2e in ms over rendered pictures; I-pic = pictures whose primary frame is an I-frame, whichever version was shown)');
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
