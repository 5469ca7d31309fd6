/**
 * The receive path: RTP → frame assembly → jitter buffer (libwebrtc's jitter estimator
 * and timing) → H.264 decode → render at the render time.
 *
 * One decode chain per stream (its own decoder and reference state), one timing model
 * and one jitter estimator for both, one render order. In dual mode (DESIGN.md §2):
 * - each picture is rendered at most once, in order, from whichever version becomes
 *   decodable first (normally the backup P while the primary I-frame is in flight);
 * - a frame whose picture was already rendered (the late I-frame, the primary P-frames
 *   behind it, a backup frame after the primary caught up) is decoded at once as a
 *   reference, never rendered and never waits for a render time; once the primary chain
 *   holds the picture due next, rendering returns to the primary stream;
 * - the jitter estimator sees each picture once, at its first complete version, so the
 *   I-frame that is only a reference does not feed it;
 * - a primary I-frame complete triggers the "I-frame complete" feedback;
 * - backup frames that start an episode name their reference (frame-ref extension): the
 *   last backup picture (episodic) or a seed IDR the receiver builds from its own decoded
 *   primary picture and checks against the sender's hash (shared). A decode that would
 *   use a wrong reference is reported as undecodable, never rendered.
 */
import type { Clock, Timer } from '../clock';
import type { EncoderConfig, VideoFrame } from '../media/codec';
import { x264Codecs, type Codecs, type Decoder } from '../media/codecs';
import { seedDecoder } from '../media/backup-seed';
import type { NotRenderedReason, ReceiverEventRow, ReceiverFrameRow } from '../metrics/rows';
import type { RtpPacket, StreamKind } from '../rtp/types';
import { FrameAssembler, type AssembledFrame } from './frame-assembler';
import { FrameRows } from './frame-rows';
import { InterFrameDelayVariation, JitterEstimator, Timing } from './timing';

/** libwebrtc's max wait for a decodable frame: 200 ms when a key frame is required, 3000 ms otherwise. */
export const MAX_WAIT_FOR_KEYFRAME_MS = 200;
export const MAX_WAIT_FOR_FRAME_MS = 3000;
const EXPIRE_INTERVAL_MS = 500;
/** Decoded primary pictures kept as possible seeds for shared-reference backups. */
const SEED_CANDIDATES = 8;

export interface VideoReceiverOptions {
  clock: Clock;
  timer: Timer;
  /** Decoders (and the encoder that rebuilds shared seeds); default beamcoder's. */
  codecs?: Codecs;
  /** Which stream each media SSRC carries. */
  streams: Map<number, StreamKind>;
  /** The sender's encoder parameters, needed to build shared-reference seeds. */
  encoder?: EncoderConfig;
  /** Hands a rendered picture on (the recorder); called in render order, once per picture. */
  render: (frame: VideoFrame, frameId: number, renderMs: number, stream: StreamKind) => void;
  /** Called once per frame when its row is final. */
  onFrameDone: (row: ReceiverFrameRow) => void;
  onEvent?: (row: ReceiverEventRow) => void;
  /** The primary stream needs a key frame (send a PLI). */
  onKeyFrameNeeded?: (reason: string) => void;
  /** Dual mode: the primary I-frame of picture `frameId` is complete (send the feedback). */
  onIFrameComplete?: (frameId: number) => void;
  /**
   * Playout delay bounds (libwebrtc's playout-delay semantics). min 0 with max ≤ 500 ms
   * selects libwebrtc's low-latency path: render as soon as decoded, decodes paced 8 ms apart.
   */
  playoutDelayMs?: { min: number; max: number };
}

interface Chain {
  stream: StreamKind;
  decoder: Decoder | null;
  complete: Map<number, AssembledFrame>;
  lastDecodedId: number;
  /** Primary: waiting for a key frame after a broken chain. */
  needKey: boolean;
  busy: boolean;
  wakeTimer: unknown;
  waitingSinceMs: number | null;
}

