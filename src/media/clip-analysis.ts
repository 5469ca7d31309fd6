/**
 * What a clip is, measured: its spatial and temporal information (ITU-T P.910 SI/TI) and
 * how much bigger its I-frames are than its P-frames at 0.5–2.0 Mbit/s when our sender's
 * encoder (x264 as `testbed offer` opens it, default options) codes it. Both depend only on
 * the clip's bytes, so the result is cached under the clip's SHA-256 and computed once —
 * for a bundled scene or any file FFmpeg reads.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../paths';
import { ipSizes, type SizedFrame } from '../metrics/frame-sizes';
import { meanOrNaN } from '../metrics/summary';
import { evenSize, H264Encoder, MediaError, Resizer, VideoFileReader, VIDEO_CLOCK_HZ, X264_DEFAULTS } from './codec';
import { contentHash } from './content-hash';
import { measureSiTi } from './ffmpeg-cli';

/** Bumped whenever what is measured or how changes: older cached analyses are then recomputed. */
export const ANALYSIS_VERSION = 1;
/** The encoder rates of the I/P table: DESIGN.md §5 experiment 1's and the prototype's. */
export const ANALYSIS_RATES_BPS = [500_000, 1_000_000, 1_500_000, 2_000_000] as const;

export interface SiTi {
  /** P.910's figure: the maximum over the clip's pictures. */
  si_max: number | null;
  si_mean: number | null;
  ti_max: number | null;
  /** Over every picture but the first (which has no TI). */
  ti_mean: number | null;
  method: string;
}

export interface IpAtRate {
  bitrate_bps: number;
  i_frames: number;
  i_mean_bytes: number | null;
  p_mean_bytes: number | null;
  /** Mean size of the P-frames just before and after each I-frame. */
  neighbour_p_mean_bytes: number | null;
  /** I / neighbouring P (metrics/frame-sizes.ts). */
  i_to_p: number | null;
  /** What the encoder produced on average, kbit/s (x264's ABR does not hit the target exactly). */
  achieved_kbps: number | null;
}

export interface ClipAnalysis {
  version: number;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  fps: number;
  pictures: number;
  duration_s: number;
  codec: string;
  siti: SiTi;
  ip: {
    method: string;
    encoder: { preset: string; tune: string; vbv_buffer_ms: number; keyint: number };
    rates: IpAtRate[];
  };
}

/** Rounded; null when undefined (JSON has no NaN). */
const round = (x: number, digits: number): number | null => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);

export function siTiSummary(samples: { si: number; ti: number | null }[]): SiTi {
  const si = samples.map((s) => s.si);
  const ti = samples.map((s) => s.ti).filter((t): t is number => t !== null);
  return {
    si_max: round(Math.max(...si), 2),
    si_mean: round(meanOrNaN(si), 2),
    ti_max: ti.length ? round(Math.max(...ti), 2) : null,
    ti_mean: round(meanOrNaN(ti), 2),
    method: 'ITU-T P.910 (11/21) SI/TI on full-range luma, by FFmpeg\'s siti filter',
  };
}

/**
 * Encodes every picture of the clip once per rate with the sender's x264 settings and a
 * forced I-frame every `keyint` pictures (as `testbed offer --rate-control fixed` does),
 * the rates side by side so the clip is decoded once.
 */
