/**
 * When each complete frame is decoded, on which chain, whether it is rendered and when —
 * the receiver's policy, as libwebrtc's FrameBuffer + VCMTiming decide it for one stream,
 * extended to the dual stream (DESIGN.md §2). Pure: complete frames, decode results, wake-ups
 * and the time go in; actions come out (decode X on chain Y, render X at T, give frames up,
 * ask for a key frame, send the I-frame-complete feedback, wake me at T). It owns the timing
 * model (jitter estimator, VCMTiming), one for both streams.
 *
 * One decode chain per stream, one render order:
 * - each picture is rendered at most once, in order, from whichever version becomes
 *   decodable first (normally the backup P while the primary I-frame is in flight);
 * - a frame whose picture was already rendered (the late I-frame, the primary P-frames
 *   behind it, a backup frame after the primary caught up) is decoded at once as a
 *   reference, never rendered and never waits for a render time; once the primary chain
 *   holds the picture due next, rendering returns to the primary stream;
 * - the jitter estimator sees each picture once, at its first complete version, so the
 *   I-frame that is only a reference does not feed it;
 * - a primary I-frame complete (dual mode) triggers the "I-frame complete" feedback, and
 *   the primary stream caught up after it the "caught up" feedback (see `complete`);
 * - backup frames that start an episode name their reference (frame-ref extension): the
 *   last backup picture (episodic), or a seed the decode chain builds from the primary
 *   picture it names (shared), which the primary chain must have decoded first.
 */
import type { FrameRefExt, StreamKind } from '../rtp/types';
import type { FrameFate } from './frame-records';
import { InterFrameDelayVariation, JitterEstimator, Timing } from './timing';

/** libwebrtc's max wait for a decodable frame: 200 ms when a key frame is required, 3000 ms otherwise. */
export const MAX_WAIT_FOR_KEYFRAME_MS = 200;
export const MAX_WAIT_FOR_FRAME_MS = 3000;

/** What the scheduler needs of a complete frame (the payload stays with the caller). */
export interface CompleteFrame {
  frameId: number;
  key: boolean;
  /** How many pictures back the frame predicts from (0: unknown / key). */
  refDelta: number;
  frameRef: FrameRefExt | null;
  rtpTimestamp: number;
  /** Arrival of its first and last packets (ms). */
  firstRecvMs: number;
  lastRecvMs: number;
  sizeBytes: number;
}

export type SchedulerAction =
  /** Decode the frame on its stream's chain; `renderAtMs` null: as a reference only. Report with decoded(). */
  | { kind: 'decode'; stream: StreamKind; frameId: number; renderAtMs: number | null; jitterEstimateMs: number; currentDelayMs: number; targetDelayMs: number }
  /** This version of the picture fed the jitter estimator (its first complete version) with this frame delay. */
  | { kind: 'jitter-input'; stream: StreamKind; frameId: number; frameDelayMs: number }
  /** Every open frame of `stream` with afterId < id < beforeId can never be decoded now. */
  | { kind: 'give-up'; stream: StreamKind; afterId: number; beforeId: number }
  /** The frame is settled without being rendered. */
  | { kind: 'settle'; stream: StreamKind; frameId: number; fate: FrameFate; renderedFrom: StreamKind | null }
  /** Show the decoded picture at `atMs` (in order: times never decrease). */
  | { kind: 'render'; stream: StreamKind; frameId: number; atMs: number }
  | { kind: 'key-frame-needed'; frameId: number; reason: string }
  /**
   * Dual mode, feedback on the backup episode of I-frame `frameId`: its I-frame is complete,
   * or the primary stream caught up at picture `pictureId` (the sender's end rule picks one).
   */
  | { kind: 'episode-feedback'; feedback: 'iframe-complete' | 'caught-up'; frameId: number; pictureId: number }
  /** Call wake(stream) at `atMs` (replaces the stream's earlier wake-up). */
  | { kind: 'wake'; stream: StreamKind; atMs: number }
  | { kind: 'cancel-wake'; stream: StreamKind }
  | { kind: 'event'; event: 'render-switch' | 'decoder-error'; stream: StreamKind; frameId: number; detail: string };

