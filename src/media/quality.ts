/**
 * PSNR of the rendered pictures against the source: the recording holds the rendered
 * pictures in render order, and frames.csv says which source picture each one was
 * (source_index of the rendered rows), so pictures are compared by identity, not by
 * position — a skipped or frozen picture is compared with the picture it stood for.
 */
import { MediaError, planesOf, Resizer, VideoFileReader, type VideoFrame } from './codec';

export interface FrameQuality {
  /** Position in the recording. */
  index: number;
  sourceIndex: number;
  psnrY: number;
  /** 4:1:1 weighted over Y, U, V (FFmpeg's psnr filter's "all"). */
  psnr: number;
}

export interface QualitySummary {
  frames: FrameQuality[];
  meanPsnr: number;
  minPsnr: number;
  meanPsnrY: number;
}

/** Identical pictures have infinite PSNR; cap it as FFmpeg's tools print large finite values. */
const PSNR_CAP_DB = 100;

function mseToPsnr(mse: number): number {
  return mse <= 0 ? PSNR_CAP_DB : Math.min(PSNR_CAP_DB, 10 * Math.log10((255 * 255) / mse));
}

/** Squared error sums of each plane of two yuv420p pictures of the same size. */
export function planeErrors(a: VideoFrame, b: VideoFrame): { sse: [number, number, number]; samples: [number, number, number] } {
  const pa = planesOf(a);
  const pb = planesOf(b);
  if (pa.width !== pb.width || pa.height !== pb.height) {
    throw new MediaError(`picture sizes differ: ${pa.width}x${pa.height} vs ${pb.width}x${pb.height}`);
  }
  const sse: [number, number, number] = [0, 0, 0];
  const samples: [number, number, number] = [0, 0, 0];
  for (const plane of [0, 1, 2] as const) {
    const w = plane === 0 ? pa.width : pa.width >> 1;
    const h = plane === 0 ? pa.height : pa.height >> 1;
    const da = pa.data[plane];
    const db = pb.data[plane];
    const sa = pa.linesize[plane];
    const sb = pb.linesize[plane];
    let s = 0;
    for (let y = 0; y < h; y++) {
      let oa = y * sa;
      let ob = y * sb;
      for (let x = 0; x < w; x++) {
        const d = da[oa++] - db[ob++];
        s += d * d;
      }
    }
    sse[plane] = s;
    samples[plane] = w * h;
  }
  return { sse, samples };
}

export function psnrOf(a: VideoFrame, b: VideoFrame): { psnr: number; psnrY: number } {
  const { sse, samples } = planeErrors(a, b);
  return {
    psnrY: mseToPsnr(sse[0] / samples[0]),
    psnr: mseToPsnr((sse[0] + sse[1] + sse[2]) / (samples[0] + samples[1] + samples[2])),
  };
}

/**
 * Compares each picture of `recordedPath` with the source picture `sourceIndices[i]`
 * of `sourcePath` (scaled to the recording's size when they differ).
 */
export async function measureQuality(recordedPath: string, sourcePath: string, sourceIndices: number[]): Promise<QualitySummary> {
  const rec = await VideoFileReader.open(recordedPath);
  const src = await VideoFileReader.open(sourcePath);
  let srcPos = -1;
  let srcFrame: VideoFrame | null = null;
  let resizer: Resizer | null = null;
  const frames: FrameQuality[] = [];
  for (let i = 0; ; i++) {
    const r = await rec.next();
    if (!r) break;
    if (i >= sourceIndices.length) {
      throw new MediaError(`the recording has more pictures (${i + 1}+) than rendered frames listed (${sourceIndices.length})`);
    }
    const want = sourceIndices[i];
    if (want < srcPos) {
      await src.rewind();
      srcPos = -1;
    }
    while (srcPos < want) {
      const s = await src.next();
      if (!s) throw new MediaError(`source picture ${want} not found in ${sourcePath}`);
      srcPos++;
      srcFrame = s.frame;
    }
    resizer ??= new Resizer(r.frame.width, r.frame.height);
    const q = psnrOf(r.frame, await resizer.fit(srcFrame!));
    frames.push({ index: i, sourceIndex: want, ...q });
  }
  if (frames.length === 0) throw new MediaError(`no picture in ${recordedPath}`);
  const mean = (f: (q: FrameQuality) => number) => frames.reduce((s, q) => s + f(q), 0) / frames.length;
  return {
    frames,
    meanPsnr: mean((q) => q.psnr),
    meanPsnrY: mean((q) => q.psnrY),
    minPsnr: Math.min(...frames.map((q) => q.psnr)),
  };
}
