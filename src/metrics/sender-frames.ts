/**
 * sender-frames.csv from the send path's frame events: one row per frame per stream,
 * written when the frame has left the pacer (or was dropped, or the run stopped first).
 */
import type { SenderFrameEvent, EncodedFrameEvent } from '../sender/frame-events';
import { frameKey, type StreamKind } from '../rtp/types';
import type { SenderFrameRow } from './rows';

export class SenderFrameLog {
  private readonly encoded = new Map<string, EncodedFrameEvent>();

  constructor(private readonly write: (row: SenderFrameRow) => void) {}

  on(e: SenderFrameEvent): void {
    if (e.kind === 'encoded') {
      this.encoded.set(frameKey(e.stream, e.frameId), e);
    } else if (e.kind === 'dropped') {
      this.write({ ...base(e), dropped: e.reason });
    } else {
      const enc = this.encoded.get(frameKey(e.stream, e.frameId));
      if (!enc) return;
      this.encoded.delete(frameKey(e.stream, e.frameId));
      this.write({
        ...base(enc),
        frame_type: enc.key ? 'I' : 'P',
        size_bytes: enc.sizeBytes,
        qp: enc.qp ?? '',
        packets: e.packets,
        encode_start_ms: enc.encodeStartMs,
        encode_end_ms: enc.encodeEndMs,
        pacer_enqueue_ms: e.enqueueMs,
        first_sent_ms: e.firstSentMs ?? '',
        last_sent_ms: e.lastSentMs ?? '',
        dropped: e.complete ? '' : (e.unsent ?? 'stopped'),
      });
    }
  }
}

function base(e: { frameId: number; stream: StreamKind; sourceIndex: number; rtpTimestamp: number; captureMs: number }): SenderFrameRow {
  return {
    frame_id: e.frameId,
    stream: e.stream,
    source_index: e.sourceIndex,
    frame_type: '',
    size_bytes: 0,
    qp: '',
    packets: 0,
    rtp_timestamp: e.rtpTimestamp,
    capture_ms: e.captureMs,
    encode_start_ms: '',
    encode_end_ms: '',
    pacer_enqueue_ms: '',
    first_sent_ms: '',
    last_sent_ms: '',
    dropped: '',
  };
}
