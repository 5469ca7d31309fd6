/**
 * A whole call in one process on simulated time: VideoSender in a SendSession ↔
 * SimulatedLink ↔ ReceiveSession around a VideoReceiver — the same units `testbed offer`
 * and `testbed answer` run over werift, with real x264 and FFmpeg (their calls tracked, so
 * simulated time waits for them) and no sockets, timers or clock of the machine. The same
 * inputs give the same frames, events and rows on every run, in seconds of real time.
 */
import type { EncoderConfig, VideoFrame } from '../media/codec';
import { trackedCodecs, x264Codecs, type Codecs } from '../media/codecs';
import { psnrOf } from '../media/quality';
import { PictureListSource } from '../media/source';
import { joinRows } from '../metrics/join';
import type { JoinedFrameRow, NetworkRow, ReceiverEventRow, ReceiverFrameRow, SenderEventRow, SenderFrameRow } from '../metrics/rows';
import { receiverRow } from '../metrics/receiver-frames';
import { SenderFrameLog } from '../metrics/sender-frames';
import { LossInjector, type DropSpec } from '../receiver/loss-injector';
import { ReceiveSession } from '../receiver/receive-session';
import { VideoReceiver } from '../receiver/video-receiver';
import type { StreamKind } from '../rtp/types';
import { backupEncoderConfig, type BackupReferenceKind } from '../sender/backup-reference';
import type { BackupEnd } from '../sender/backup-state';
import { FixedRate } from '../sender/congestion/fixed';
import type { RateController } from '../sender/congestion/types';
import { SendSession } from '../sender/send-session';
import { VideoSender } from '../sender/video-sender';
import { SimulatedLink, type DirectionCounters, type SimulatedLinkOptions } from '../emulation/simulated-link';
import { SimTime } from './sim-time';

export interface SimulatedCallOptions {
  /** Source pictures (I420, all one size), played in a loop at `fps`. */
  pictures: readonly VideoFrame[];
  fps: number;
  /** How many pictures the sender captures. */
  frames: number;
  link: SimulatedLinkOptions;
  /** x264 target of the primary encoder, bit/s. */
  bitrateBps: number;
  /** An I-frame every this many pictures (0: the first only). */
  keyint: number;
  /** Dual stream with this backup reference; null: single stream. */
  dual: BackupReferenceKind | null;
  feedbackTimeoutMs?: number;
  /** The backup encoder's target (default half of `bitrateBps`, as `testbed offer`). */
  backupBitrateBps?: number;
  /** Default caught-up, as `testbed offer`. */
  backupEnd?: BackupEnd;
  /** Default: fixed at `bitrateBps` (the encoder keeps its configured rate). */
  controller?: RateController;
  pacingFactor?: number;
  mtu?: number;
  preset?: string;
  vbvBufferMs?: number;
  /** The receiver's playout-delay bounds (libwebrtc's semantics), ms. */
  playoutDelayMs?: { min: number; max: number };
  iframeFeedback?: boolean;
  /** Loss injection at the receiver (as `testbed answer --drop`). */
  drop?: DropSpec[];
  /** Default: beamcoder's x264 and FFmpeg decoder. */
  codecs?: Codecs;
  /** Measure the PSNR of every rendered picture against its source picture. */
  psnr?: boolean;
  /** Simulated time after the last capture for the pipeline to empty, ms. */
  tailMs?: number;
}

export interface SimulatedCallResult {
  sender: SenderFrameRow[];
  receiver: ReceiverFrameRow[];
  /** sender and receiver rows joined as frames.csv (both ends share the simulated clock). */
  frames: JoinedFrameRow[];
  senderEvents: SenderEventRow[];
  receiverEvents: ReceiverEventRow[];
  network: NetworkRow[];
  link: { up: DirectionCounters; down: DirectionCounters };
  counters: { framesRendered: number; decoderErrors: number; retransmissionsSent: number; keyFrameRequests: number };
  /** Simulated ms when the call ended. */
  endedMs: number;
  /** With `psnr`: each rendered picture's PSNR (dB, 4:1:1 over Y, U, V) against its source picture. */
  psnrDb: Map<number, number>;
  /** The end-of-stream handshake: what the receiver said about the last picture (null when none was sent). */
  lastPicture: SendSession['lastPicture'];
}

const PAYLOAD_TYPE = 102;
const SSRCS = [0x11111111, 0x22222222];
const TWENTY_SECONDS = 20_000;
/** The simulated clock's reading when a call starts (a link's trace offset is relative to it). */
export const SIM_START_MS = 1000;

