/**
 * Frame assembly: RTP packets in arrival order in, complete frames out.
 *
 * A frame is identified by (SSRC, frame id from our frame-id extension), not by RTP
 * timestamp, because the two streams of the dual-stream scheme carry the same picture
 * (same timestamp) and each decoder restarts its own counters (DESIGN.md §2). Its
 * packets are the sequence numbers from the packet flagged start-of-frame to the one
 * flagged end-of-frame (or carrying the RTP marker, RFC 6184 §5.1), sequence numbers
 * unwrapped per SSRC across 65535 → 0 (RFC 3550 §5.1). It is complete when all of them
 * are present, whatever order they came in; this is libwebrtc's PacketBuffer rule
 * (first_packet_in_frame … marker, contiguous) without its assumption that a frame
 * begins where the previous one ended, since we have explicit start flags.
 *
 * Policies (the receiver owns every decision beyond assembly):
 *   - Reordering: any order completes a frame; there is no "too old" cut-off, so a frame
 *     older than the newest completed one of its SSRC still completes.
 *   - Duplicates: counted (per frame while pending, globally always) and ignored; packets
 *     of a frame that already completed are duplicates and never complete it again.
 *   - Loss: an incomplete frame waits until expire() drops it (reason 'expired'). Later
 *     packets of a dropped frame are counted as late and ignored, so one frame is never
 *     reported twice.
 *   - A complete frame whose payloads do not depacketize is dropped with reason
 *     'malformed'; insert() never throws for packet contents. Those drops are queued and
 *     returned by the next expire() call, with the aged-out ones.
 *   - Packets without the frame-id extension cannot be placed and are counted.
 * Memory: pending frames live until completed or expired; the ids of finished frames are
 * kept per SSRC for the last FINISHED_MEMORY frames to recognise their stragglers.
 */
import { depacketizeH264 } from '../rtp/h264';
import { SeqUnwrapper } from '../rtp/seq';
import type { FrameRefExt, RtpPacket } from '../rtp/types';

export interface AssembledFrame {
  ssrc: number;
  frameId: number;
  rtpTimestamp: number;
  key: boolean;
  /** Frames back to the reference (0: the previous frame id). */
  refDelta: number;
  /** An explicit reference (first frame of a backup episode), from our frame-ref extension. */
  frameRef: FrameRefExt | null;
  /** Annex B access unit with 4-byte start codes (depacketizeH264). */
  annexB: Buffer;
  /** Sum of the RTP payload bytes of the frame's packets. */
  sizeBytes: number;
  packets: number;
  /** Wire sequence numbers of the first (start flag) and last (end flag / marker) packets. */
  firstSeq: number;
  lastSeq: number;
  /** Earliest and latest arrival among the frame's packets. */
  firstRecvMs: number;
  lastRecvMs: number;
  /** Arrival time of the packet that completed the frame. */
  completeMs: number;
  /** Duplicate packets of this frame received before it completed. */
  duplicates: number;
}

export type DropReason = 'expired' | 'malformed';

/**
 * What insert() made of a packet: a packet new to its frame, a copy of one already held
 * (or of a frame already completed), a packet of a frame already dropped, or a packet that
 * names no frame.
 */
export type InsertOutcome = 'new' | 'duplicate' | 'late' | 'no-frame-id';

export interface InsertResult {
  outcome: InsertOutcome;
  /** Frames that became complete with this packet (at most one). */
  frames: AssembledFrame[];
}

export interface DroppedFrame {
  ssrc: number;
  frameId: number;
  rtpTimestamp: number;
  key: boolean;
  reason: DropReason;
  /** Distinct packets received. */
  packetsReceived: number;
  /** Packets the frame spans, when both its first and last packet arrived; else null. */
  expectedPackets: number | null;
  haveStart: boolean;
  haveEnd: boolean;
  duplicates: number;
  firstRecvMs: number;
  lastRecvMs: number;
  /** When it was dropped: expire()'s now, or the arrival that made a malformed frame whole. */
  droppedMs: number;
  /** Why a malformed frame failed. */
  detail?: string;
}