interface Chain {
  stream: StreamKind;
  complete: Map<number, CompleteFrame>;
  lastDecodedId: number;
  /** Primary: waiting for a key frame after a broken chain. */
  needKey: boolean;
  /** Backup: the decoder holds a reference (a key frame or a seed was decoded, no error since). */
  hasReference: boolean;
  busy: boolean;
  waitingSinceMs: number | null;
  /** What a wake-up does: decode this frame (its render time came), or look again. */
  onWake: { decode: CompleteFrame } | 'schedule' | null;
  /** The decode in flight: rendered at this time, or a reference (null). */
  decoding: { frameId: number; renderAtMs: number | null; startMs: number } | null;
}

export interface DecodeSchedulerOptions {
  startMs: number;
  /** Two streams (primary + backup) or one. */
  dual: boolean;
  /** Playout delay bounds (libwebrtc's playout-delay semantics); min 0 with max ≤ 500 ms is the low-latency path. */
  playoutDelayMs?: { min: number; max: number };
}

export class DecodeScheduler {
  readonly timing: Timing;
  readonly jitter = new JitterEstimator();
  private readonly ifd = new InterFrameDelayVariation();
  private readonly chains: Record<StreamKind, Chain>;
  /** Pictures fed to the jitter estimator (the first complete version of each). */
  private readonly timed = new Set<number>();
  private readonly renderedFrom = new Map<number, StreamKind>();
  private nextRenderId = 0;
  private lastRenderedStream: StreamKind | null = null;
  private lastRenderMs = -Infinity;
  private stopped = false;
  private out: SchedulerAction[] = [];
  /**
   * The backup episode the receiver sees: the I-frame's picture, whether the I-frame is
   * complete, and when each backup frame of it completed (to compare the primary twins with).
   */
  private episode: { iFrameId: number; iFrameComplete: boolean; backupCompleteMs: Map<number, number> } | null = null;
  private lastPrimaryRtp: number | null = null;
  decoderErrors = 0;

  constructor(private readonly o: DecodeSchedulerOptions) {
    this.timing = new Timing({ startMs: o.startMs, minPlayoutDelayMs: o.playoutDelayMs?.min, maxPlayoutDelayMs: o.playoutDelayMs?.max });
    const chain = (stream: StreamKind): Chain => ({
      stream,
      complete: new Map(),
      lastDecodedId: -1,
      needKey: true,
      hasReference: false,
      busy: false,
      waitingSinceMs: null,
      onWake: null,
      decoding: null,
    });
    this.chains = { primary: chain('primary'), backup: chain('backup') };
  }

  /** A frame of `stream` became complete (call schedule() after the packet's frames). */
  complete(stream: StreamKind, f: CompleteFrame, nowMs: number): SchedulerAction[] {
    if (this.o.dual) this.watchEpisode(stream, f);
    const chain = this.chains[stream];
    if (f.frameId <= chain.lastDecodedId) {
      // Completed after its chain moved past it: it can never be decoded now.
      this.emit({ kind: 'settle', stream, frameId: f.frameId, fate: 'late', renderedFrom: null });
      return this.flush();
    }
    if (!this.timed.has(f.frameId)) {
      // libwebrtc feeds the jitter estimator with the frame delay variation between
      // consecutive complete frames (last packet's arrival vs RTP timestamp delta).
      this.timed.add(f.frameId);
      const delay = this.ifd.calculate(f.rtpTimestamp, f.lastRecvMs);
      if (delay !== undefined) {
        this.jitter.updateEstimate(delay, f.sizeBytes, nowMs);
        this.emit({ kind: 'jitter-input', stream, frameId: f.frameId, frameDelayMs: delay });
      }
      this.timing.incomingTimestamp(f.rtpTimestamp, f.lastRecvMs);
    }
    chain.complete.set(f.frameId, f);
    return this.flush();
  }

