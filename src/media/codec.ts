/**
 * The one beamcoder layer: every use of beamcoder (FFmpeg demux, decode, x264 encode,
 * scale, mux) goes through this module. Facts this code relies on were verified on
 * these machines (see DESIGN.md §6): the encoder opens lazily on the first encode()
 * and then reports failure only as "0 packets"; one encoder must never see a second
 * encode() before the first resolved; `frame.data` builds new Buffers on every read.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import type * as Beamcoder from 'beamcoder';
import { nalType, splitAnnexB } from '../rtp/h264';

/** A raw picture, opaque outside this module except through the helpers below. */
export type VideoFrame = Beamcoder.Frame;

/** A failure the CLI turns into one line on stderr. */
export class MediaError extends Error {
  override name = 'MediaError';
}

let loaded: typeof Beamcoder | undefined;

/** beamcoder prints a licence banner on stdout when loaded: keep stdout clean (it carries SDP). */
export function beamcoder(): typeof Beamcoder {
  if (!loaded) {
    const log = console.log;
    console.log = () => {};
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('beamcoder') as typeof Beamcoder;
    } finally {
      console.log = log;
    }
    loaded.logging(process.env.TESTBED_FFMPEG_LOG ?? 'fatal');
  }
  return loaded;
}

export function ffmpegVersion(): string {
  return beamcoder().avVersionInfo();
}

// ---------------------------------------------------------------------------
// Reading a file

export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second from the container (average frame rate). */
  fps: number;
  /** Duration in seconds when the container knows it. */
  durationS: number | null;
  codec: string;
}

/** A decoded frame with its presentation time in seconds from the start of the file. */
export interface TimedFrame {
  frame: VideoFrame;
  ptsS: number;
}

/**
 * Demux + decode one video stream of a file, in presentation order. `rewind()` re-opens
 * the file so a looping source restarts from the first frame.
 */
export class VideoFileReader {
  private demuxer!: Beamcoder.Demuxer;
  private decoder!: Beamcoder.Decoder;
  private streamIndex = -1;
  private timeBase: [number, number] = [1, 1];
  private pending: TimedFrame[] = [];
  private flushed = false;
  private decodedAny = false;
  info!: VideoInfo;

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<VideoFileReader> {
    const r = new VideoFileReader(path);
    await r.openInternal();
    return r;
  }

  private async openInternal(): Promise<void> {
    const path = this.path;
    if (!existsSync(path)) throw new MediaError(`file not found: ${path}`);
    if (!statSync(path).isFile()) throw new MediaError(`not a file: ${path}`);
    const unopenable = ffprobeOpenError(path);
    if (unopenable) throw new MediaError(`cannot read ${path} as a media container (${unopenable})`);
    const bc = beamcoder();
    try {
      this.demuxer = await bc.demuxer(path);
    } catch (e) {
      throw new MediaError(`cannot read ${path} as a media container (${errText(e)})`);
    }
    const stream = this.demuxer.streams.find((s) => s.codecpar.codec_type === 'video');
    if (!stream) throw new MediaError(`no video stream in ${path}`);
    this.streamIndex = stream.index;
    this.timeBase = stream.time_base as [number, number];
    const rate = stream.avg_frame_rate?.[1] ? stream.avg_frame_rate : stream.r_frame_rate;
    const fps = rate && rate[1] ? rate[0] / rate[1] : 0;
    const width = stream.codecpar.width;
    const height = stream.codecpar.height;
    if (!width || !height) throw new MediaError(`video stream in ${path} has no picture size (corrupt?)`);
    try {
      this.decoder = bc.decoder({ demuxer: this.demuxer, stream_index: stream.index, thread_count: 1 });
    } catch (e) {
      throw new MediaError(`no decoder for the video stream of ${path} (${errText(e)})`);
    }
    const dur = this.demuxer.duration;
    this.info = {
      width,
      height,
      fps: fps > 0 && fps < 1000 ? fps : 30,
      durationS: dur && dur > 0 ? dur / 1e6 : null,
      codec: stream.codecpar.name ?? String(stream.codecpar.codec_id),
    };
    this.pending = [];
    this.flushed = false;
  }

  async rewind(): Promise<void> {
    await this.openInternal();
  }