export interface FrameAssemblerCounters {
  /** Every packet given to insert(). */
  packets: number;
  /** Packets already held, or belonging to a frame already completed. */
  duplicates: number;
  framesCompleted: number;
  /** Expired plus malformed. */
  framesDropped: number;
  framesMalformed: number;
  /** Packets of a frame that was already dropped. */
  latePackets: number;
  packetsWithoutFrameId: number;
}

/** Finished (completed or dropped) frame ids remembered per SSRC: ~68 s at 60 fps. */
export const FINISHED_MEMORY = 4096;

interface Pending {
  ssrc: number;
  frameId: number;
  rtpTimestamp: number;
  key: boolean;
  refDelta: number;
  frameRef: FrameRefExt | null;
  /** By unwrapped sequence number. */
  packets: Map<number, { packet: RtpPacket; arrivalMs: number }>;
  startSeq: number | undefined;
  endSeq: number | undefined;
  firstRecvMs: number;
  lastRecvMs: number;
  duplicates: number;
}

interface StreamState {
  unwrapper: SeqUnwrapper;
  pending: Map<number, Pending>;
  finished: Map<number, 'completed' | 'dropped'>;
}

export class FrameAssembler {
  private readonly streams = new Map<number, StreamState>();
  private droppedQueue: DroppedFrame[] = [];
  private readonly c: FrameAssemblerCounters = {
    packets: 0,
    duplicates: 0,
    framesCompleted: 0,
    framesDropped: 0,
    framesMalformed: 0,
    latePackets: 0,
    packetsWithoutFrameId: 0,
  };

  get counters(): FrameAssemblerCounters {
    return { ...this.c };
  }

