/**
 * Benchmark on simulated time (not a test): single vs dual stream through the whole middle
 * layer in one process (src/sim/simulated-call.ts: real x264 and FFmpeg, a simulated
 * drop-tail link, zero encode/decode time). Deterministic: the same figures on every run
 * and machine with the same FFmpeg. `node dist/bench/dual-sim.js [seconds=20]`.
 *
 * Three link/target pairs (pacer at 0.95 × the link, an I-frame every 2 s, 640×360 of the
 * default clip) and arms: single, infinite GOP (the lower bound), the prototype's dual
 * stream (I-frame-complete end rule, backup at half the primary's rate), the same end rule
 * with the backup at 1/9, the caught-up end rule with the backup at half the primary's rate,
 * and the default (caught-up end rule, backup at 1/9). Printed per
 * arm: e2e p50/p95/p99 over rendered pictures and their ratio to single, the mean PSNR of
 * the rendered pictures and its difference to single, backup bytes against primary bytes,
 * and how each episode ended (F feedback, T timeout).
 */
import { ensureClip } from '../src/experiments/processes';
import { firstPictures } from '../src/media/pictures';
import { percentile } from '../src/metrics/summary';
import { runSimulatedCall, type SimulatedCallOptions } from '../src/sim/simulated-call';

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 20);
  const pictures = await firstPictures(ensureClip(), 30, { width: 640, height: 360 });
  for (const [linkKbit, targetBps] of [[1500, 1_000_000], [1500, 1_200_000], [3000, 2_000_000]]) {
    const base: SimulatedCallOptions = {
      pictures,
      fps: 30,
      frames: seconds * 30,
      link: { up: { kbit: linkKbit, queueMs: 1000 }, down: { kbit: linkKbit } },
      bitrateBps: targetBps,
      keyint: 60,
      dual: null,
      pacingFactor: (0.95 * linkKbit * 1000) / targetBps,
      psnr: true,
    };
    const arms: [string, Partial<SimulatedCallOptions>][] = [
      ['single', {}],
      ['infinite-gop', { keyint: 0 }],
      ['dual-prototype', { dual: 'shared', backupEnd: 'iframe-complete', backupBitrateBps: targetBps / 2 }],
      ['dual-iframe-complete', { dual: 'shared', backupEnd: 'iframe-complete' }],
      ['dual-caught-up-half', { dual: 'shared', backupBitrateBps: targetBps / 2 }],
      ['dual (default)', { dual: 'shared' }],
    ];
    console.log(`\n== ${linkKbit} kbit/s link, target ${targetBps / 1000} kbit/s, ${seconds} s on simulated time`);
    console.log(['arm', 'e2e p50', 'p95', 'p99', 'PSNR dB', 'backup %', 'episodes ended'].join('\t'));
    let single: { p: number[]; psnr: number } | null = null;
    for (const [name, extra] of arms) {
      const r = await runSimulatedCall({ ...base, ...extra });
      const e2e = r.frames.filter((f) => f.rendered === 1).map((f) => Number(f.e2e_ms)).sort((a, b) => a - b);
      const p = [50, 95, 99].map((q) => percentile(e2e, q));
      const psnrs = [...r.psnrDb.values()];
      const psnr = psnrs.reduce((a, b) => a + b, 0) / psnrs.length;
      const base0 = (single ??= { p, psnr });
      const bytes = (s: string) => r.sender.filter((f) => f.stream === s).reduce((a, f) => a + f.size_bytes, 0);
      const ends = r.senderEvents.filter((e) => e.from_state === 'BACKUP' && e.to_state === 'NORMAL' && e.frame_id > 0).map((e) => (/timeout/.test(e.cause) ? 'T' : 'F'));
      const lost = base.frames - e2e.length;
      console.log(
        [
          name,
          ...p.map((v, i) => `${v.toFixed(0)} (${(v / base0.p[i]).toFixed(2)}×)`),
          `${psnr.toFixed(2)} (${(psnr - base0.psnr).toFixed(2)})`,
          (100 * bytes('backup') / bytes('primary')).toFixed(1),
          ends.join('') + (lost ? `; ${lost} pictures not rendered` : ''),
        ].join('\t'),
      );
    }
  }
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
