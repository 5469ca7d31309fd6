/**
 * A real-time source from a file: pictures are released at the file's own timestamps
 * (never faster), on drift-compensated timers — each release is scheduled against the
 * ideal timeline t0 + pts, not against the previous release, so timer lateness does
 * not accumulate. Decoding and scaling run ahead in a small prefetch queue (on
 * libuv's pool, through beamcoder) so a release is never waiting for FFmpeg.
 */
import type { Clock, Timer } from '../clock';
import { evenSize, MediaError, Resizer, VideoFileReader, type VideoFrame, type VideoInfo } from './codec';
import { findRawClip, RawClipReader } from './raw-cache';

/** What a FileSource reads pictures from: the file through FFmpeg, or its raw cache. */
type PictureReader = Pick<VideoFileReader, 'info' | 'next' | 'rewind' | 'path'>;

export interface CapturedFrame {
  /** Picture number since the start of the run (keeps growing across loops). */
  frameId: number;
  /** Index of the picture in the file. */
  sourceIndex: number;
  frame: VideoFrame;
  /** When the picture was handed on (our clock, ms). */
  captureMs: number;
}

export interface SourceOptions {
  /** Read the clip's decoded pictures from the raw cache when it holds them (media/raw-cache.ts; default true). */
  rawCache?: boolean;
  loop: boolean;
  /** Stop after this many seconds of media (null: the file's length, or forever when looping). */
  durationS: number | null;
  width?: number;
  height?: number;
}

/** Where pictures come from: released in real time at their timestamps, on the given clock and timer. */
export interface VideoSource {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Releases pictures until the end (or stop()); `onFrame` must not block. */
  run(clock: Clock, timer: Timer, onFrame: (f: CapturedFrame) => void): Promise<void>;
  stop(): void;
}

const PREFETCH = 4;

export class FileSource implements VideoSource {
  private queue: { frame: VideoFrame; ptsS: number; sourceIndex: number }[] = [];
  private fileEnded = false;
  private filling: Promise<void> | null = null;
  private stopped = false;
  private loopOffsetS = 0;
  private lastPtsS = 0;
  private sourceIndex = 0;
  private firstPtsS: number | null = null;
  private frameDurS: number;
  /** Pictures released more than half a frame interval after their time (metrics/starvation.ts). */
  lateCaptures = 0;
  maxLateMs = 0;
  readonly width: number;
  readonly height: number;
  private readonly resizer: Resizer;

  private constructor(
    private readonly reader: PictureReader,
    private readonly opts: SourceOptions,
    /** The clip as the user named it (the reader may be its raw cache). */
    readonly clip: VideoInfo,
  ) {
    this.width = evenSize(opts.width ?? clip.width);
    this.height = evenSize(opts.height ?? clip.height);
    this.resizer = new Resizer(this.width, this.height);
    this.frameDurS = 1 / reader.info.fps;
  }

  /** Where the pictures come from: the raw cache's file, or null when the clip is decoded in real time. */
  get rawCacheFile(): string | null {
    return this.reader instanceof RawClipReader ? this.reader.path : null;
  }

  static async open(path: string, opts: SourceOptions): Promise<FileSource> {
    const file = await VideoFileReader.open(path);
    let reader: PictureReader = file;
    if (opts.rawCache !== false) {
      // At the size sent, else at the clip's own size (then scaled here, still no decoding).
      const own = { width: evenSize(file.info.width), height: evenSize(file.info.height) };
      const sent = { width: evenSize(opts.width ?? own.width), height: evenSize(opts.height ?? own.height) };
      const sameSize = sent.width === own.width && sent.height === own.height;
      const entry = (await findRawClip(path, sent.width, sent.height)) ?? (sameSize ? null : await findRawClip(path, own.width, own.height));
      if (entry) reader = await RawClipReader.open(entry);
    }
    const src = new FileSource(reader, opts, file.info);
    await src.refill();
    if (src.queue.length === 0) throw new MediaError(`no picture could be decoded from ${path}`);
    return src;
  }

