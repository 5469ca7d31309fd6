/**
 * Benchmark (not a test): x264 threads on the primary encoder (`--encoder-threads`, sliced
 * with tune zerolatency) against one thread, on the high-motion scene, 720p30 dual stream,
 * 2 Mbit/s fixed, over loopback, the clip read from the raw source cache. Runs are
 * interleaved 1, 2, 1, 2, … threads so the machine's drift falls on both alike.
 *
 *   node dist/bench/encoder-threads.js [seconds=45] [pairs=2]
 *
 * Prints per run the CPU of each process (CPU time / wall time, cores) and the starvation
 * counts (src/metrics/starvation.ts) the peers recorded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPair, tempDir } from '../src/experiments/processes';
import { buildRawClip } from '../src/media/raw-cache';
import { clipRef, ensureClip } from '../src/media/scenes';
import { clipsDir } from '../src/paths';
import { textTable } from '../src/cli/text-table';

interface Meta {
  started_ms: number;
  ended_ms: number;
  counters: Record<string, number>;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 45);
  const pairs = Number(process.argv[3] ?? 2);
  const ref = clipRef('high-motion', clipsDir(), clipsDir());
  await ensureClip(ref);
  await buildRawClip(ref.file, null);
  const rows = [['threads', 'offer cores', 'answer cores', 'late capt.', 'enc. busy', 'dec. backlog', 'rendered']];
  for (let i = 0; i < 2 * pairs; i++) {
    const threads = i % 2 === 0 ? '1' : '2';
    process.stderr.write(`encoder-threads: run ${i + 1}/${2 * pairs}, ${threads} thread(s), ${seconds} s\n`);
    const out = tempDir('threads');
    const { offer, answer } = await runPair(out, ['--play-from', ref.file, '--loop', '--duration', String(seconds), '--rate-control', 'fixed', '--mode', 'dual', '--bitrate', '2000000', '--encoder-threads', threads]);
    if (offer.code !== 0 || answer.code !== 0) throw new Error(`offer ${offer.code} ${offer.stderr.trim()} / answer ${answer.code} ${answer.stderr.trim()}`);
    const meta = (role: string) => JSON.parse(readFileSync(join(out, `${role}-meta.json`), 'utf8')) as Meta;
    const s = meta('sender');
    const r = meta('receiver');
    const cores = (m: Meta) => (m.counters.cpu_s / ((m.ended_ms - m.started_ms) / 1000)).toFixed(2);
    rows.push([threads, cores(s), cores(r), String(s.counters.late_captures), String(s.counters.encoder_busy_drops), String(r.counters.decoder_backlog), String(r.counters.frames_rendered)]);
  }
  process.stdout.write(`high-motion 720p30 dual, 2 Mbit/s fixed, loopback, raw source cache, ${seconds} s per run\n${textTable(rows)}\n`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