  /** The next decoded frame, or null at the end of the stream. */
  async next(): Promise<TimedFrame | null> {
    while (this.pending.length === 0) {
      if (this.flushed) return null;
      let packet: Beamcoder.Packet | null;
      try {
        packet = await this.demuxer.read();
      } catch (e) {
        throw new MediaError(`${this.path} is corrupt or truncated (${errText(e)})`);
      }
      let frames: VideoFrame[];
      if (packet === null) {
        this.flushed = true;
        frames = (await this.decoder.flush()).frames;
      } else {
        if (packet.stream_index !== this.streamIndex) continue;
        try {
          frames = (await this.decoder.decode(packet)).frames;
        } catch (e) {
          throw new MediaError(`cannot decode the video stream of ${this.path} (${errText(e)})`);
        }
      }
      for (const frame of frames) {
        const pts = frame.best_effort_timestamp ?? frame.pts ?? 0;
        this.pending.push({ frame, ptsS: (pts * this.timeBase[0]) / this.timeBase[1] });
      }
      if (this.flushed && this.pending.length === 0 && !this.decodedAny) {
        throw new MediaError(`the video stream of ${this.path} could not be decoded (no picture)`);
      }
    }
    this.decodedAny = true;
    return this.pending.shift() ?? null;
  }
}

// ---------------------------------------------------------------------------
// Scaling / pixel format conversion

/** Converts any decoded frame to yuv420p at the requested size (FFmpeg's scale filter). */
export class Scaler {
  private constructor(
    private readonly filterer: Beamcoder.Filterer,
    readonly width: number,
    readonly height: number,
  ) {}

  static async create(
    src: { width: number; height: number; pixFmt: string },
    dst: { width: number; height: number },
  ): Promise<Scaler> {
    const f = await beamcoder().filterer({
      filterType: 'video',
      inputParams: [
        {
          width: src.width,
          height: src.height,
          pixelFormat: src.pixFmt,
          timeBase: [1, 90000],
          pixelAspect: [1, 1],
        },
      ],
      outputParams: [{ pixelFormat: 'yuv420p' }],
      filterSpec: `scale=${dst.width}:${dst.height}:flags=bicubic,format=yuv420p`,
    });
    return new Scaler(f, dst.width, dst.height);
  }

  static needed(frame: VideoFrame, width: number, height: number): boolean {
    return frame.width !== width || frame.height !== height || frame.format !== 'yuv420p';
  }

  async scale(frame: VideoFrame): Promise<VideoFrame> {
    const out = await this.filterer.filter([frame]);
    const f = out[0]?.frames[0];
    if (!f) throw new MediaError('scaler produced no picture');
    return f;
  }
}

