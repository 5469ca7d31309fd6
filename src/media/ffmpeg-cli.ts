/**
 * The one place the `ffmpeg` program (Debian's, installed by scripts/setup.sh) is run:
 * generating clips from lavfi filter graphs and measuring a clip's spatial and temporal
 * information with FFmpeg's `siti` filter. Everything done per picture in real time
 * goes through beamcoder (codec.ts); this is for offline jobs whose natural form is an
 * FFmpeg command line.
 */
import { execFile } from 'node:child_process';
import { MediaError } from './codec';
import { clipText } from '../errors';

/** Runs ffmpeg with `args`; resolves with its stdout, or rejects with its last error line. */
export function runFfmpeg(args: string[], o: { maxBufferBytes?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      ['-nostdin', '-hide_banner', '-v', 'error', ...args],
      { maxBuffer: o.maxBufferBytes ?? 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(new MediaError('ffmpeg is not installed (bash scripts/setup.sh installs it)'));
        const last = stderr.trim().split('\n').filter(Boolean).pop() ?? err.message;
        reject(new MediaError(`ffmpeg failed: ${clipText(last)}`));
      },
    );
  });
}

/** SI and TI of one picture (TI is null for the first: it has no predecessor). */
export interface SiTiSample {
  si: number;
  ti: number | null;
}

/**
 * Per-picture SI and TI as ITU-T P.910 (11/21) §7 defines them, computed by FFmpeg's
 * `siti` filter: on the luma plane converted to full range (limited-range 16..235 maps
 * to 0..255), SI = standard deviation over the picture (border pixels excluded) of the
 * Sobel gradient magnitude, TI = standard deviation of the difference from the previous
 * picture. The filter reports TI 0 for the first picture; it is returned as null.
 */
export async function measureSiTi(file: string): Promise<SiTiSample[]> {
  const out = await runFfmpeg(['-i', file, '-map', '0:v:0', '-vf', 'siti,metadata=mode=print:file=-', '-f', 'null', '-']);
  return parseSiTiMetadata(out);
}

/** The `metadata=mode=print` lines of the siti filter, one sample per `frame:` block. */
export function parseSiTiMetadata(text: string): SiTiSample[] {
  const samples: SiTiSample[] = [];
  let si: number | null = null;
  let ti: number | null = null;
  const flush = () => {
    if (si !== null) samples.push({ si, ti: samples.length === 0 ? null : ti });
    si = null;
    ti = null;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('frame:')) flush();
    const m = /^lavfi\.siti\.(si|ti)=([0-9.]+)$/.exec(line.trim());
    if (m) {
      if (m[1] === 'si') si = Number(m[2]);
      else ti = Number(m[2]);
    }
  }
  flush();
  if (samples.length === 0) throw new MediaError('the siti filter reported no picture (is it a video file?)');
  return samples;
}
