/**
 * What the send path tells the world about each frame, in its own types (not CSV rows):
 * `metrics/sender-frames.ts` turns these events into sender-frames.csv.
 */
import type { StreamKind } from '../rtp/types';

/** A picture encoded on one stream. */
export interface EncodedFrameEvent {
  kind: 'encoded';
  frameId: number;
  stream: StreamKind;
  /** Index of the picture in the source file. */
  sourceIndex: number;
  rtpTimestamp: number;
  captureMs: number;
  encodeStartMs: number;
  encodeEndMs: number;
  key: boolean;
  sizeBytes: number;
  qp: number | null;
}

/** A picture never encoded (or never sent): `reason` is encoder-busy or stopped. */
export interface DroppedFrameEvent {
  kind: 'dropped';
  frameId: number;
  stream: StreamKind;
  sourceIndex: number;
  rtpTimestamp: number;
  captureMs: number;
  reason: string;
}

/**
 * An encoded frame's packets have all left the pacer (`complete`), or some never will:
 * the sender stopped first, or they were flushed for a newer key frame.
 */
export interface PacedFrameEvent {
  kind: 'paced';
  frameId: number;
  stream: StreamKind;
  packets: number;
  enqueueMs: number;
  firstSentMs: number | null;
  lastSentMs: number | null;
  complete: boolean;
  /** Why packets stayed behind (when not complete). */
  unsent: 'stopped' | 'flushed' | null;
}

export type SenderFrameEvent = EncodedFrameEvent | DroppedFrameEvent | PacedFrameEvent;