/** A picture dimension as 4:2:0 needs it: even, rounded to the nearest (at least 2). */
export function evenSize(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/**
 * Brings pictures to yuv420p at one size: as they are when they already are, else through
 * a Scaler created for the first picture that needs one (every picture of a stream has the
 * same source size and format).
 */
export class Resizer {
  private scaler: Scaler | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  async fit(frame: VideoFrame): Promise<VideoFrame> {
    if (!Scaler.needed(frame, this.width, this.height)) return frame;
    this.scaler ??= await Scaler.create({ width: frame.width, height: frame.height, pixFmt: frame.format ?? 'yuv420p' }, { width: this.width, height: this.height });
    return this.scaler.scale(frame);
  }
}

// ---------------------------------------------------------------------------
// x264

/** `testbed offer`'s x264 defaults (its --preset, --tune, --vbv-buffer, --keyint), shared with the clip analysis. */
export const X264_DEFAULTS = { preset: 'veryfast', tune: 'zerolatency', vbvBufferMs: 1000, keyint: 60 } as const;

export interface EncoderConfig {
  width: number;
  height: number;
  fps: number;
  bitrateBps: number;
  /** VBV buffer in ms of the target rate: bounds how far an I-frame can burst. */
  vbvBufferMs: number;
  preset: string;
  tune: string;
  /** Extra x264 params (colon separated), appended after ours. */
  x264Params?: string;
  /**
   * Periodic intra refresh: a wave of intra blocks crosses the picture every this many
   * frames instead of whole I-frames. x264 then sends no IDR of its own after the first;
   * a forced key picture is still an IDR.
   */
  intraRefreshFrames?: number;
  /**
   * x264 threads (default 1). Above 1 with tune zerolatency x264 uses sliced threads (one
   * picture split across threads: no added frame of delay), but its output then depends on
   * the thread count: only for encoders no other party must reproduce (the primary, never
   * the shared-seed backup encoders).
   */
  threads?: number;
}

export interface EncodedPicture {
  /** Annex B access unit. */
  data: Buffer;
  key: boolean;
  /** Frame QP from x264's quality stats, when reported. */
  qp: number | null;
}

/** RTP clock for video; the encoder's time base so pts are RTP timestamps. */
export const VIDEO_CLOCK_HZ = 90000;
/** FFmpeg's FF_QP2LAMBDA: quality_stats carry lambda, not QP. */
const FF_QP2LAMBDA = 118;

/**
 * libx264 through beamcoder, opened for real-time use: a GOP so long it never fires
 * (we force every I-frame ourselves), no scene-cut I-frames, one thread (deterministic
 * and no frame-threading delay), VBV set at open so run-time rate changes apply.
 * With intra refresh the GOP is x264's refresh period (gop_size becomes x264's keyint;
 * verified: the same stream as keyint= in x264-params).
 */
export class H264Encoder {
  private busy = false;
  private opened = false;

  private constructor(
    private readonly enc: Beamcoder.Encoder,
    readonly config: EncoderConfig,
  ) {}

  static open(config: EncoderConfig): H264Encoder {
    const params = ['scenecut=0', 'repeat-headers=1', 'rc-lookahead=0', 'sync-lookahead=0', 'bframes=0'];
    if (config.intraRefreshFrames !== undefined) params.push('intra-refresh=1');
    if (config.x264Params) params.push(config.x264Params);
    let enc: Beamcoder.Encoder;
    try {
      enc = beamcoder().encoder({
        name: 'libx264',
        width: config.width,
        height: config.height,
        pix_fmt: 'yuv420p',
        time_base: [1, VIDEO_CLOCK_HZ],
        framerate: [Math.round(config.fps * 1000), 1000],
        gop_size: config.intraRefreshFrames ?? 1 << 30,
        bit_rate: config.bitrateBps,
        rc_max_rate: config.bitrateBps,
        rc_buffer_size: Math.round((config.bitrateBps * config.vbvBufferMs) / 1000),
        thread_count: config.threads ?? 1,
        priv_data: { preset: config.preset, tune: config.tune, 'x264-params': params.join(':') },
      });
    } catch (e) {
      throw new MediaError(`cannot create the x264 encoder (${errText(e)})`);
    }
    return new H264Encoder(enc, config);
  }

  /** Changes the target rate; applies from the next frame because VBV was set at open. */
  setBitrate(bps: number): void {
    this.enc.bit_rate = bps;
    this.enc.rc_max_rate = bps;
    this.enc.rc_buffer_size = Math.round((bps * this.config.vbvBufferMs) / 1000);
  }

  get isBusy(): boolean {
    return this.busy;
  }

  /**
   * Encodes one picture. `pts` is in 90 kHz units. Resolves with the access unit, or
   * throws if x264 did not open (beamcoder reports that only as an empty result).
   */
  async encode(frame: VideoFrame, pts: number, forceKey: boolean): Promise<EncodedPicture> {
    if (this.busy) throw new Error('H264Encoder.encode called while a previous encode is running');
    this.busy = true;
    try {
      // Source frames carry their own pict_type from the file's decoder; only ours counts.
      frame.pict_type = forceKey ? 'I' : null;
      frame.key_frame = forceKey;
      frame.pts = pts;
      const res = await this.enc.encode(frame);
      const packets = res.packets;
      if (packets.length === 0) {
        if (!this.opened) {
          throw new MediaError(
            `x264 did not open (preset '${this.config.preset}', tune '${this.config.tune}', ${this.config.width}x${this.config.height}): check the options`,
          );
        }
        throw new MediaError('x264 buffered a frame; the encoder must run with zero lookahead');
      }
      this.opened = true;
      // beamcoder's packet.data includes FFmpeg's 64 bytes of input padding: cut to size.
      const parts = packets.map((p) => p.data.subarray(0, p.size));
      const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      // libx264 also flags the first picture of each intra-refresh wave KEY (a recovery
      // point, a P-frame): only an IDR lets a decoder start from this picture alone.
      return { data, key: packets[0].flags.KEY && startsWithIdr(data), qp: qpOf(packets[0]) };
    } finally {
      this.busy = false;
    }
  }
}

/** Whether the first slice of an Annex B access unit is an IDR slice (NAL type 5). */
function startsWithIdr(au: Buffer): boolean {
  return splitAnnexB(au).map(nalType).find((t) => t >= 1 && t <= 5) === 5;
}

function qpOf(packet: Beamcoder.Packet): number | null {
  const stats = (packet.side_data as Record<string, unknown> | null)?.quality_stats;
  if (!Buffer.isBuffer(stats) || stats.length < 4) return null;
  return Math.round(stats.readInt32LE(0) / FF_QP2LAMBDA);
}

// ---------------------------------------------------------------------------
// H.264 decode

/**
 * FFmpeg's H.264 decoder, one thread (frame threading would hold pictures back).
 * Errors surface as thrown exceptions or as access units that produce no picture;
 * the caller treats both as "undecodable" and never renders silently.
 */
export class H264Decoder {
  private readonly dec: Beamcoder.Decoder;
  private busy = false;

  constructor() {
    this.dec = beamcoder().decoder({ name: 'h264', thread_count: 1 });
  }

  async decode(annexB: Buffer, pts: number): Promise<VideoFrame[]> {
    if (this.busy) throw new Error('H264Decoder.decode called while a previous decode is running');
    this.busy = true;
    try {
      const packet = beamcoder().packet({ data: annexB, size: annexB.length, pts, dts: pts });
      const res = await this.dec.decode(packet);
      return res.frames;
    } finally {
      this.busy = false;
    }
  }

  async flush(): Promise<VideoFrame[]> {
    return (await this.dec.flush()).frames;
  }
}

// ---------------------------------------------------------------------------
// Pixels

export interface Planes {
  width: number;
  height: number;
  /** Y, U, V planes, each with its own stride. */
  data: [Buffer, Buffer, Buffer];
  linesize: [number, number, number];
}

/** Reads the planes of a yuv420p frame once (each `frame.data` access copies). */
export function planesOf(frame: VideoFrame): Planes {
  if (frame.format !== 'yuv420p') throw new MediaError(`expected yuv420p, got ${frame.format}`);
  const d = frame.data;
  return {
    width: frame.width,
    height: frame.height,
    data: [d[0], d[1], d[2]],
    linesize: [frame.linesize[0], frame.linesize[1], frame.linesize[2]],
  };
}

/** A yuv420p frame filled by `fill(x, y, plane)`; for tests and synthetic sources. */
export function makeFrame(
  width: number,
  height: number,
  fill: (x: number, y: number, plane: 0 | 1 | 2) => number,
): VideoFrame {
  const f = beamcoder().frame({ width, height, format: 'yuv420p' }).alloc();
  const data = f.data;
  for (const plane of [0, 1, 2] as const) {
    const w = plane === 0 ? width : width >> 1;
    const h = plane === 0 ? height : height >> 1;
    const stride = f.linesize[plane];
    const buf = data[plane];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) buf[y * stride + x] = fill(x, y, plane);
  }
  return f;
}