async function ipTable(reader: VideoFileReader, keyint: number, onProgress: (done: number) => void): Promise<{ rates: IpAtRate[]; pictures: number; durationS: number }> {
  const { fps } = reader.info;
  // Sized as the sender sizes its pictures (FileSource).
  const w = evenSize(reader.info.width);
  const h = evenSize(reader.info.height);
  const encoders = ANALYSIS_RATES_BPS.map((bps) =>
    H264Encoder.open({ width: w, height: h, fps, bitrateBps: bps, vbvBufferMs: X264_DEFAULTS.vbvBufferMs, preset: X264_DEFAULTS.preset, tune: X264_DEFAULTS.tune }),
  );
  const sizes: SizedFrame[][] = encoders.map(() => []);
  const resizer = new Resizer(w, h);
  let n = 0;
  let lastPtsS = 0;
  for (;;) {
    const next = await reader.next();
    if (!next) break;
    const frame = await resizer.fit(next.frame);
    const key = keyint > 0 ? n % keyint === 0 : n === 0;
    const pts = Math.round(n * (VIDEO_CLOCK_HZ / fps));
    const out = await Promise.all(encoders.map((e) => e.encode(frame, pts, key)));
    out.forEach((p, i) => sizes[i].push({ type: p.key ? 'I' : 'P', bytes: p.data.length }));
    lastPtsS = next.ptsS;
    n++;
    if (n % 30 === 0) onProgress(n);
  }
  if (n === 0) throw new MediaError(`no picture in ${reader.path}`);
  const durationS = Math.max(n / fps, lastPtsS);
  const rates = ANALYSIS_RATES_BPS.map((bps, i) => {
    const s = ipSizes(sizes[i]);
    const total = sizes[i].reduce((a, f) => a + f.bytes, 0);
    return {
      bitrate_bps: bps,
      i_frames: s.iFrames,
      i_mean_bytes: round(s.iMeanBytes, 0),
      p_mean_bytes: round(s.pMeanBytes, 0),
      neighbour_p_mean_bytes: round(s.neighbourPMeanBytes, 0),
      i_to_p: round(s.ratio, 2),
      achieved_kbps: round((total * 8) / (n / fps) / 1000, 1),
    };
  });
  return { rates, pictures: n, durationS };
}

function cacheFile(sha: string): string {
  return join(cacheDir(), 'clips', `${sha}-v${ANALYSIS_VERSION}.json`);
}

/** A cached analysis; null when absent or damaged (then it is computed again). */
function readCached(file: string): ClipAnalysis | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClipAnalysis;
  } catch {
    return null;
  }
}

/** The cached analysis of a clip, if it was made (no computing). */
export async function cachedAnalysis(path: string): Promise<ClipAnalysis | null> {
  return readCached(cacheFile(await contentHash(path)));
}

/**
 * The clip's analysis, from the cache or computed (tens of seconds for a 20 s 720p clip:
 * four x264 encodes of every picture). `onProgress` hears about the computing only.
 */
export async function analyseClip(path: string, onProgress: (msg: string) => void = () => {}): Promise<ClipAnalysis> {
  if (!existsSync(path)) throw new MediaError(`file not found: ${path}`);
  const sha = await contentHash(path);
  const file = cacheFile(sha);
  const cached = readCached(file);
  if (cached) return cached;
  const reader = await VideoFileReader.open(path);
  const info = reader.info;
  onProgress(`analysing ${path}: SI/TI`);
  const siti = siTiSummary(await measureSiTi(path));
  const keyint = X264_DEFAULTS.keyint;
  const table = await ipTable(reader, keyint, (done) => onProgress(`analysing ${path}: I/P sizes, picture ${done}`));
  const analysis: ClipAnalysis = {
    version: ANALYSIS_VERSION,
    sha256: sha,
    bytes: statSync(path).size,
    width: info.width,
    height: info.height,
    fps: round(info.fps, 3) ?? info.fps,
    pictures: table.pictures,
    duration_s: round(table.durationS, 3) ?? 0,
    codec: info.codec,
    siti,
    ip: {
      method: `x264 as testbed offer opens it (${X264_DEFAULTS.preset}, ${X264_DEFAULTS.tune}, VBV ${X264_DEFAULTS.vbvBufferMs} ms, one thread), an I-frame every ${keyint} pictures; I / neighbouring P = mean I-frame size over the mean size of the P-frames just before and after each I-frame, the first I-frame left out`,
      encoder: { preset: X264_DEFAULTS.preset, tune: X264_DEFAULTS.tune, vbv_buffer_ms: X264_DEFAULTS.vbvBufferMs, keyint },
      rates: table.rates,
    },
  };
  mkdirSync(join(cacheDir(), 'clips'), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(analysis, null, 2) + '\n');
  renameSync(tmp, file);
  return analysis;
}
