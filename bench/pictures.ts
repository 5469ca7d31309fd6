/**
 * Per-picture breakdown of finished runs (not a benchmark of its own): what the README's
 * dual-stream readings quote from the runs of `bench/dual.js` and `testbed run`.
 * `node dist/bench/pictures.js RUN_DIR...` (each directory holds frames.csv, sender-meta.json,
 * and network.csv).
 *
 * Per run: the median jitter estimate over rendered pictures; the I-pictures after picture 0
 * (which has no backup) with their e2e p95 against the P-pictures' p95 and their decode
 * times; rendered pictures over 300 ms per 2-s bin of capture time; the first scheduled
 * I-frame's size; the controller's target at 2 s; the sent rate in the first seconds;
 * retransmissions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv } from '../src/metrics/csv';
import { percentile } from '../src/metrics/summary';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

function inspect(dir: string): void {
  const frames = readCsv(join(dir, 'frames.csv'));
  const t0 = Number(frames[0].capture_ms);
  const rendered = frames.filter((r) => r.rendered === '1');
  const iIds = new Set(frames.filter((r) => r.stream === 'primary' && r.frame_type === 'I').map((r) => r.frame_id));
  const iPics = rendered.filter((r) => iIds.has(r.frame_id) && r.frame_id !== '0');
  const pPics = rendered.filter((r) => !iIds.has(r.frame_id));
  const e2e = (rs: Record<string, string>[]) => sorted(rs.map((r) => Number(r.e2e_ms)));
  const decode = sorted(iPics.map((r) => Number(r.decode_ms)));
  const jitter = sorted(rendered.map((r) => Number(r.jitter_estimate_ms)).filter(Number.isFinite));
  const slow: Record<number, number> = {};
  for (const r of rendered) if (Number(r.e2e_ms) > 300) slow[Math.floor((Number(r.capture_ms) - t0) / 2000) * 2] = (slow[Math.floor((Number(r.capture_ms) - t0) / 2000) * 2] ?? 0) + 1;
  const firstI = frames.find((r) => r.stream === 'primary' && r.frame_type === 'I' && r.frame_id !== '0');
  const meta = JSON.parse(readFileSync(join(dir, 'sender-meta.json'), 'utf8')).counters as Record<string, number>;
  let targetAt2s = '–';
  let sentBySecond = '–';
  if (existsSync(join(dir, 'network.csv'))) {
    const network = readCsv(join(dir, 'network.csv'));
    const at = (ms: number) => network.find((n) => Number(n.time_ms) - t0 >= ms);
    const row = at(2000);
    if (row) targetAt2s = `${Math.round(Number(row.target_bps) / 1000)} kbit/s`;
    sentBySecond = [1, 2, 3, 4, 5, 6, 7].map((sec) => `${sec}s ${Math.round(Number(at(sec * 1000)?.sent_bps ?? NaN) / 1000)}`).join(', ');
  }
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
  console.log(`== ${dir}`);
  console.log(`  jitter estimate p50 over rendered pictures: ${f(percentile(jitter, 50))} ms`);
  if (iPics.length) {
    const ratio = percentile(e2e(iPics), 95) / percentile(e2e(pPics), 95);
    console.log(
      `  I-pictures after picture 0: ${iPics.length} (from ${[...new Set(iPics.map((r) => r.rendered_from || r.stream))].join('/')}), ` +
        `e2e p50 ${f(percentile(e2e(iPics), 50))} / p95 ${f(percentile(e2e(iPics), 95))} ms vs P-pictures p50 ${f(percentile(e2e(pPics), 50))} / p95 ${f(percentile(e2e(pPics), 95))} ms (p95 ratio ${ratio.toFixed(2)}); ` +
        `decode_ms p50 ${f(percentile(decode, 50))}, min ${f(decode[0])}, max ${f(decode[decode.length - 1])}`,
    );
  }
  const pic0 = rendered.find((r) => r.frame_id === '0');
  if (pic0) console.log(`  picture 0: e2e ${f(Number(pic0.e2e_ms))} ms`);
  console.log(`  rendered pictures over 300 ms per 2-s bin (s: count): ${JSON.stringify(slow)}`);
  console.log(`  first scheduled I-frame: picture ${firstI?.frame_id ?? '–'}, ${firstI?.size_bytes ?? '–'} B; target at 2 s: ${targetAt2s}`);
  console.log(`  sent kbit/s over the preceding second, at: ${sentBySecond}`);
  console.log(`  retransmissions: ${meta.retransmissions_sent ?? 0} packets, ${meta.retransmission_bytes_sent ?? 0} B`);
}

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node dist/bench/pictures.js RUN_DIR...');
  process.exit(2);
}
for (const d of dirs) inspect(d);
