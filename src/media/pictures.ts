/** The first pictures of a file, decoded and scaled, in memory (simulations, tests, benchmarks). */
import { MediaError, Scaler, VideoFileReader, type VideoFrame } from './codec';

/** The first `count` pictures of `path` at `size` (scaled only if it differs). */
export async function firstPictures(path: string, count: number, size: { width: number; height: number }): Promise<VideoFrame[]> {
  const reader = await VideoFileReader.open(path);
  const out: VideoFrame[] = [];
  let scaler: Scaler | null = null;
  while (out.length < count) {
    const t = await reader.next();
    if (!t) throw new MediaError(`${path} has fewer than ${count} pictures`);
    let f = t.frame;
    if (Scaler.needed(f, size.width, size.height)) {
      scaler ??= await Scaler.create({ width: f.width, height: f.height, pixFmt: f.format ?? 'yuv420p' }, size);
      f = await scaler.scale(f);
    }
    out.push(f);
  }
  return out;
}