/**
 * A copy of a picture with its own pixel buffers. H264Encoder.encode writes the picture
 * type and pts into the frame it is given, and the native encode reads them later on a
 * libuv thread: two encoders must never be handed the same frame object at once (it
 * once turned a forced primary I-frame into a P-frame while the backup encoder ran).
 */
export function copyFrame(frame: VideoFrame): VideoFrame {
  const d = frame.data;
  return beamcoder().frame({
    width: frame.width,
    height: frame.height,
    format: frame.format,
    linesize: [...frame.linesize],
    data: d.map((b) => Buffer.from(b)),
  });
}

/**
 * A yuv420p frame holding tightly packed I420 bytes (the inverse of packedI420), in
 * FFmpeg-allocated (padded, aligned) buffers: x264's SIMD input copies may read past the
 * end of a row, so pictures are never handed to it in bare Node buffers.
 */
export function frameFromI420(width: number, height: number, packed: Buffer): VideoFrame {
  if (packed.length < (width * height * 3) / 2) throw new MediaError(`an I420 picture of ${width}x${height} needs ${(width * height * 3) / 2} bytes, got ${packed.length}`);
  const f = beamcoder().frame({ width, height, format: 'yuv420p' }).alloc();
  const data = f.data;
  let o = 0;
  for (const plane of [0, 1, 2] as const) {
    const w = plane === 0 ? width : width >> 1;
    const h = plane === 0 ? height : height >> 1;
    const stride = f.linesize[plane];
    const buf = data[plane];
    if (stride === w) {
      packed.copy(buf, 0, o, o + w * h);
      o += w * h;
    } else {
      for (let y = 0; y < h; y++, o += w) packed.copy(buf, y * stride, o, o + w);
    }
  }
  return f;
}