export class VideoReceiver {
  readonly assembler = new FrameAssembler();
  readonly timing: Timing;
  readonly jitter = new JitterEstimator();
  private readonly ifd = new InterFrameDelayVariation();
  private readonly chains: Record<StreamKind, Chain>;
  private readonly rows = new FrameRows();
  /** Pictures fed to the jitter estimator (the first complete version of each). */
  private readonly timed = new Set<number>();
  private readonly renderedFrom = new Map<number, StreamKind>();
  private readonly seedCandidates: { frameId: number; frame: VideoFrame; pts: number }[] = [];
  private nextRenderId = 0;
  private lastRenderedStream: StreamKind | null = null;
  private renderChain: Promise<void> = Promise.resolve();
  private lastRenderMs = -Infinity;
  private lastExpireMs = -Infinity;
  private stopped = false;
  private readonly codecs: Codecs;
  malformedPackets = 0;
  paddingPackets = 0;
  /**
   * Packets ignored because their frame is settled: its row was already written (a
   * retransmission or copy arriving after the frame was rendered or given up), or the
   * assembler had already dropped the frame.
   */
  latePackets = 0;
  framesRendered = 0;
  decoderErrors = 0;

  constructor(private readonly o: VideoReceiverOptions) {
    this.timing = new Timing({
      startMs: o.clock.now(),
      minPlayoutDelayMs: o.playoutDelayMs?.min,
      maxPlayoutDelayMs: o.playoutDelayMs?.max,
    });
    this.codecs = o.codecs ?? x264Codecs;
    const chain = (stream: StreamKind, decoder: Decoder | null): Chain => ({
      stream,
      decoder,
      complete: new Map(),
      lastDecodedId: -1,
      needKey: true,
      busy: false,
      wakeTimer: null,
      waitingSinceMs: null,
    });
    this.chains = { primary: chain('primary', this.codecs.openDecoder()), backup: chain('backup', null) };
  }

  get dual(): boolean {
    return [...this.o.streams.values()].includes('backup');
  }

  /** One received RTP packet of `stream` (parsed and counted by the session). */
  onPacket(pkt: RtpPacket, stream: StreamKind, arrivalMs: number): void {
    const fid = pkt.extensions.frameId;
    if (!fid) {
      // Padding-only packets (bandwidth probes) count for reception statistics, transport
      // feedback and NACK, not for frames.
      if (pkt.payload.length === 0) this.paddingPackets++;
      else this.malformedPackets++;
      return;
    }

    const row = this.rows.openRow(stream, fid.frameId);
    if (!row) {
      // Its row is written: a second row for the same frame would contradict the first.
      this.latePackets++;
      return;
    }
    const { outcome, frames } = this.assembler.place(pkt, arrivalMs);
    if (outcome === 'new') {
      if (row.first_recv_ms === '') row.first_recv_ms = arrivalMs;
      row.last_recv_ms = arrivalMs;
      row.packets++;
      if (fid.key) row.frame_type = 'I';
    } else if (outcome === 'duplicate') {
      // Not a receive time of the frame: last_recv_ms stays its last new packet's arrival,
      // which the latency components are measured along.
      row.duplicates++;
    } else {
      this.latePackets++;
    }

    for (const f of frames) this.onComplete(f, stream);
    if (arrivalMs - this.lastExpireMs > EXPIRE_INTERVAL_MS) this.expire(arrivalMs);
    this.scheduleAll();
  }

  /**
   * Frees frames that can no longer complete in time (older than libwebrtc's 3 s max
   * wait) and reports frames whose packets do not form a valid H.264 payload.
   */
  private expire(now: number): void {
    this.lastExpireMs = now;
    for (const d of this.assembler.expire(now, MAX_WAIT_FOR_FRAME_MS)) {
      const stream = this.o.streams.get(d.ssrc);
      const row = stream && this.rows.get(stream, d.frameId);
      if (row && d.reason === 'malformed') this.finish(row, 'undecodable');
    }
  }

  private onComplete(f: AssembledFrame, stream: StreamKind): void {
    // The packet completing it opened (or found) its row in onRtp.
    const row = this.rows.get(stream, f.frameId);
    if (!row) return;
    row.complete_ms = f.completeMs;
    row.size_bytes = f.sizeBytes;
    row.frame_type = f.key ? 'I' : 'P';
    if (stream === 'primary' && f.key && this.dual) this.o.onIFrameComplete?.(f.frameId);
    const chain = this.chains[stream];
    if (f.frameId <= chain.lastDecodedId) {
      // Completed after its chain moved past it: it can never be decoded now.
      this.finish(row, 'late');
      return;
    }
    if (!this.timed.has(f.frameId)) {
      // libwebrtc feeds the jitter estimator with the frame delay variation between
      // consecutive complete frames (last packet's arrival vs RTP timestamp delta).
      this.timed.add(f.frameId);
      const now = this.o.clock.now();
      const delay = this.ifd.calculate(f.rtpTimestamp, f.lastRecvMs);
      if (delay !== undefined) this.jitter.updateEstimate(delay, f.sizeBytes, now);
      this.timing.incomingTimestamp(f.rtpTimestamp, f.lastRecvMs);
    }
    chain.complete.set(f.frameId, f);
  }