  get info(): VideoInfo {
    return this.clip;
  }

  get fps(): number {
    return this.reader.info.fps;
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Releases pictures at their timestamps until the end (or duration, or stop()).
   * `onFrame` must not block: it gets the picture and returns.
   */
  async run(clock: Clock, timer: Timer, onFrame: (f: CapturedFrame) => void): Promise<void> {
    const sleep = (ms: number) => new Promise<void>((r) => timer.setTimeout(r, Math.max(0, ms)));
    const t0 = clock.now();
    let frameId = 0;
    for (;;) {
      if (this.stopped) return;
      if (this.queue.length === 0) {
        await this.refill();
        if (this.queue.length === 0) return;
      }
      const next = this.queue[0];
      const mediaS = next.ptsS - (this.firstPtsS ?? 0);
      if (this.opts.durationS !== null && mediaS >= this.opts.durationS - 1e-6) return;
      const due = t0 + mediaS * 1000;
      const wait = due - clock.now();
      if (wait > 1) await sleep(wait - 0.5);
      while (clock.now() < due) await sleep(0);
      if (this.stopped) return;
      this.queue.shift();
      const now = clock.now();
      const lateMs = now - due;
      if (lateMs > (this.frameDurS * 1000) / 2) this.lateCaptures++;
      this.maxLateMs = Math.max(this.maxLateMs, lateMs);
      onFrame({ frameId: frameId++, sourceIndex: next.sourceIndex, frame: next.frame, captureMs: now });
      void this.refill();
    }
  }

  /** One fill at a time: FFmpeg's decoder must never see two calls at once. */
  private refill(): Promise<void> {
    this.filling ??= this.fill().finally(() => (this.filling = null));
    return this.filling;
  }

  private async fill(): Promise<void> {
    while (this.queue.length < PREFETCH && !this.stopped) {
      let tf = this.fileEnded ? null : await this.reader.next();
      if (!tf) {
        if (!this.opts.loop || this.sourceIndex === 0) {
          this.fileEnded = true;
          return;
        }
        // Loop: restart the file and continue the timeline one frame after the last picture.
        this.loopOffsetS = this.lastPtsS + this.frameDurS;
        this.sourceIndex = 0;
        this.firstInFile = null;
        await this.reader.rewind();
        tf = await this.reader.next();
        if (!tf) return;
      }
      if (this.firstInFile === null) this.firstInFile = tf.ptsS;
      const ptsS = this.loopOffsetS + (tf.ptsS - this.firstInFile);
      if (this.firstPtsS === null) this.firstPtsS = ptsS;
      this.lastPtsS = ptsS;
      this.queue.push({ frame: await this.resizer.fit(tf.frame), ptsS, sourceIndex: this.sourceIndex++ });
    }
  }

  private firstInFile: number | null = null;
}

/**
 * Pictures already in memory (decoded once), released every 1/fps s, looping over the
 * list: a source for simulations, where reading a file in real time has no place.
 */
export class PictureListSource implements VideoSource {
  private stopped = false;
  readonly width: number;
  readonly height: number;

  constructor(
    private readonly pictures: readonly VideoFrame[],
    readonly fps: number,
    private readonly count: number,
  ) {
    if (pictures.length === 0) throw new MediaError('no pictures to play');
    this.width = pictures[0].width;
    this.height = pictures[0].height;
  }

  stop(): void {
    this.stopped = true;
  }

  async run(clock: Clock, timer: Timer, onFrame: (f: CapturedFrame) => void): Promise<void> {
    const t0 = clock.now();
    for (let i = 0; i < this.count && !this.stopped; i++) {
      const due = t0 + (i * 1000) / this.fps;
      if (due > clock.now()) await new Promise<void>((r) => timer.setTimeout(r, due - clock.now()));
      if (this.stopped) return;
      const sourceIndex = i % this.pictures.length;
      onFrame({ frameId: i, sourceIndex, frame: this.pictures[sourceIndex], captureMs: clock.now() });
    }
  }
}
