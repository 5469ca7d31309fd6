/**
 * The encoder and decoder as the send and receive paths see them: small interfaces, with
 * beamcoder's x264 and FFmpeg H.264 decoder (`codec.ts`) behind them. A simulation wraps
 * them so simulated time waits for their real work (`trackedCodecs`).
 */
import { H264Decoder, H264Encoder, type EncodedPicture, type EncoderConfig, type VideoFrame } from './codec';

export interface Encoder {
  readonly config: EncoderConfig;
  /** One picture in, one access unit out (`pts` in 90 kHz units); never called again before it resolves. */
  encode(frame: VideoFrame, pts: number, forceKey: boolean): Promise<EncodedPicture>;
  /** Applies from the next picture. */
  setBitrate(bps: number): void;
}

export interface Decoder {
  /** One access unit in; the pictures it completes (exactly one for a decodable frame). */
  decode(annexB: Buffer, pts: number): Promise<VideoFrame[]>;
}

export interface Codecs {
  openEncoder(config: EncoderConfig): Encoder;
  openDecoder(): Decoder;
}

/** libx264 and FFmpeg's H.264 decoder through beamcoder. */
export const x264Codecs: Codecs = {
  openEncoder: (config) => H264Encoder.open(config),
  openDecoder: () => new H264Decoder(),
};

/** The same codecs with every call handed to `track` (SimTime.track: simulated time waits for it). */
export function trackedCodecs(inner: Codecs, track: <T>(p: Promise<T>) => Promise<T>): Codecs {
  return {
    openEncoder(config) {
      const enc = inner.openEncoder(config);
      return {
        config: enc.config,
        encode: (frame, pts, forceKey) => track(enc.encode(frame, pts, forceKey)),
        setBitrate: (bps) => enc.setBitrate(bps),
      };
    },
    openDecoder() {
      const dec = inner.openDecoder();
      return { decode: (au, pts) => track(dec.decode(au, pts)) };
    },
  };
}
