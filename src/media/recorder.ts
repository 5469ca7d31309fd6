/**
 * Where rendered pictures go: an MP4 (re-encoded near-transparently, timestamps = render
 * times) or, for names ending in .y4m, raw YUV4MPEG2 frames (lossless, for quality
 * measurement without a second codec in the way).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { Mp4Writer, packedI420, type VideoFrame } from './codec';

export interface Recorder {
  readonly path: string;
  readonly frames: number;
  /** Queues one rendered picture; `timeMs` is its render time relative to the recording start. */
  write(frame: VideoFrame, timeMs: number): void;
  close(): Promise<void>;
}

class Y4mRecorder implements Recorder {
  frames = 0;
  private readonly out: WriteStream;
  private readonly failed: Promise<never>;

  constructor(readonly path: string, width: number, height: number, fps: number) {
    this.out = createWriteStream(path);
    this.failed = once(this.out, 'error').then(([e]) => Promise.reject(e));
    this.failed.catch(() => {});
    const [num, den] = fps % 1 === 0 ? [fps, 1] : [Math.round(fps * 1000), 1000];
    this.out.write(`YUV4MPEG2 W${width} H${height} F${num}:${den} Ip A1:1 C420jpeg\n`);
  }

  write(frame: VideoFrame): void {
    this.frames++;
    this.out.write('FRAME\n');
    this.out.write(packedI420(frame));
  }

  async close(): Promise<void> {
    this.out.end();
    await Promise.race([once(this.out, 'close'), this.failed]);
  }
}

class Mp4Recorder implements Recorder {
  private constructor(private readonly w: Mp4Writer) {}

  static async create(path: string, width: number, height: number, fps: number): Promise<Mp4Recorder> {
    return new Mp4Recorder(await Mp4Writer.create(path, width, height, fps));
  }

  get path(): string {
    return this.w.path;
  }

  get frames(): number {
    return this.w.frames;
  }

  write(frame: VideoFrame, timeMs: number): void {
    this.w.write(frame, timeMs).catch(() => {});
  }

  close(): Promise<void> {
    return this.w.close();
  }
}

export async function createRecorder(path: string, width: number, height: number, fps: number): Promise<Recorder> {
  if (path.toLowerCase().endsWith('.y4m')) return new Y4mRecorder(path, width, height, fps);
  return Mp4Recorder.create(path, width, height, fps);
}
