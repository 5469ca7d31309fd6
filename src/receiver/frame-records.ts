/**
 * The receiver's record of each frame it heard of: at most one per (frame id, stream),
 * open while the frame is in flight, settled once (rendered, or given up with a reason),
 * and then reported. A packet that turns up after its frame settled (a retransmission
 * that crossed the original, a duplicate, a lost packet recovered after the frame was given
 * up) must not open a second record for the same frame: the join would see two versions of
 * one frame, and a late "incomplete" copy would hide the rendered one. So the ids of
 * settled frames are remembered per stream.
 *
 * Memory: the last SETTLED_MEMORY ids per stream exactly; below that a floor (the highest
 * id forgotten so far) stands in for them, so a straggler of any older frame is still
 * recognised.
 */
import { frameKey, type StreamKind } from '../rtp/types';

/** Why a frame was not rendered. */
export type FrameFate = 'superseded' | 'late' | 'undecodable' | 'incomplete' | 'stopped';

/** What the receiver knows of one frame of one stream (times on the receiver's clock, ms). */
export interface ReceivedFrame {
  frameId: number;
  stream: StreamKind;
  /** I (IDR) or P once known (a key packet, or completion). */
  frameType: 'I' | 'P' | null;
  sizeBytes: number;
  /** Distinct packets received. */
  packets: number;
  duplicates: number;
  firstRecvMs: number | null;
  /** The last new packet's arrival (the latency components are measured along it). */
  lastRecvMs: number | null;
  completeMs: number | null;
  decodeStartMs: number | null;
  decodeEndMs: number | null;
  renderMs: number | null;
  /** Which stream's version of this picture was rendered (null when none was, or not yet). */
  renderedFrom: StreamKind | null;
  /** null while open or when rendered. */
  fate: FrameFate | null;
  /** Jitter-buffer state when the frame was scheduled for decoding. */
  jitterEstimateMs: number | null;
  currentDelayMs: number | null;
  targetDelayMs: number | null;
  /** The frame delay variation this version fed to the jitter estimator (null: it did not feed it). */
  jitterFrameDelayMs: number | null;
}

/** Settled ids remembered exactly per stream: ~68 s at 60 fps, as the assembler's memory. */
export const SETTLED_MEMORY = 4096;

interface Settled {
  ids: Set<number>;
  /** Every id at or below it counts as settled (its exact entry was forgotten). */
  floor: number;
}

export class FrameRecords {
  private readonly open = new Map<string, ReceivedFrame>();
  private readonly settled: Record<StreamKind, Settled> = {
    primary: { ids: new Set(), floor: -Infinity },
    backup: { ids: new Set(), floor: -Infinity },
  };

  constructor(private readonly memory = SETTLED_MEMORY) {}

  /** The frame's open record, a new one if it has none yet, or null when it already settled. */
  openRecord(stream: StreamKind, frameId: number): ReceivedFrame | null {
    const existing = this.open.get(frameKey(stream, frameId));
    if (existing) return existing;
    if (this.isSettled(stream, frameId)) return null;
    const rec = emptyRecord(stream, frameId);
    this.open.set(frameKey(stream, frameId), rec);
    return rec;
  }

  /** The frame's open record, if it has one. */
  get(stream: StreamKind, frameId: number): ReceivedFrame | undefined {
    return this.open.get(frameKey(stream, frameId));
  }

  isSettled(stream: StreamKind, frameId: number): boolean {
    const w = this.settled[stream];
    return frameId <= w.floor || w.ids.has(frameId);
  }

  /** Settles an open record; true the first time only, when the caller reports it. */
  close(rec: ReceivedFrame): boolean {
    const k = frameKey(rec.stream, rec.frameId);
    if (this.open.get(k) !== rec) return false;
    this.open.delete(k);
    const w = this.settled[rec.stream];
    w.ids.add(rec.frameId);
    if (w.ids.size > this.memory) {
      const oldest = w.ids.values().next().value as number;
      w.ids.delete(oldest);
      w.floor = Math.max(w.floor, oldest);
    }
    return true;
  }

  /** The open records, oldest first by insertion. */
  openRecords(): ReceivedFrame[] {
    return [...this.open.values()];
  }
}

function emptyRecord(stream: StreamKind, frameId: number): ReceivedFrame {
  return {
    frameId,
    stream,
    frameType: null,
    sizeBytes: 0,
    packets: 0,
    duplicates: 0,
    firstRecvMs: null,
    lastRecvMs: null,
    completeMs: null,
    decodeStartMs: null,
    decodeEndMs: null,
    renderMs: null,
    renderedFrom: null,
    fate: null,
    jitterEstimateMs: null,
    currentDelayMs: null,
    targetDelayMs: null,
    jitterFrameDelayMs: null,
  };
}