  get pendingCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.pending.size;
    return n;
  }

  /** Frames that became complete with this packet (at most one; an array for the caller's loop). */
  insert(packet: RtpPacket, arrivalMs: number): AssembledFrame[] {
    return this.place(packet, arrivalMs).frames;
  }

  /** insert(), also telling how the packet was taken (the receiver's per-frame counts follow it). */
  place(packet: RtpPacket, arrivalMs: number): InsertResult {
    this.c.packets++;
    const fid = packet.extensions.frameId;
    if (!fid) {
      this.c.packetsWithoutFrameId++;
      return { outcome: 'no-frame-id', frames: [] };
    }
    const s = this.stream(packet.ssrc);
    const seq = s.unwrapper.unwrap(packet.sequenceNumber);
    const finished = s.finished.get(fid.frameId);
    if (finished === 'completed') {
      this.c.duplicates++;
      return { outcome: 'duplicate', frames: [] };
    }
    if (finished === 'dropped') {
      this.c.latePackets++;
      return { outcome: 'late', frames: [] };
    }

    let f = s.pending.get(fid.frameId);
    if (!f) {
      f = {
        ssrc: packet.ssrc,
        frameId: fid.frameId,
        rtpTimestamp: packet.timestamp,
        key: false,
        refDelta: 0,
        frameRef: null,
        packets: new Map(),
        startSeq: undefined,
        endSeq: undefined,
        firstRecvMs: arrivalMs,
        lastRecvMs: arrivalMs,
        duplicates: 0,
      };
      s.pending.set(fid.frameId, f);
    }
    if (f.packets.has(seq)) {
      f.duplicates++;
      this.c.duplicates++;
      return { outcome: 'duplicate', frames: [] };
    }
    f.packets.set(seq, { packet, arrivalMs });
    f.firstRecvMs = Math.min(f.firstRecvMs, arrivalMs);
    f.lastRecvMs = Math.max(f.lastRecvMs, arrivalMs);
    f.key ||= fid.key;
    f.refDelta ||= fid.refDelta ?? 0;
    f.frameRef ??= packet.extensions.frameRef ?? null;
    if (fid.start) f.startSeq = f.startSeq === undefined ? seq : Math.min(f.startSeq, seq);
    if (fid.end || packet.marker) f.endSeq = f.endSeq === undefined ? seq : Math.max(f.endSeq, seq);

    if (!isComplete(f)) return { outcome: 'new', frames: [] };
    s.pending.delete(f.frameId);
    return { outcome: 'new', frames: this.finish(s, f, arrivalMs) };
  }

  /**
   * Drops pending frames whose first packet arrived more than `maxAgeMs` before `nowMs`,
   * and returns them together with the malformed frames found by insert() since the last
   * call.
   */
  expire(nowMs: number, maxAgeMs: number): DroppedFrame[] {
    const out = this.droppedQueue;
    this.droppedQueue = [];
    for (const s of this.streams.values()) {
      for (const f of [...s.pending.values()]) {
        if (nowMs - f.firstRecvMs <= maxAgeMs) continue;
        s.pending.delete(f.frameId);
        out.push(this.drop(s, f, 'expired', nowMs));
      }
    }
    return out;
  }

  private finish(s: StreamState, f: Pending, completeMs: number): AssembledFrame[] {
    const start = f.startSeq as number;
    const end = f.endSeq as number;
    if (f.packets.size !== end - start + 1) {
      // Packets of this frame id outside its start..end span: the sender broke its own
      // framing, so what the span holds cannot be trusted to be the whole picture.
      this.droppedQueue.push(this.drop(s, f, 'malformed', completeMs, 'packets outside the start..end span'));
      return [];
    }
    const payloads: Buffer[] = [];
    let sizeBytes = 0;
    for (let q = start; q <= end; q++) {
      const p = (f.packets.get(q) as { packet: RtpPacket }).packet;
      payloads.push(p.payload);
      sizeBytes += p.payload.length;
    }
    let annexB: Buffer;
    try {
      annexB = depacketizeH264(payloads);
    } catch (e) {
      this.droppedQueue.push(this.drop(s, f, 'malformed', completeMs, e instanceof Error ? e.message : String(e)));
      return [];
    }
    this.remember(s, f.frameId, 'completed');
    this.c.framesCompleted++;
    return [
      {
        ssrc: f.ssrc,
        frameId: f.frameId,
        rtpTimestamp: f.rtpTimestamp,
        key: f.key,
        refDelta: f.refDelta,
        frameRef: f.frameRef,
        annexB,
        sizeBytes,
        packets: f.packets.size,
        firstSeq: (f.packets.get(start) as { packet: RtpPacket }).packet.sequenceNumber,
        lastSeq: (f.packets.get(end) as { packet: RtpPacket }).packet.sequenceNumber,
        firstRecvMs: f.firstRecvMs,
        lastRecvMs: f.lastRecvMs,
        completeMs,
        duplicates: f.duplicates,
      },
    ];
  }

  private drop(s: StreamState, f: Pending, reason: DropReason, nowMs: number, detail?: string): DroppedFrame {
    this.remember(s, f.frameId, 'dropped');
    this.c.framesDropped++;
    if (reason === 'malformed') this.c.framesMalformed++;
    const d: DroppedFrame = {
      ssrc: f.ssrc,
      frameId: f.frameId,
      rtpTimestamp: f.rtpTimestamp,
      key: f.key,
      reason,
      packetsReceived: f.packets.size,
      expectedPackets: f.startSeq !== undefined && f.endSeq !== undefined ? f.endSeq - f.startSeq + 1 : null,
      haveStart: f.startSeq !== undefined,
      haveEnd: f.endSeq !== undefined,
      duplicates: f.duplicates,
      firstRecvMs: f.firstRecvMs,
      lastRecvMs: f.lastRecvMs,
      droppedMs: nowMs,
    };
    if (detail !== undefined) d.detail = detail;
    return d;
  }

  private remember(s: StreamState, frameId: number, how: 'completed' | 'dropped'): void {
    s.finished.set(frameId, how);
    if (s.finished.size > FINISHED_MEMORY) {
      const oldest = s.finished.keys().next().value as number;
      s.finished.delete(oldest);
    }
  }

  private stream(ssrc: number): StreamState {
    let s = this.streams.get(ssrc);
    if (!s) {
      s = { unwrapper: new SeqUnwrapper(), pending: new Map(), finished: new Map() };
      this.streams.set(ssrc, s);
    }
    return s;
  }
}

function isComplete(f: Pending): boolean {
  if (f.startSeq === undefined || f.endSeq === undefined) return false;
  const n = f.endSeq - f.startSeq + 1;
  if (n <= 0 || f.packets.size < n) return false;
  for (let q = f.startSeq; q <= f.endSeq; q++) if (!f.packets.has(q)) return false;
  return true;
}
