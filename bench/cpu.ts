/**
 * Benchmark (not a test): the testbed's own CPU — per process, and every sign of starvation
 * (late captures, encoder-busy drops, decoder backlog; src/metrics/starvation.ts) — over
 * loopback at a fixed rate, each configuration once reading the raw source cache and once
 * decoding the clip in real time (`--no-source-cache`), interleaved, so the cache's effect is
 * a ratio within one run of this script.
 *
 *   node dist/bench/cpu.js [seconds=60]
 *
 * Configurations (issue 15):
 *   default-720p-single   the default clip, 720p30, single stream, 2 Mbit/s
 *   default-720p-dual     the same, dual stream
 *   high-motion-720p-dual the high-motion scene (fine texture, temporal noise, CRF 16 source,
 *                         ~40 Mbit/s), dual, 2 Mbit/s, rendered pictures recorded raw (.y4m)
 *                         and PSNR measured after the run against the source, by picture
 *   default-1080p-dual    the default clip scaled to 1920×1080, dual, 4 Mbit/s
 *   default-1080p-dual-2thr  the same with the primary encoder on two sliced x264 threads
 * CPU is what each process reports for itself (process.cpuUsage over its wall time), in cores.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildRawClip } from '../src/media/raw-cache';
import { measureQuality } from '../src/media/quality';
import { clipRef, ensureClip } from '../src/media/scenes';
import { clipsDir } from '../src/paths';
import { readCsv } from '../src/metrics/csv';
import { summarizeRun } from '../src/metrics/summary';
import { STARVATION_COUNTERS } from '../src/metrics/starvation';
import { runPair, tempDir } from '../src/experiments/processes';
import { textTable } from '../src/cli/text-table';

interface Config {
  name: string;
  clip: string;
  size: { width: number; height: number } | null;
  offer: string[];
  psnr: boolean;
}

const CONFIGS: Config[] = [
  { name: 'default-720p-single', clip: 'default', size: null, offer: ['--mode', 'single', '--bitrate', '2000000'], psnr: false },
  { name: 'default-720p-dual', clip: 'default', size: null, offer: ['--mode', 'dual', '--bitrate', '2000000'], psnr: false },
  { name: 'high-motion-720p-dual', clip: 'high-motion', size: null, offer: ['--mode', 'dual', '--bitrate', '2000000'], psnr: true },
  { name: 'default-1080p-dual', clip: 'default', size: { width: 1920, height: 1080 }, offer: ['--mode', 'dual', '--bitrate', '4000000', '--width', '1920', '--height', '1080'], psnr: false },
  { name: 'default-1080p-dual-2thr', clip: 'default', size: { width: 1920, height: 1080 }, offer: ['--mode', 'dual', '--bitrate', '4000000', '--width', '1920', '--height', '1080', '--encoder-threads', '2'], psnr: false },
];

interface Result {
  config: string;
  source: string;
  offerCores: number;
  answerCores: number;
  counts: Record<string, number>;
  frames: number;
  rendered: number;
  e2eP50: number;
  psnr: number | null;
}

function cores(dir: string, role: 'sender' | 'receiver'): { cores: number; counters: Record<string, number> } {
  const m = JSON.parse(readFileSync(join(dir, `${role}-meta.json`), 'utf8')) as { started_ms: number; ended_ms: number; counters: Record<string, number> };
  return { cores: m.counters.cpu_s / ((m.ended_ms - m.started_ms) / 1000), counters: m.counters };
}

async function runOne(c: Config, file: string, cached: boolean, seconds: number): Promise<Result> {
  const out = tempDir('cpu');
  const rec = join(out, 'rendered.y4m');
  const offer = ['--play-from', file, '--loop', '--duration', String(seconds), '--rate-control', 'fixed', ...c.offer, ...(cached ? [] : ['--no-source-cache'])];
  const { offer: o, answer: a } = await runPair(out, offer, c.psnr ? ['--record-to', rec] : []);
  if (o.code !== 0 || a.code !== 0) throw new Error(`${c.name}: offer ${o.code} ${o.stderr.trim()} / answer ${a.code} ${a.stderr.trim()}`);
  const s = cores(out, 'sender');
  const r = cores(out, 'receiver');
  const summary = summarizeRun(join(out, 'frames.csv'));
  let psnr: number | null = null;
  if (c.psnr) {
    const rendered = readCsv(join(out, 'frames.csv'))
      .filter((x) => x.rendered === '1')
      .sort((x, y) => Number(x.render_ms) - Number(y.render_ms));
    psnr = (await measureQuality(rec, file, rendered.map((x) => Number(x.source_index)))).meanPsnr;
    rmSync(rec, { force: true });
  }
  const counts = Object.fromEntries(STARVATION_COUNTERS.map((k) => [k, s.counters[k] ?? r.counters[k] ?? 0]));
  return {
    config: c.name,
    source: cached ? 'raw cache' : 'decoded',
    offerCores: s.cores,
    answerCores: r.cores,
    counts,
    frames: summary.frames,
    rendered: summary.rendered,
    e2eP50: summary.components.e2e_ms.p50,
    psnr,
  };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 60);
  const files = new Map<string, string>();
  for (const c of CONFIGS) {
    const ref = clipRef(c.clip, clipsDir(), clipsDir());
    await ensureClip(ref);
    files.set(c.name, ref.file);
    process.stderr.write(`cpu: raw cache for ${c.clip}${c.size ? ` at ${c.size.width}x${c.size.height}` : ''}\n`);
    await buildRawClip(ref.file, c.size);
  }
  const results: Result[] = [];
  for (const c of CONFIGS) {
    for (const cached of [true, false]) {
      process.stderr.write(`cpu: ${c.name}, ${cached ? 'raw cache' : 'decoding in real time'}, ${seconds} s\n`);
      results.push(await runOne(c, files.get(c.name)!, cached, seconds));
    }
  }
  const f2 = (x: number) => x.toFixed(2);
  const rows = [['configuration', 'pictures from', 'offer', 'answer', 'together', 'late capt.', 'enc. busy', 'dec. backlog', 'rendered', 'e2e p50 ms', 'PSNR dB']];
  for (const r of results) {
    rows.push([
      r.config,
      r.source,
      f2(r.offerCores),
      f2(r.answerCores),
      f2(r.offerCores + r.answerCores),
      String(r.counts.late_captures),
      String(r.counts.encoder_busy_drops),
      String(r.counts.decoder_backlog),
      `${r.rendered}/${r.frames}`,
      r.e2eP50.toFixed(1),
      r.psnr === null ? '-' : r.psnr.toFixed(2),
    ]);
  }
  process.stdout.write(`CPU in cores (process CPU time / wall time), ${seconds} s per run, loopback, fixed rate\n${textTable(rows)}\n`);
  const byName = (name: string) => results.filter((r) => r.config === name && r.source === 'raw cache')[0];
  const busy = results.filter((r) => r.source === 'raw cache').reduce((a, r) => a + r.counts.encoder_busy_drops, 0);
  process.stdout.write(
    [
      `aim: zero encoder-busy drops (raw cache runs): ${busy}`,
      `aim: high-motion 720p30 dual together <= 1.0 core: ${f2(byName('high-motion-720p-dual').offerCores + byName('high-motion-720p-dual').answerCores)}`,
      `aim: 1080p30 dual together <= 1.6 cores: ${f2(byName('default-1080p-dual').offerCores + byName('default-1080p-dual').answerCores)}`,
    ].join('\n') + '\n',
  );
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
