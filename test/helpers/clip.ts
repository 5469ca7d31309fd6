/** The bundled clip's first pictures, decoded and scaled, for tests that run real x264 on them. */
import type { VideoFrame } from '../../src/media/codec';
import { firstPictures } from '../../src/media/pictures';
import { ensureClip } from './cli';

/** The first `count` pictures of the default clip at `size` (scaled only if it differs). */
export function clipPictures(count: number, size: { width: number; height: number }): Promise<VideoFrame[]> {
  return firstPictures(ensureClip(), count, size);
}