  /**
   * Episode feedback. "I-frame complete" when the primary I-frame is. "Caught up" at the
   * first primary P-frame after it whose first packet arrived within one frame interval of
   * its backup twin's completion (or before it): the primary frames are no longer queued
   * behind the I-frame's backlog, so from here the primary can be rendered on time — until
   * then every picture has an earlier backup version, and the late primary frames are only
   * references (their delays never reach the jitter estimator).
   */
  private watchEpisode(stream: StreamKind, f: CompleteFrame): void {
    if (stream === 'backup') {
      if (f.key || f.frameRef) this.episode = { iFrameId: f.frameId, iFrameComplete: false, backupCompleteMs: new Map() };
      this.episode?.backupCompleteMs.set(f.frameId, f.lastRecvMs);
      return;
    }
    const intervalMs = this.lastPrimaryRtp === null ? null : ((f.rtpTimestamp - this.lastPrimaryRtp) >>> 0) / 90;
    this.lastPrimaryRtp = f.rtpTimestamp;
    if (f.key) {
      this.emit({ kind: 'episode-feedback', feedback: 'iframe-complete', frameId: f.frameId, pictureId: f.frameId });
      if (this.episode?.iFrameId === f.frameId) this.episode.iFrameComplete = true;
      return;
    }
    const ep = this.episode;
    if (!ep || !ep.iFrameComplete || f.frameId <= ep.iFrameId || intervalMs === null) return;
    const twin = ep.backupCompleteMs.get(f.frameId);
    if (twin === undefined || f.firstRecvMs - twin <= intervalMs) {
      this.emit({ kind: 'episode-feedback', feedback: 'caught-up', frameId: ep.iFrameId, pictureId: f.frameId });
      this.episode = null;
    }
  }

  /** Looks for work on both chains. */
  schedule(nowMs: number): SchedulerAction[] {
    this.scheduleAll(nowMs);
    return this.flush();
  }

  /** A stream's wake-up came. */
  wake(stream: StreamKind, nowMs: number): SchedulerAction[] {
    const c = this.chains[stream];
    const what = c.onWake;
    c.onWake = null;
    if (what === null || this.stopped) return this.flush();
    if (what === 'schedule') {
      this.scheduleChain(c, nowMs);
    } else {
      const f = what.decode;
      if (!c.complete.has(f.frameId) || c.busy) this.scheduleChain(c, nowMs);
      else if (f.frameId < this.nextRenderId || this.primaryWillRender(c, f)) this.decode(c, f, null, nowMs);
      else this.decode(c, f, this.timing.renderTimeMs(f.rtpTimestamp, nowMs), nowMs);
    }
    return this.flush();
  }

  /**
   * The decode of `frameId` on `stream` ended with `pictures` pictures (exactly one for a
   * decodable frame). A decode that yields none (or several) means the reference chain is
   * not what the encoder used: never rendered; the primary waits for a key frame.
   */
  decoded(stream: StreamKind, frameId: number, pictures: number, nowMs: number): SchedulerAction[] {
    const c = this.chains[stream];
    const d = c.decoding!;
    c.decoding = null;
    c.busy = false;
    c.lastDecodedId = frameId;
    if (pictures !== 1) {
      this.decoderErrors++;
      this.emit({ kind: 'event', event: 'decoder-error', stream, frameId, detail: `${pictures} pictures from one access unit` });
      if (stream === 'primary') this.keyFrameNeeded('decoder error');
      else c.hasReference = false;
      this.emit({ kind: 'settle', stream, frameId, fate: 'undecodable', renderedFrom: null });
    } else {
      if (stream === 'primary') c.needKey = false;
      else c.hasReference = true;
      if (d.renderAtMs === null || frameId < this.nextRenderId) {
        const other = this.renderedFrom.get(frameId) ?? null;
        this.emit({ kind: 'settle', stream, frameId, fate: other ? 'superseded' : 'late', renderedFrom: other });
      } else {
        // Decode-time statistics follow what a rendered frame costs; reference-only decodes
        // (catching up behind a late I-frame) run back to back and would skew them.
        this.timing.addDecodeTime(nowMs - d.startMs, nowMs);
        this.timing.updateCurrentDelayAfterDecode(d.renderAtMs, nowMs);
        this.nextRenderId = frameId + 1;
        this.renderedFrom.set(frameId, stream);
        if (this.lastRenderedStream !== null && this.lastRenderedStream !== stream) {
          this.emit({ kind: 'event', event: 'render-switch', stream, frameId, detail: `rendering from the ${stream} stream` });
        }
        this.lastRenderedStream = stream;
        // Pictures reach the display in order even if render times cross.
        const at = Math.max(d.renderAtMs, this.lastRenderMs);
        this.lastRenderMs = at;
        this.emit({ kind: 'render', stream, frameId, atMs: at });
      }
    }
    this.scheduleAll(nowMs);
    return this.flush();
  }