/** Runs one call to its end and returns everything the two ends measured. */
export async function runSimulatedCall(o: SimulatedCallOptions): Promise<SimulatedCallResult> {
  const time = new SimTime(SIM_START_MS);
  const codecs = trackedCodecs(o.codecs ?? x264Codecs, (p) => time.track(p));
  const link = new SimulatedLink(time, o.link);
  const source = new PictureListSource(o.pictures, o.fps, o.frames);
  const encoder: EncoderConfig = {
    width: source.width,
    height: source.height,
    fps: o.fps,
    bitrateBps: o.bitrateBps,
    vbvBufferMs: o.vbvBufferMs ?? 1000,
    preset: o.preset ?? 'veryfast',
    tune: 'zerolatency',
  };
  const backupEncoder = backupEncoderConfig(encoder, { bitrateBps: o.backupBitrateBps ?? null, crf: null });
  const kinds: StreamKind[] = o.dual ? ['primary', 'backup'] : ['primary'];
  const out: SimulatedCallResult = {
    sender: [],
    receiver: [],
    frames: [],
    senderEvents: [],
    receiverEvents: [],
    network: [],
    link: { up: link.up.counters, down: link.down.counters },
    counters: { framesRendered: 0, decoderErrors: 0, retransmissionsSent: 0, keyFrameRequests: 0 },
    endedMs: 0,
    psnrDb: new Map(),
    lastPicture: null,
  };
  let ended = false;
  const frameLog = new SenderFrameLog((row) => out.sender.push(row));
  const sender = new VideoSender({
    clock: time,
    timer: time,
    codecs,
    backupReference: o.dual,
    streams: kinds.map((kind, i) => ({ kind, ssrc: SSRCS[i], payloadType: PAYLOAD_TYPE })),
    mtu: o.mtu ?? 1200,
    keyintFrames: o.keyint,
    feedbackTimeoutMs: o.feedbackTimeoutMs ?? 1000,
    backupEnd: o.backupEnd ?? 'caught-up',
    encoder,
    backupEncoder,
    pacingFactor: o.pacingFactor,
    send: (p) => link.a.sendRtp(p),
    overheadBytes: () => link.a.overheadBytes(),
    onFrame: (e) => frameLog.on(e),
    onEvent: (row) => out.senderEvents.push(row),
  });
  const sendSession = new SendSession({
    clock: time,
    timer: time,
    transport: link.a,
    sender,
    controller: o.controller ?? new FixedRate(o.bitrateBps),
    peerTimeoutMs: TWENTY_SECONDS,
    wallAtZeroMs: 0,
    onNetworkRow: (row) => out.network.push(row),
    onPeerGone: () => {},
  });
  const streams = new Map<number, StreamKind>(kinds.map((k, i) => [SSRCS[i], k]));
  const recvSession = new ReceiveSession({
    clock: time,
    timer: time,
    transport: link.b,
    streams,
    receiverSsrc: 0x33333333,
    iframeFeedback: o.iframeFeedback ?? true,
    lossInjector: o.drop?.length ? new LossInjector(o.drop) : undefined,
    peerTimeoutMs: TWENTY_SECONDS,
    firstPacketTimeoutMs: TWENTY_SECONDS,
    onBye: () => (ended = true),
    onPeerGone: () => {},
    onFeedbackSent: (row) => out.receiverEvents.push(row),
  });
  const receiver = new VideoReceiver({
    clock: time,
    timer: time,
    codecs,
    streams,
    encoder: backupEncoder,
    keyint: o.keyint,
    playoutDelayMs: o.playoutDelayMs,
    render: (frame, frameId) => {
      if (o.psnr) out.psnrDb.set(frameId, psnrOf(frame, o.pictures[frameId % o.pictures.length]).psnr);
    },
    onFrameSettled: (f) => {
      out.receiver.push(receiverRow(f));
      recvSession.onFrameSettled(f.frameId, f.renderedFrom !== null);
    },
    onEvent: (row) => {
      out.receiverEvents.push(row);
      if (row.event === 'keyframe-request') out.counters.keyFrameRequests++;
    },
    onKeyFrameNeeded: (reason) => recvSession.requestKeyFrame(reason),
    onEpisodeFeedback: (kind, frameId, pictureId) => recvSession.episodeFeedback(kind, frameId, pictureId),
  });
  recvSession.start(receiver);
  sendSession.start();

  const captured = source.run(time, time, (cap) => sender.onCapture(cap));
  const lastCaptureMs = time.now() + (o.frames * 1000) / o.fps;
  await time.runUntil(lastCaptureMs);
  await captured;
  // The pipeline empties (encoders, pacer, link, receiver), then the sender says goodbye.
  const drained = sender.drain(o.tailMs ?? 3000);
  await time.runUntil(time.now() + (o.tailMs ?? 3000));
  await drained;
  // As the CLI's offer: the receiver's word on the last picture (bounded), then goodbye.
  let answered = false;
  void sendSession.endStream(new Promise(() => {})).then(() => (answered = true));
  await time.runUntilDone(() => answered, time.now() + 6000);
  out.lastPicture = sendSession.lastPicture;
  sendSession.stop();
  sender.stop();
  sendSession.sendBye();
  await time.runUntilDone(() => ended, time.now() + 1000);
  recvSession.stop();
  const closed = receiver.drainAndClose(500);
  await time.runUntil(time.now() + 600);
  await closed;
  out.endedMs = time.now();
  out.counters.framesRendered = receiver.framesRendered;
  out.counters.decoderErrors = receiver.decoderErrors;
  out.counters.retransmissionsSent = sender.paced.retransmissionsSent;
  const strings = (rows: object[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));
  out.frames = joinRows(strings(out.sender), strings(out.receiver), { offsetMs: 0, method: 'shared-monotonic-clock', uncertaintyMs: 0, samples: 0 }).rows;
  return out;
}