  private scheduleAll(): void {
    this.schedule(this.chains.primary);
    if (this.dual) this.schedule(this.chains.backup);
  }

  /** The oldest complete frame ahead of the chain, if it can be decoded now. */
  private nextDecodable(c: Chain): AssembledFrame | null {
    let next: AssembledFrame | null = null;
    for (const f of c.complete.values()) {
      if (f.frameId > c.lastDecodedId && (!c.needKey || f.key || c.stream === 'backup') && (!next || f.frameId < next.frameId)) next = f;
    }
    if (!next) return null;
    if (next.key) return next;
    if (c.stream === 'primary') {
      if (!c.needKey && next.frameId - (next.refDelta || 1) === c.lastDecodedId) return next;
      // As libwebrtc's frame buffer: a complete key frame starts a new decodable sequence,
      // so the chain jumps to it rather than wait for the frames missing before it.
      let key: AssembledFrame | null = null;
      for (const f of c.complete.values()) if (f.key && f.frameId > c.lastDecodedId && (!key || f.frameId < key.frameId)) key = f;
      return key;
    }
    // Backup: an episode start names its reference; inside an episode frames follow on.
    if (next.frameRef) {
      // A seed is built at decode time from the primary picture it names: wait until the
      // primary chain has decoded that picture (or moved past it, and then it fails).
      if (next.frameRef.seedHash !== null) return this.chains.primary.lastDecodedId >= next.frameRef.refFrameId ? next : null;
      return next.frameRef.refFrameId === c.lastDecodedId && c.decoder ? next : null;
    }
    return c.decoder && next.frameId - (next.refDelta || 1) === c.lastDecodedId ? next : null;
  }

  private schedule(c: Chain): void {
    if (c.busy || this.stopped) return;
    const now = this.o.clock.now();
    const f = this.nextDecodable(c);
    if (!f) {
      if (c.stream === 'primary') this.armGiveUp(c, now);
      else this.skipBrokenBackup(c);
      return;
    }
    c.waitingSinceMs = null;
    if (f.frameId < this.nextRenderId || this.primaryWillRender(c, f)) {
      // Its picture is shown already (or the primary has it): decode now, as a reference.
      this.decode(c, f, null);
      return;
    }
    this.timing.setJitterDelayMs(this.jitter.getJitterEstimateMs(1, undefined, now));
    this.timing.updateCurrentDelay(f.rtpTimestamp);
    const renderMs = this.timing.renderTimeMs(f.rtpTimestamp, now);
    const waitMs = this.timing.maxWaitingTimeMs(renderMs, now);
    if (waitMs > 0) {
      this.wake(c, waitMs, () => {
        const again = c.complete.get(f.frameId);
        if (!again || c.busy) return this.schedule(c);
        if (f.frameId < this.nextRenderId || this.primaryWillRender(c, f)) return this.decode(c, f, null);
        this.decode(c, f, this.timing.renderTimeMs(f.rtpTimestamp, this.o.clock.now()));
      });
      return;
    }
    this.decode(c, f, renderMs);
  }

  /** A backup frame defers to the primary chain when that one holds the same picture, decodable. */
  private primaryWillRender(c: Chain, f: AssembledFrame): boolean {
    if (c.stream !== 'backup') return false;
    const p = this.chains.primary;
    const pf = p.complete.get(f.frameId);
    return !!pf && this.nextDecodable(p) === pf;
  }

  /** Backup frames that cannot be decoded while a later episode start can: give them up. */
  private skipBrokenBackup(c: Chain): void {
    const starts = [...c.complete.values()].filter((f) => f.frameId > c.lastDecodedId && (f.key || f.frameRef?.seedHash != null));
    if (starts.length === 0) return;
    const firstStart = Math.min(...starts.map((f) => f.frameId));
    const broken = [...c.complete.keys()].filter((id) => id < firstStart);
    if (broken.length === 0) return; // the start itself is waiting (e.g. for its seed picture)
    for (const id of broken) {
      c.complete.delete(id);
      const row = this.rows.get('backup', id);
      if (row) this.finish(row, 'undecodable');
    }
    c.decoder = null;
    this.schedule(c);
  }