  /** The stream whose version of picture `frameId` was rendered, if one was. */
  renderedFromOf(frameId: number): StreamKind | null {
    return this.renderedFrom.get(frameId) ?? null;
  }

  /** Whether any decode is running or any chain has a frame it could decode now (a drain waits for these). */
  pending(): boolean {
    return (['primary', 'backup'] as const).some((s) => {
      const c = this.chains[s];
      return c.busy || ((s === 'primary' || this.o.dual) && this.nextDecodable(c) !== null);
    });
  }

  /** No more decodes: wake-ups are cancelled. */
  stop(): SchedulerAction[] {
    this.stopped = true;
    for (const c of Object.values(this.chains)) this.cancelWake(c);
    return this.flush();
  }

  private emit(a: SchedulerAction): void {
    this.out.push(a);
  }

  private flush(): SchedulerAction[] {
    const a = this.out;
    this.out = [];
    return a;
  }

  private scheduleAll(nowMs: number): void {
    this.scheduleChain(this.chains.primary, nowMs);
    if (this.o.dual) this.scheduleChain(this.chains.backup, nowMs);
  }

  /** The oldest complete frame ahead of the chain, if it can be decoded now. */
  private nextDecodable(c: Chain): CompleteFrame | null {
    let next: CompleteFrame | null = null;
    for (const f of c.complete.values()) {
      if (f.frameId > c.lastDecodedId && (!c.needKey || f.key || c.stream === 'backup') && (!next || f.frameId < next.frameId)) next = f;
    }
    if (!next) return null;
    if (next.key) return next;
    if (c.stream === 'primary') {
      if (!c.needKey && next.frameId - (next.refDelta || 1) === c.lastDecodedId) return next;
      // As libwebrtc's frame buffer: a complete key frame starts a new decodable sequence,
      // so the chain jumps to it rather than wait for the frames missing before it.
      let key: CompleteFrame | null = null;
      for (const f of c.complete.values()) if (f.key && f.frameId > c.lastDecodedId && (!key || f.frameId < key.frameId)) key = f;
      return key;
    }
    // Backup: an episode start names its reference; inside an episode frames follow on.
    if (next.frameRef) {
      // A seed is built at decode time from the primary picture it names: wait until the
      // primary chain has decoded that picture (or moved past it, and then it fails).
      if (next.frameRef.seedHash !== null) return this.chains.primary.lastDecodedId >= next.frameRef.refFrameId ? next : null;
      return next.frameRef.refFrameId === c.lastDecodedId && c.hasReference ? next : null;
    }
    return c.hasReference && next.frameId - (next.refDelta || 1) === c.lastDecodedId ? next : null;
  }