/** Tightly packed I420 bytes of a frame (what Y4M and hashes want). */
export function packedI420(frame: VideoFrame): Buffer {
  const p = planesOf(frame);
  const out = Buffer.alloc((p.width * p.height * 3) / 2);
  let o = 0;
  for (const plane of [0, 1, 2] as const) {
    const w = plane === 0 ? p.width : p.width >> 1;
    const h = plane === 0 ? p.height : p.height >> 1;
    for (let y = 0; y < h; y++) {
      p.data[plane].copy(out, o, y * p.linesize[plane], y * p.linesize[plane] + w);
      o += w;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Writing MP4

/**
 * Re-encodes rendered pictures into an MP4 (x264, near-transparent quality) with
 * their render times as timestamps, so freezes stay visible in the file.
 */
export class Mp4Writer {
  private stream!: Beamcoder.Stream;
  private enc!: Beamcoder.Encoder;
  private headerWritten = false;
  private lastPts = -1;
  private chain: Promise<void> = Promise.resolve();
  frames = 0;

  private constructor(
    private readonly muxer: Beamcoder.Muxer,
    readonly path: string,
    private readonly frameDurationMs: number,
  ) {}

  static async create(path: string, width: number, height: number, fps: number): Promise<Mp4Writer> {
    const bc = beamcoder();
    const muxer = bc.muxer({ filename: `file:${path}`, format_name: 'mp4' });
    const w = new Mp4Writer(muxer, path, Math.max(1, Math.round(1000 / fps)));
    w.enc = bc.encoder({
      name: 'libx264',
      width,
      height,
      pix_fmt: 'yuv420p',
      time_base: [1, 1000],
      gop_size: 300,
      thread_count: 1,
      flags: { GLOBAL_HEADER: true },
      priv_data: { preset: 'ultrafast', crf: 10, 'x264-params': 'bframes=0' },
    });
    w.stream = muxer.newStream({
      name: 'h264',
      time_base: [1, 1000],
      interleaved: true,
    });
    Object.assign(w.stream.codecpar, { width, height, format: 'yuv420p' });
    try {
      await muxer.openIO({});
    } catch (e) {
      throw new MediaError(`cannot write ${path} (${errText(e)})`);
    }
    return w;
  }

  /** Queues a picture rendered at `timeMs` (ms since the recording started). */
  write(frame: VideoFrame, timeMs: number): Promise<void> {
    const pts = Math.max(this.lastPts + 1, Math.round(timeMs));
    this.lastPts = pts;
    this.frames++;
    this.chain = this.chain.then(async () => {
      frame.pict_type = null;
      frame.pts = pts;
      const res = await this.enc.encode(frame);
      await this.writePackets(res.packets);
    });
    return this.chain;
  }

  private async writePackets(packets: Beamcoder.Packet[]): Promise<void> {
    for (const p of packets) {
      if (!this.headerWritten) {
        if (this.enc.extradata) this.stream.codecpar.extradata = this.enc.extradata;
        await this.muxer.writeHeader({});
        this.headerWritten = true;
      }
      // The mp4 muxer picks its own time base at writeHeader; ours is ms.
      const [num, den] = this.stream.time_base;
      const rescale = (t: number) => Math.round((t * den) / (1000 * num));
      p.pts = rescale(p.pts);
      p.dts = rescale(p.dts);
      // A zero duration makes the mp4 edit list cut the last picture.
      p.duration = rescale(p.duration > 0 ? p.duration : this.frameDurationMs);
      p.stream_index = this.stream.index;
      await this.muxer.writeFrame(p);
    }
  }

  async close(): Promise<void> {
    await this.chain;
    await this.writePackets((await this.enc.flush()).packets);
    if (this.headerWritten) await this.muxer.writeTrailer();
  }
}

/**
 * Why FFmpeg cannot open `path` as a container, or null when it can (or when ffprobe is
 * not installed). beamcoder 0.7.1 must not be the one to find out: when a demuxer fails
 * to open, its rejectStatus() frees the request and then reads its status
 * (beamcoder_util.cc: `tidyCarrier(env, c); return c->status;`), so now and then the
 * process continues on freed memory and dies of SIGSEGV (5 of 15 runs on a truncated
 * MP4 without faststart here). Debian's ffprobe is the same FFmpeg: ask it first.
 */
function ffprobeOpenError(path: string): string | null {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name', '-of', 'csv=p=0', path], {
    encoding: 'utf8',
    timeout: 20_000,
    maxBuffer: 64 << 20,
  });
  if (r.error || r.status === 0) return null;
  const lines = (r.stderr ?? '').split('\n').filter((l) => l.trim() !== '');
  const last = (lines.at(-1) ?? `ffprobe exit status ${r.status}`).replace(`${path}: `, '');
  // The demuxer's own reason, when it gave one just before ("moov atom not found").
  const why = /^\[[^\]]+ @ 0x[0-9a-f]+\] (.*)$/.exec(lines.at(-2) ?? '')?.[1];
  return why ? `${why}; ${last}` : last;
}

export function errText(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  // beamcoder prefixes its C++ source location: "In file ../src/demux.cc on line 76,
  // found error: Problem opening input format: Invalid data found when processing input".
  return s.split('\n')[0].replace(/^In file \S+ on line \d+, found error: /, '');
}