  /** Missing primary frames: after libwebrtc's max wait, give up on them and wait for a key frame. */
  private armGiveUp(c: Chain, now: number): void {
    const missingAhead = [...c.complete.keys()].some((id) => id > c.lastDecodedId);
    if (!missingAhead) {
      c.waitingSinceMs = null;
      return;
    }
    c.waitingSinceMs ??= now;
    const limit = c.needKey ? MAX_WAIT_FOR_KEYFRAME_MS : MAX_WAIT_FOR_FRAME_MS;
    const left = c.waitingSinceMs + limit - now;
    if (left <= 0) {
      // libwebrtc requests a key frame when it gave up waiting, and again every 200 ms
      // while it still waits for one.
      c.waitingSinceMs = now;
      this.keyFrameNeeded(c.needKey ? 'still no key frame' : `no decodable frame for ${limit} ms`);
      this.wake(c, MAX_WAIT_FOR_KEYFRAME_MS, () => this.schedule(c));
      return;
    }
    this.wake(c, left, () => this.schedule(c));
  }

  private wake(c: Chain, ms: number, fn: () => void): void {
    if (c.wakeTimer !== null) this.o.timer.clearTimeout(c.wakeTimer);
    c.wakeTimer = this.o.timer.setTimeout(() => {
      c.wakeTimer = null;
      fn();
    }, ms);
  }

  /** Decodes `f` on chain `c`; renders it at `renderMs` unless null (reference only). */
  private decode(c: Chain, f: AssembledFrame, renderMs: number | null): void {
    if (c.wakeTimer !== null) this.o.timer.clearTimeout(c.wakeTimer);
    c.wakeTimer = null;
    c.busy = true;
    c.complete.delete(f.frameId);
    // Frames skipped over to reach this one (a broken chain) can never be decoded now.
    for (const row of this.rows.openRows()) {
      if (row.stream === c.stream && row.frame_id < f.frameId && row.frame_id > c.lastDecodedId && row.not_rendered_reason === '' && row.rendered === 0) {
        c.complete.delete(row.frame_id);
        this.finish(row, row.complete_ms === '' ? 'incomplete' : 'undecodable');
      }
    }
    // Open: every path that writes a row first takes its frame out of the complete set.
    const row = this.rows.get(c.stream, f.frameId) as ReceiverFrameRow;
    const start = this.o.clock.now();
    row.decode_start_ms = start;
    if (renderMs !== null) this.timing.setLastDecodeScheduledTimestamp(start);
    row.jitter_estimate_ms = this.timing.jitterDelayMs();
    row.current_delay_ms = this.timing.currentDelayMs();
    this.decodeOn(c, f)
      .then(
        (pictures) => this.onDecoded(c, f, row, renderMs, start, pictures),
        (e: Error) => {
          this.event('seed-failed', c.stream, f.frameId, e.message);
          this.onDecoded(c, f, row, renderMs, start, []);
        },
      )
      .finally(() => {
        c.busy = false;
        this.scheduleAll();
      });
  }

  /** Runs the decoder of chain `c`, first (re)building it when `f` starts a new reference chain. */
  private async decodeOn(c: Chain, f: AssembledFrame): Promise<VideoFrame[]> {
    if (c.stream === 'backup') {
      if (f.key) {
        c.decoder = this.codecs.openDecoder();
      } else if (f.frameRef?.seedHash != null) {
        c.decoder = null;
        const basis = this.seedCandidates.find((p) => p.frameId === f.frameRef!.refFrameId);
        if (!basis) throw new Error(`no decoded primary picture ${f.frameRef.refFrameId} to build the seed from`);
        if (!this.o.encoder) throw new Error('the offer did not describe the encoder: cannot build a seed');
        const seed = await seedDecoder(this.o.encoder, basis.frame, basis.pts, f.frameRef.seedHash, this.codecs);
        c.decoder = seed.decoder;
        this.event('seed-built', 'backup', f.frameId, `from primary picture ${basis.frameId}, hash ${seed.hash.toString(16)}`);
      }
    }
    if (!c.decoder) throw new Error('no decoder state for this frame');
    return c.decoder.decode(f.annexB, f.rtpTimestamp);
  }