  private scheduleChain(c: Chain, now: number): void {
    if (c.busy || this.stopped) return;
    const f = this.nextDecodable(c);
    if (!f) {
      if (c.stream === 'primary') this.armGiveUp(c, now);
      else this.skipBrokenBackup(c, now);
      return;
    }
    c.waitingSinceMs = null;
    if (f.frameId < this.nextRenderId || this.primaryWillRender(c, f)) {
      // Its picture is shown already (or the primary has it): decode now, as a reference.
      this.decode(c, f, null, now);
      return;
    }
    this.timing.setJitterDelayMs(this.jitter.getJitterEstimateMs(1, undefined, now));
    this.timing.updateCurrentDelay(f.rtpTimestamp);
    const renderMs = this.timing.renderTimeMs(f.rtpTimestamp, now);
    const waitMs = this.timing.maxWaitingTimeMs(renderMs, now);
    if (waitMs > 0) {
      this.setWake(c, now + waitMs, { decode: f });
      return;
    }
    this.decode(c, f, renderMs, now);
  }

  /** A backup frame defers to the primary chain when that one holds the same picture, decodable. */
  private primaryWillRender(c: Chain, f: CompleteFrame): boolean {
    if (c.stream !== 'backup') return false;
    const p = this.chains.primary;
    const pf = p.complete.get(f.frameId);
    return !!pf && this.nextDecodable(p) === pf;
  }

  /** Backup frames that cannot be decoded while a later episode start can: give them up. */
  private skipBrokenBackup(c: Chain, now: number): void {
    const starts = [...c.complete.values()].filter((f) => f.frameId > c.lastDecodedId && (f.key || f.frameRef?.seedHash != null));
    if (starts.length === 0) return;
    const firstStart = Math.min(...starts.map((f) => f.frameId));
    const broken = [...c.complete.keys()].filter((id) => id < firstStart);
    if (broken.length === 0) return; // the start itself is waiting (e.g. for its seed picture)
    for (const id of broken) {
      c.complete.delete(id);
      this.emit({ kind: 'settle', stream: 'backup', frameId: id, fate: 'undecodable', renderedFrom: null });
    }
    c.hasReference = false;
    this.scheduleChain(c, now);
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
      this.setWake(c, now + MAX_WAIT_FOR_KEYFRAME_MS, 'schedule');
      return;
    }
    this.setWake(c, now + left, 'schedule');
  }

  private setWake(c: Chain, atMs: number, what: Chain['onWake']): void {
    c.onWake = what;
    this.emit({ kind: 'wake', stream: c.stream, atMs });
  }

  private cancelWake(c: Chain): void {
    if (c.onWake === null) return;
    c.onWake = null;
    this.emit({ kind: 'cancel-wake', stream: c.stream });
  }

  /** Starts decoding `f` on chain `c`; renders it at `renderMs` unless null (reference only). */
  private decode(c: Chain, f: CompleteFrame, renderMs: number | null, now: number): void {
    this.cancelWake(c);
    c.busy = true;
    c.complete.delete(f.frameId);
    // Frames skipped over to reach this one (a broken chain) can never be decoded now.
    if (f.frameId > c.lastDecodedId + 1) {
      for (const id of c.complete.keys()) if (id < f.frameId) c.complete.delete(id);
      this.emit({ kind: 'give-up', stream: c.stream, afterId: c.lastDecodedId, beforeId: f.frameId });
    }
    if (renderMs !== null) this.timing.setLastDecodeScheduledTimestamp(now);
    c.decoding = { frameId: f.frameId, renderAtMs: renderMs, startMs: now };
    this.emit({
      kind: 'decode',
      stream: c.stream,
      frameId: f.frameId,
      renderAtMs: renderMs,
      jitterEstimateMs: this.timing.jitterDelayMs(),
      currentDelayMs: this.timing.currentDelayMs(),
      targetDelayMs: this.timing.targetDelayMs(),
    });
  }

  /**
   * The primary chain cannot continue without a key frame (a packet that cannot be
   * recovered, a decoder error, waiting too long): wait for one and ask the sender (PLI).
   */
  private keyFrameNeeded(reason: string): void {
    const p = this.chains.primary;
    p.needKey = true;
    this.emit({ kind: 'key-frame-needed', frameId: p.lastDecodedId + 1, reason });
  }
}
