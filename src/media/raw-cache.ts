/**
 * The raw source cache: a clip decoded (and scaled) once into packed I420 pictures on disk,
 * so a real-time sender reads ready pictures instead of decoding the file while it encodes
 * — decoding a detailed 720p clip costs a sender about as much as encoding it (issue 15).
 *
 *   <cache>/raw/<sha256 of the clip>-<w>x<h>.i420   the pictures, one after the other
 *   <cache>/raw/<sha256 of the clip>-<w>x<h>.json   what they are (written last: its
 *                                                   presence means the entry is whole)
 *
 * Keyed by the clip's content, the picture size and the pixel format (always yuv420p), so a
 * changed file is never read from a stale entry. Read with positioned reads (Node has no
 * mmap; the kernel's page cache keeps a clip that is read again in memory, which is what a
 * mapping would give). Pictures are copied into FFmpeg-allocated frames (frameFromI420).
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../paths';
import { evenSize, frameFromI420, MediaError, packedI420, Resizer, VideoFileReader, type TimedFrame, type VideoInfo } from './codec';
import { contentHash } from './content-hash';

const VERSION = 1;

export interface RawClipInfo {
  version: number;
  /** The clip as it was built from (path at the time, and its SHA-256). */
  source: string;
  source_sha256: string;
  width: number;
  height: number;
  pix_fmt: 'yuv420p';
  fps: number;
  pictures: number;
  frame_bytes: number;
  /** Presentation time of each picture in the source, s. */
  pts_s: number[];
  built_at: string;
}

export function rawDir(): string {
  return join(cacheDir(), 'raw');
}

function entryBase(sha: string, width: number, height: number): string {
  return join(rawDir(), `${sha}-${width}x${height}`);
}

function readInfo(json: string): RawClipInfo | null {
  try {
    const info = JSON.parse(readFileSync(json, 'utf8')) as RawClipInfo;
    return info.version === VERSION ? info : null;
  } catch {
    return null;
  }
}

/** The cached pictures of `path` at `width`×`height`, if they were built. */
export async function findRawClip(path: string, width: number, height: number): Promise<{ info: RawClipInfo; data: string } | null> {
  return findEntry(await contentHash(path), width, height);
}

function findEntry(sha: string, width: number, height: number): { info: RawClipInfo; data: string } | null {
  const base = entryBase(sha, width, height);
  const info = existsSync(`${base}.json`) ? readInfo(`${base}.json`) : null;
  if (!info || !existsSync(`${base}.i420`) || statSync(`${base}.i420`).size !== info.pictures * info.frame_bytes) return null;
  return { info, data: `${base}.i420` };
}

/**
 * Decodes `path` once (scaled to `size` when given) into the cache, unless it is there.
 * `onProgress` hears 0 when the decoding starts (nothing when the entry exists), then the
 * pictures done. Returns the entry.
 */
export async function buildRawClip(path: string, size: { width: number; height: number } | null, onProgress: (pictures: number) => void = () => {}): Promise<{ info: RawClipInfo; data: string }> {
  const reader = await VideoFileReader.open(path);
  const width = evenSize(size?.width ?? reader.info.width);
  const height = evenSize(size?.height ?? reader.info.height);
  const sha = await contentHash(path);
  const found = findEntry(sha, width, height);
  if (found) return found;
  onProgress(0);
  const base = entryBase(sha, width, height);
  mkdirSync(rawDir(), { recursive: true });
  const tmp = `${base}.i420.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  const pts: number[] = [];
  const resizer = new Resizer(width, height);
  try {
    for (;;) {
      const next = await reader.next();
      if (!next) break;
      const frame = await resizer.fit(next.frame);
      if (!out.write(packedI420(frame))) await new Promise<void>((r) => out.once('drain', () => r()));
      pts.push(next.ptsS);
      if (pts.length % 30 === 0) onProgress(pts.length);
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
  if (pts.length === 0) {
    rmSync(tmp, { force: true });
    throw new MediaError(`no picture in ${path}`);
  }
  const info: RawClipInfo = {
    version: VERSION,
    source: path,
    source_sha256: sha,
    width,
    height,
    pix_fmt: 'yuv420p',
    fps: reader.info.fps,
    pictures: pts.length,
    frame_bytes: (width * height * 3) / 2,
    pts_s: pts,
    built_at: new Date().toISOString(),
  };
  renameSync(tmp, `${base}.i420`);
  writeFileSync(`${base}.json.tmp-${process.pid}`, JSON.stringify(info) + '\n');
  renameSync(`${base}.json.tmp-${process.pid}`, `${base}.json`);
  return { info, data: `${base}.i420` };
}

/** Every whole entry of the raw cache, with its size on disk. */
export function listRawClips(): { info: RawClipInfo; data: string; bytes: number }[] {
  if (!existsSync(rawDir())) return [];
  return readdirSync(rawDir())
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const info = readInfo(join(rawDir(), f));
      const data = join(rawDir(), f.replace(/\.json$/, '.i420'));
      return info && existsSync(data) ? [{ info, data, bytes: statSync(data).size }] : [];
    });
}

/**
 * Reads cached pictures as VideoFileReader reads a file: in order, with the source's
 * timestamps, `rewind()` to loop. One positioned read per picture.
 */
export class RawClipReader {
  private index = 0;
  readonly info: VideoInfo;

  private constructor(
    private readonly fh: FileHandle,
    private readonly raw: RawClipInfo,
    readonly path: string,
  ) {
    const last = raw.pts_s[raw.pts_s.length - 1] ?? 0;
    this.info = { width: raw.width, height: raw.height, fps: raw.fps, durationS: last - (raw.pts_s[0] ?? 0) + 1 / raw.fps, codec: 'rawvideo (testbed raw cache)' };
  }

  static async open(entry: { info: RawClipInfo; data: string }): Promise<RawClipReader> {
    return new RawClipReader(await open(entry.data, 'r'), entry.info, entry.data);
  }

  async rewind(): Promise<void> {
    this.index = 0;
  }

  async next(): Promise<TimedFrame | null> {
    if (this.index >= this.raw.pictures) return null;
    const i = this.index++;
    const buf = Buffer.allocUnsafe(this.raw.frame_bytes);
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, i * this.raw.frame_bytes);
    if (bytesRead !== buf.length) throw new MediaError(`${this.path} is truncated at picture ${i} (the raw cache changed under the run)`);
    return { frame: frameFromI420(this.raw.width, this.raw.height, buf), ptsS: this.raw.pts_s[i] };
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
