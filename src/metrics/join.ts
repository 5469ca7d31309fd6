/**
 * Joins the sender's and the receiver's per-frame CSVs by (frame id, stream) into
 * frames.csv, moving receiver times onto the sender's clock, and derives the latency
 * components along the frame's last packet:
 *   e2e = encode + pacer + network + jitter + decode + render_wait.
 */
import { closeSync, existsSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { readMeta, sameClock } from './run-meta';
import { readCsv } from './csv';
import { JOINED_COLUMNS, type ClockRelation, type JoinedFrameRow } from './rows';

export class JoinError extends Error {
  override name = 'JoinError';
}

type Num = number | '';

const num = (v: string | undefined): Num => (v === undefined || v === '' ? '' : Number(v));
const diff = (a: Num, b: Num): Num => (a === '' || b === '' ? '' : Math.round((a - b) * 1000) / 1000);

/** The clock relation the join applies: shared when both peers ran on one kernel. */
export function clockRelation(senderDir: string, receiverDir: string): ClockRelation {
  const s = readMeta(senderDir, 'sender');
  const r = readMeta(receiverDir, 'receiver');
  if (!s || !r) throw new JoinError(`missing sender-meta.json or receiver-meta.json in ${senderDir} / ${receiverDir}`);
  if (sameClock(s.self, r.self)) return { offsetMs: 0, method: 'shared-monotonic-clock', uncertaintyMs: 0, samples: 0 };
  if (s.clock && s.clock.method === 'rtcp-round-trip') return s.clock;
  return { offsetMs: 0, method: 'not-estimated', uncertaintyMs: Number.NaN, samples: 0 };
}

export interface JoinResult {
  rows: JoinedFrameRow[];
  /** Receiver rows left out because another row of the same (frame id, stream) was kept. */
  duplicateReceiverRows: number;
}

/**
 * How much a receiver row knows about its frame: rendered beats complete beats packets
 * received. A receiver writes one row per frame; if a file has two (an older receiver
 * reopened a frame for a late retransmission), the fuller one is the frame's real story.
 */
function completeness(r: Record<string, string>): [number, number, number] {
  return [r.rendered === '1' ? 1 : 0, r.complete_ms ? 1 : 0, Number(r.packets) || 0];
}

function fuller(a: Record<string, string>, b: Record<string, string>): boolean {
  const ca = completeness(a);
  const cb = completeness(b);
  for (let i = 0; i < ca.length; i++) if (ca[i] !== cb[i]) return ca[i] > cb[i];
  return false;
}

/** One receiver row per (frame id, stream): the fullest; ties keep the first written. */
function receiverRowsByFrame(receiver: Record<string, string>[]): { byKey: Map<string, Record<string, string>>; duplicates: number } {
  const byKey = new Map<string, Record<string, string>>();
  let duplicates = 0;
  for (const r of receiver) {
    const k = `${r.stream}:${r.frame_id}`;
    const kept = byKey.get(k);
    if (kept) duplicates++;
    if (!kept || fuller(r, kept)) byKey.set(k, r);
  }
  return { byKey, duplicates };
}

export function joinRows(
  sender: Record<string, string>[],
  receiver: Record<string, string>[],
  clock: ClockRelation,
): JoinResult {
  const { byKey: recv, duplicates } = receiverRowsByFrame(receiver);
  // Per picture: the stream whose version was shown, written on every row of that picture.
  const renderedFrom = new Map<string, JoinedFrameRow['rendered_from']>();
  for (const r of receiver) if (r.rendered === '1') renderedFrom.set(r.frame_id, r.stream as JoinedFrameRow['stream']);
  // Receiver times on the sender's clock.
  const rt = (v: string | undefined): Num => {
    const n = num(v);
    return n === '' ? '' : n - clock.offsetMs;
  };
  const out: JoinedFrameRow[] = [];
  for (const s of sender) {
    const r = recv.get(`${s.stream}:${s.frame_id}`);
    const row: JoinedFrameRow = {
      frame_id: Number(s.frame_id),
      stream: s.stream as JoinedFrameRow['stream'],
      source_index: Number(s.source_index),
      frame_type: (s.frame_type || r?.frame_type || '') as JoinedFrameRow['frame_type'],
      size_bytes: Number(s.size_bytes),
      qp: num(s.qp),
      packets: Number(s.packets),
      received_packets: r ? Number(r.packets) : 0,
      duplicates: r ? Number(r.duplicates) : 0,
      rtp_timestamp: Number(s.rtp_timestamp),
      capture_ms: Number(s.capture_ms),
      encode_start_ms: num(s.encode_start_ms),
      encode_end_ms: num(s.encode_end_ms),
      pacer_enqueue_ms: num(s.pacer_enqueue_ms),
      first_sent_ms: num(s.first_sent_ms),
      last_sent_ms: num(s.last_sent_ms),
      first_recv_ms: rt(r?.first_recv_ms),
      last_recv_ms: rt(r?.last_recv_ms),
      complete_ms: rt(r?.complete_ms),
      decode_start_ms: rt(r?.decode_start_ms),
      decode_end_ms: rt(r?.decode_end_ms),
      render_ms: rt(r?.render_ms),
      rendered: r?.rendered === '1' ? 1 : 0,
      rendered_from: renderedFrom.get(s.frame_id) ?? '',
      not_rendered_reason: (r ? r.not_rendered_reason : s.dropped ? '' : 'incomplete') as JoinedFrameRow['not_rendered_reason'],
      dropped: s.dropped,
      jitter_estimate_ms: num(r?.jitter_estimate_ms),
      current_delay_ms: num(r?.current_delay_ms),
      target_delay_ms: num(r?.target_delay_ms),
      jitter_frame_delay_ms: num(r?.jitter_frame_delay_ms),
      encode_ms: '',
      pacer_ms: '',
      network_ms: '',
      jitter_ms: '',
      decode_ms: '',
      render_wait_ms: '',
      e2e_ms: '',
    };
    row.encode_ms = diff(row.encode_end_ms, row.capture_ms);
    row.pacer_ms = diff(row.last_sent_ms, row.encode_end_ms);
    row.network_ms = diff(row.last_recv_ms, row.last_sent_ms);
    row.jitter_ms = diff(row.decode_start_ms, row.last_recv_ms);
    row.decode_ms = diff(row.decode_end_ms, row.decode_start_ms);
    row.render_wait_ms = diff(row.render_ms, row.decode_end_ms);
    row.e2e_ms = diff(row.render_ms, row.capture_ms);
    out.push(row);
  }
  return { rows: out, duplicateReceiverRows: duplicates };
}

/** Joins SENDER_DIR and RECEIVER_DIR into `outPath` (default: SENDER_DIR/frames.csv). */
export function joinRun(senderDir: string, receiverDir: string, outPath = join(senderDir, 'frames.csv')): string {
  const sp = join(senderDir, 'sender-frames.csv');
  const rp = join(receiverDir, 'receiver-frames.csv');
  if (!existsSync(sp)) throw new JoinError(`no sender-frames.csv in ${senderDir}`);
  if (!existsSync(rp)) throw new JoinError(`no receiver-frames.csv in ${receiverDir}`);
  const clock = clockRelation(senderDir, receiverDir);
  const sender = readCsv(sp);
  const receiver = readCsv(rp);
  const { rows, duplicateReceiverRows } = joinRows(sender, receiver, clock);
  writeFileSync(outPath, stringify(rows, { header: true, columns: JOINED_COLUMNS as string[] }));
  const side = senderDir === receiverDir ? senderDir : join(outPath, '..');
  writeFileSync(join(side, 'clock.json'), JSON.stringify(clock, null, 2) + '\n');
  // What the join left out, so a count that does not add up can be traced.
  const report = { sender_rows: sender.length, receiver_rows: receiver.length, duplicate_receiver_rows: duplicateReceiverRows };
  writeFileSync(join(side, 'join.json'), JSON.stringify(report, null, 2) + '\n');
  return outPath;
}

/**
 * Called by each peer at its end: joins when both sides' metadata in `dir` says they
 * finished writing. A lock file makes sure only one of two peers ending together does it.
 */
export function tryJoin(dir: string): string | null {
  const s = readMeta(dir, 'sender');
  const r = readMeta(dir, 'receiver');
  if (!s?.ended_ms || !r?.ended_ms) return null;
  const lock = join(dir, '.join.lock');
  let fd: number;
  try {
    fd = openSync(lock, 'wx');
  } catch {
    return null;
  }
  try {
    return joinRun(dir, dir);
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}