  private onDecoded(c: Chain, f: AssembledFrame, row: ReceiverFrameRow, renderMs: number | null, start: number, pictures: VideoFrame[]): void {
    const end = this.o.clock.now();
    row.decode_end_ms = end;
    c.lastDecodedId = f.frameId;
    if (pictures.length !== 1) {
      // A decode that yields no picture (or several) means the reference chain is not
      // what the encoder used: never render it; the primary waits for a key frame.
      this.decoderErrors++;
      this.event('decoder-error', c.stream, f.frameId, `${pictures.length} pictures from one access unit`);
      if (c.stream === 'primary') this.keyFrameNeeded('decoder error');
      else c.decoder = null;
      this.finish(row, 'undecodable');
      return;
    }
    if (c.stream === 'primary') {
      c.needKey = false;
      this.seedCandidates.push({ frameId: f.frameId, frame: pictures[0], pts: f.rtpTimestamp });
      if (this.seedCandidates.length > SEED_CANDIDATES) this.seedCandidates.shift();
    }
    // Decode-time statistics follow what a rendered frame costs; reference-only decodes
    // (catching up behind a late I-frame) run back to back and would skew them.
    if (renderMs === null || f.frameId < this.nextRenderId) {
      const other = this.renderedFrom.get(f.frameId);
      row.rendered_from = other ?? '';
      this.finish(row, other ? 'superseded' : 'late');
      return;
    }
    this.timing.addDecodeTime(end - start, end);
    this.timing.updateCurrentDelayAfterDecode(renderMs, end);
    this.nextRenderId = f.frameId + 1;
    this.renderedFrom.set(f.frameId, c.stream);
    if (this.lastRenderedStream !== null && this.lastRenderedStream !== c.stream) {
      this.event('render-switch', c.stream, f.frameId, `rendering from the ${c.stream} stream`);
    }
    this.lastRenderedStream = c.stream;
    const pic = pictures[0];
    // Renders are chained so pictures reach the recorder in order even if render times cross.
    const at = Math.max(renderMs, this.lastRenderMs);
    this.lastRenderMs = at;
    this.renderChain = this.renderChain.then(async () => {
      const wait = at - this.o.clock.now();
      if (wait > 0) await new Promise((r) => this.o.timer.setTimeout(() => r(undefined), wait));
      const now = this.o.clock.now();
      this.o.render(pic, f.frameId, now, c.stream);
      row.render_ms = now;
      row.rendered = 1;
      row.rendered_from = c.stream;
      this.framesRendered++;
      this.finish(row, '');
    });
  }

  /**
   * The primary chain cannot continue without a key frame (a packet that cannot be
   * recovered, a decoder error, waiting too long): wait for one and ask the sender (PLI).
   */
  private keyFrameNeeded(reason: string): void {
    this.chains.primary.needKey = true;
    this.event('keyframe-request', 'primary', this.chains.primary.lastDecodedId + 1, reason);
    this.o.onKeyFrameNeeded?.(reason);
  }

  /** From outside (e.g. NACK gave up on a packet): stop waiting for the lost frame. */
  requestKeyFrame(reason: string): void {
    this.keyFrameNeeded(reason);
    this.scheduleAll();
  }

  private event(event: ReceiverEventRow['event'], stream: StreamKind | '', frameId: number, detail: string): void {
    this.o.onEvent?.({ time_ms: this.o.clock.now(), event, stream, frame_id: frameId, detail });
  }

  private finish(row: ReceiverFrameRow, reason: NotRenderedReason): void {
    if (!this.rows.close(row)) return;
    row.not_rendered_reason = reason;
    if (row.rendered_from === '') row.rendered_from = this.renderedFrom.get(row.frame_id) ?? '';
    this.o.onFrameDone(row);
  }

  /** Waits until every decodable frame is decoded and rendered (bounded), then finalizes all rows. */
  async drainAndClose(timeoutMs: number): Promise<void> {
    const deadline = this.o.clock.now() + timeoutMs;
    const pending = () =>
      Object.values(this.chains).some((c) => c.busy || (c.stream === 'backup' && !this.dual ? false : this.nextDecodable(c) !== null));
    while (pending() && this.o.clock.now() < deadline) {
      await new Promise((r) => this.o.timer.setTimeout(() => r(undefined), 10));
    }
    await Promise.race([this.renderChain, new Promise((r) => this.o.timer.setTimeout(() => r(undefined), Math.max(0, deadline - this.o.clock.now())))]);
    this.stopped = true;
    for (const c of Object.values(this.chains)) if (c.wakeTimer !== null) this.o.timer.clearTimeout(c.wakeTimer);
    for (const row of this.rows.openRows().sort((a, b) => a.frame_id - b.frame_id)) {
      this.finish(row, row.complete_ms === '' ? 'incomplete' : 'stopped');
    }
  }
}
