/**
 * Broken inputs for the CLI tests, made with the ffmpeg command (Debian's, the same
 * FFmpeg beamcoder links) and deterministic byte surgery, so every run sees the same
 * files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** xorshift32: the same "random" bytes on every run. */
function pseudoRandomBytes(n: number, seed = 0x2545f491): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** An audio-only file (lavfi `sine`, AAC in MP4). */
export function audioOnlyFile(dir: string): string {
  const p = join(dir, 'audio-only.m4a');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', p]);
  return p;
}

/** Random bytes named like an MP4. */
export function randomBytesFile(dir: string): string {
  const p = join(dir, 'random.mp4');
  writeFileSync(p, pseudoRandomBytes(256 * 1024));
  return p;
}

/** A short real H.264 MP4: 4 s, 320x240, 30 fps, GOP 30; `faststart` puts the index first. */
export function smallClip(dir: string, faststart: boolean): string {
  const p = join(dir, faststart ? 'small-faststart.mp4' : 'small-moov-at-end.mp4');
  ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=30', '-t', '4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p',
    ...(faststart ? ['-movflags', '+faststart'] : []),
    p,
  ]);
  return p;
}

/** A real H.264 MP4 of `pictures` pictures, 640x360 at 30 fps (the ends of a stream: one picture, a short clip). */
export function shortClip(dir: string, pictures: number): string {
  const p = join(dir, `clip-${pictures}.mp4`);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30', '-frames:v', String(pictures), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', p]);
  return p;
}

/** The first `fraction` of a file's bytes. */
export function truncatedCopy(src: string, fraction: number, name: string): string {
  const b = readFileSync(src);
  const p = join(dirname(src), name);
  writeFileSync(p, b.subarray(0, Math.floor(b.length * fraction)));
  return p;
}

interface Box {
  type: string;
  offset: number;
  size: number;
}

/** Top-level ISO-BMFF boxes (32-bit sizes are all ffmpeg writes for small files). */
export function topLevelBoxes(b: Buffer): Box[] {
  const boxes: Box[] = [];
  for (let off = 0; off + 8 <= b.length; ) {
    const size = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    assert.ok(size >= 8, `box ${type} at ${off}: unsupported size ${size}`);
    boxes.push({ type, offset: off, size });
    off += size;
  }
  return boxes;
}

/**
 * A container that opens (intact `moov`: codec, picture size, sample table, SPS/PPS in
 * avcC) but whose video cannot be decoded: every byte of `mdat` — the samples' NAL
 * length prefixes included — overwritten with pseudo-random bytes. FFmpeg's decoder
 * then rejects every access unit ("Invalid NAL unit size") and outputs no picture,
 * instead of concealing errors as it would for damaged slice data alone.
 */
export function garbagePayloadCopy(src: string, name: string): string {
  const b = Buffer.from(readFileSync(src));
  const mdat = topLevelBoxes(b).find((x) => x.type === 'mdat');
  assert.ok(mdat, `${src} has an mdat box`);
  pseudoRandomBytes(mdat.size - 8).copy(b, mdat.offset + 8);
  const p = join(dirname(src), name);
  writeFileSync(p, b);
  return p;
}

/** Frames FFmpeg decodes from a file (ffprobe -count_frames). */
export function decodableFrames(path: string): number {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'quiet', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path],
    { encoding: 'utf8' },
  );
  return Number(out.trim());
}
