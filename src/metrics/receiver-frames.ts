/** receiver-frames.csv: one row per settled frame per stream, from the receiver's own record. */
import type { ReceivedFrame } from '../receiver/frame-records';
import type { ReceiverFrameRow } from './rows';

export function receiverRow(f: ReceivedFrame): ReceiverFrameRow {
  const v = (x: number | null): number | '' => x ?? '';
  return {
    frame_id: f.frameId,
    stream: f.stream,
    frame_type: f.frameType ?? '',
    size_bytes: f.sizeBytes,
    packets: f.packets,
    duplicates: f.duplicates,
    first_recv_ms: v(f.firstRecvMs),
    last_recv_ms: v(f.lastRecvMs),
    complete_ms: v(f.completeMs),
    decode_start_ms: v(f.decodeStartMs),
    decode_end_ms: v(f.decodeEndMs),
    render_ms: v(f.renderMs),
    rendered: f.fate === null ? 1 : 0,
    rendered_from: f.renderedFrom ?? '',
    not_rendered_reason: f.fate ?? '',
    jitter_estimate_ms: v(f.jitterEstimateMs),
    current_delay_ms: v(f.currentDelayMs),
    target_delay_ms: v(f.targetDelayMs),
    jitter_frame_delay_ms: v(f.jitterFrameDelayMs),
  };
}
