/**
 * Shared test material for the RTP and frame-assembly tests: a short real x264 clip
 * (encoded once per process) and helpers that turn its access units into RTP packets.
 * Not a test file itself (node --test runs it and finds no tests).
 */
import { H264Decoder, H264Encoder, makeFrame, packedI420 } from '../../src/media/codec';
import { packetizeH264 } from '../../src/rtp/h264';
import { rtpHeaderSize } from '../../src/rtp/packet';
import type { RtpHeaderExtensions, RtpPacket } from '../../src/rtp/types';

import { rng } from '../helpers/random';

export { rng };

export function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export interface ClipFrame {
  index: number;
  /** 90 kHz. */
  pts: number;
  key: boolean;
  /** The encoder's access unit, as x264 wrote it. */
  data: Buffer;
}

export const CLIP_W = 640;
export const CLIP_H = 360;
export const CLIP_FRAMES = 12;
/** Frames encoded as forced IDRs: the first (with x264's SEI) and one mid-clip. */
export const CLIP_KEYS = new Set([0, 8]);

let clip: Promise<ClipFrame[]> | undefined;

/**
 * 640x360 at 30 fps, 1 Mbit/s: a noise texture (high detail, so the IDR is ~50 kB, far
 * above any MTU) with a gradient, both moving by whole pixels per frame, so motion
 * compensation makes most P-frames small (some below 1200 bytes, some above).
 */
export function x264Clip(): Promise<ClipFrame[]> {
  clip ??= (async () => {
    const rand = rng(7);
    const stride = CLIP_W + 2 * CLIP_FRAMES;
    const noise = new Uint8Array(stride * CLIP_H);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rand() * 256);
    const enc = H264Encoder.open({
      width: CLIP_W,
      height: CLIP_H,
      fps: 30,
      bitrateBps: 1_000_000,
      vbvBufferMs: 1000,
      preset: 'veryfast',
      tune: 'zerolatency',
    });
    const out: ClipFrame[] = [];
    for (let t = 0; t < CLIP_FRAMES; t++) {
      const frame = makeFrame(CLIP_W, CLIP_H, (x, y, plane) =>
        plane === 0 ? (noise[y * stride + x + 2 * t] >> 1) + ((x + y + 3 * t) & 127) : 128 + ((x + t) & 15),
      );
      const pts = t * 3000;
      const pic = await enc.encode(frame, pts, CLIP_KEYS.has(t));
      out.push({ index: t, pts, key: pic.key, data: pic.data });
    }
    return out;
  })();
  return clip;
}

/** Decodes access units in order on one fresh decoder; returns pictures per AU and their I420 bytes. */
export async function decodeAll(aus: readonly { data: Buffer; pts: number }[]): Promise<{ counts: number[]; pictures: Buffer[] }> {
  const dec = new H264Decoder();
  const counts: number[] = [];
  const pictures: Buffer[] = [];
  for (const au of aus) {
    const frames = await dec.decode(au.data, au.pts);
    counts.push(frames.length);
    for (const f of frames) pictures.push(packedI420(f));
  }
  return { counts, pictures };
}

/** The extensions every media packet carries (values do not change the header size). */
export const MEDIA_EXTENSIONS: RtpHeaderExtensions = {
  absSendTime: 0,
  transportWideSeq: 0,
  frameId: { frameId: 0, start: false, end: false, key: false },
};

export function payloadBudget(mtu: number): number {
  return mtu - rtpHeaderSize(MEDIA_EXTENSIONS);
}

export interface PacketizeOptions {
  ssrc: number;
  /** Sequence number of the first packet of the first frame; wraps at 2^16. */
  firstSeq: number;
  mtu: number;
  firstFrameId: number;
}

/** RTP packets for consecutive frames, continuous sequence numbers, marker on each frame's last. */
export function toRtpPackets(frames: readonly ClipFrame[], o: PacketizeOptions): RtpPacket[][] {
  let seq = o.firstSeq;
  let tw = 0;
  return frames.map((f, i) => {
    const payloads = packetizeH264(f.data, payloadBudget(o.mtu));
    return payloads.map((payload, k) => {
      const last = k === payloads.length - 1;
      const p: RtpPacket = {
        payloadType: 96,
        sequenceNumber: seq,
        timestamp: (1_000_000 + f.pts) >>> 0,
        ssrc: o.ssrc,
        marker: last,
        extensions: {
          absSendTime: (i * 8738 + k) & 0xffffff,
          transportWideSeq: tw,
          frameId: { frameId: o.firstFrameId + i, start: k === 0, end: last, key: f.key },
        },
        payload,
      };
      seq = (seq + 1) & 0xffff;
      tw = (tw + 1) & 0xffff;
      return p;
    });
  });
}
