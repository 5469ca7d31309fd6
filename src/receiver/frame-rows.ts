/**
 * The receiver's per-frame rows (receiver-frames.csv): at most one row per (frame id,
 * stream), open while the frame is in flight, written once. A packet that turns up after
 * its frame's row was written (a retransmission that crossed the original, a duplicate,
 * a lost packet recovered after the frame was given up) must not open a second row for
 * the same frame: the join would see two versions of one frame, and a late "incomplete"
 * copy would hide the rendered one. So the ids of written rows are remembered per stream.
 *
 * Memory: the last WRITTEN_MEMORY ids per stream exactly; below that a floor (the highest
 * id forgotten so far) stands in for them, so a straggler of any older frame is still
 * recognised.
 */
import type { ReceiverFrameRow } from '../metrics/rows';
import type { StreamKind } from '../rtp/types';

/** Written ids remembered exactly per stream: ~68 s at 60 fps, as the assembler's memory. */
export const WRITTEN_MEMORY = 4096;

interface Written {
  ids: Set<number>;
  /** Every id at or below it counts as written (its exact entry was forgotten). */
  floor: number;
}

export class FrameRows {
  private readonly open = new Map<string, ReceiverFrameRow>();
  private readonly written: Record<StreamKind, Written> = {
    primary: { ids: new Set(), floor: -Infinity },
    backup: { ids: new Set(), floor: -Infinity },
  };

  constructor(private readonly memory = WRITTEN_MEMORY) {}

  /** The frame's open row, a new one if it has none yet, or null when its row was already written. */
  openRow(stream: StreamKind, frameId: number): ReceiverFrameRow | null {
    const existing = this.open.get(key(stream, frameId));
    if (existing) return existing;
    if (this.isWritten(stream, frameId)) return null;
    const row = emptyRow(stream, frameId);
    this.open.set(key(stream, frameId), row);
    return row;
  }

  /** The frame's open row, if it has one. */
  get(stream: StreamKind, frameId: number): ReceiverFrameRow | undefined {
    return this.open.get(key(stream, frameId));
  }

  isWritten(stream: StreamKind, frameId: number): boolean {
    const w = this.written[stream];
    return frameId <= w.floor || w.ids.has(frameId);
  }

  /** Closes an open row; true the first time only, when the caller writes it. */
  close(row: ReceiverFrameRow): boolean {
    const k = key(row.stream, row.frame_id);
    if (this.open.get(k) !== row) return false;
    this.open.delete(k);
    const w = this.written[row.stream];
    w.ids.add(row.frame_id);
    if (w.ids.size > this.memory) {
      const oldest = w.ids.values().next().value as number;
      w.ids.delete(oldest);
      w.floor = Math.max(w.floor, oldest);
    }
    return true;
  }

  /** The open rows, oldest first by insertion. */
  openRows(): ReceiverFrameRow[] {
    return [...this.open.values()];
  }
}

function key(stream: StreamKind, frameId: number): string {
  return `${stream}:${frameId}`;
}

function emptyRow(stream: StreamKind, frameId: number): ReceiverFrameRow {
  return {
    frame_id: frameId,
    stream,
    frame_type: '',
    size_bytes: 0,
    packets: 0,
    duplicates: 0,
    first_recv_ms: '',
    last_recv_ms: '',
    complete_ms: '',
    decode_start_ms: '',
    decode_end_ms: '',
    render_ms: '',
    rendered: 0,
    rendered_from: '',
    not_rendered_reason: '',
    jitter_estimate_ms: '',
    current_delay_ms: '',
  };
}
