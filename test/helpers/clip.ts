/** The bundled clip's first pictures, decoded and scaled, for tests that run real x264 on them. */
import assert from 'node:assert/strict';
import { Scaler, VideoFileReader, type VideoFrame } from '../../src/media/codec';
import { ensureClip } from './cli';

/** The first `count` pictures of the default clip at `size` (scaled only if it differs). */
export async function clipPictures(count: number, size: { width: number; height: number }): Promise<VideoFrame[]> {
  const reader = await VideoFileReader.open(ensureClip());
  const out: VideoFrame[] = [];
  let scaler: Scaler | null = null;
  while (out.length < count) {
    const t = await reader.next();
    assert.ok(t, `the clip has fewer than ${count} pictures`);
    let f = t.frame;
    if (Scaler.needed(f, size.width, size.height)) {
      scaler ??= await Scaler.create({ width: f.width, height: f.height, pixFmt: f.format ?? 'yuv420p' }, size);
      f = await scaler.scale(f);
    }
    out.push(f);
  }
  return out;
}
