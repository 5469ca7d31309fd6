/**
 * `testbed cache list|build|clear`: what the cache holds (clips decoded into raw pictures for
 * the real-time sender, clip analyses), building a clip's raw pictures ahead of a run, and
 * emptying it. Location: $TESTBED_CACHE, else .cache/ in the checkout.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildRawClip, listRawClips, rawDir } from '../media/raw-cache';
import { clipRef } from '../media/scenes';
import { cacheDir, clipsDir } from '../paths';
import { parseIntOption, UsageError } from './session';
import { endStatusLine, statusLine } from './status-line';
import { textTable } from './text-table';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

function list(): void {
  const raw = listRawClips();
  const rows = [['raw pictures of', 'size', 'pictures', 'fps', 'on disk']];
  for (const r of raw) rows.push([r.info.source, `${r.info.width}x${r.info.height}`, String(r.info.pictures), r.info.fps.toFixed(2), mb(r.bytes)]);
  const out = [`cache ${cacheDir()}`];
  out.push(raw.length ? textTable(rows) : 'no raw pictures (testbed cache build CLIP)');
  const analyses = join(cacheDir(), 'clips');
  const n = existsSync(analyses) ? readdirSync(analyses).filter((f) => f.endsWith('.json')).length : 0;
  out.push(`clip analyses: ${n} (${mb(dirBytes(analyses))}); raw pictures: ${raw.length} (${mb(raw.reduce((a, r) => a + r.bytes, 0))})`);
  process.stdout.write(out.join('\n') + '\n');
}

async function build(refText: string, o: { width?: number; height?: number }): Promise<void> {
  const ref = clipRef(refText, process.cwd(), clipsDir());
  if (!existsSync(ref.file)) throw new UsageError(`${ref.label} is not made yet: testbed clips make ${ref.scene?.name ?? ''}`);
  if ((o.width === undefined) !== (o.height === undefined)) throw new UsageError('give both --width and --height, or neither (the clip\'s own size)');
  const size = o.width !== undefined && o.height !== undefined ? { width: o.width, height: o.height } : null;
  const entry = await buildRawClip(ref.file, size, (n) => statusLine(`decoding ${ref.label}: picture ${n}`));
  endStatusLine();
  process.stdout.write(`${entry.data}: ${entry.info.pictures} pictures ${entry.info.width}x${entry.info.height}, ${mb(statSync(entry.data).size)}\n`);
}

function clear(o: { raw: boolean }): void {
  const target = o.raw ? rawDir() : cacheDir();
  const bytes = o.raw ? dirBytes(rawDir()) : dirBytes(rawDir()) + dirBytes(join(cacheDir(), 'clips'));
  rmSync(target, { recursive: true, force: true });
  process.stdout.write(`removed ${target} (${mb(bytes)})\n`);
}

export function addCacheCommand(program: Command): void {
  const cache = program.command('cache').description('the cache of derived clip data: raw decoded pictures for the real-time sender, clip analyses ($TESTBED_CACHE, else .cache/)');
  cache.command('list').description('what the cache holds and its size on disk').action(() => list());
  cache
    .command('build')
    .description("decode a clip once into raw I420 pictures, so `testbed offer --play-from` reads them instead of decoding in real time (testbed run does this for every clip of an experiment)")
    .argument('<clip>', 'a scene name (talking-head, talking-head@1080) or any video file FFmpeg reads')
    .option('--width <px>', "picture width (default: the clip's)", parseIntOption('--width', 16, 8192))
    .option('--height <px>', "picture height (default: the clip's)", parseIntOption('--height', 16, 8192))
    .action((ref: string, o: { width?: number; height?: number }) => build(ref, o));
  cache
    .command('clear')
    .description('empty the cache (everything in it is computed again when needed)')
    .option('--raw', 'only the raw pictures (the large part)', false)
    .action((o: { raw: boolean }) => clear(o));
}
