/**
 * `testbed answer`: the receiving peer, as option mapping. Accepts whatever the offer
 * negotiates (PeerRun), then a VideoReceiver inside a ReceiveSession receives, decodes and
 * renders in real time, records what it rendered, and finishes its CSV and metadata when
 * the sender says goodbye, when the peer vanishes, or on SIGINT.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { monotonicClock, realTimer } from '../clock';
import type { VideoFrame } from '../media/codec';
import { createRecorder, type Recorder } from '../media/recorder';
import type { ReceiverEventRow } from '../metrics/rows';
import { ReceiverFiles } from '../metrics/run-files';
import { LossInjector, type DropSpec } from '../receiver/loss-injector';
import { ReceiveSession } from '../receiver/receive-session';
import { VideoReceiver } from '../receiver/video-receiver';
import type { StreamKind } from '../rtp/types';
import { waitForBye, type MediaDescription, type SignalingOptions } from '../transport/signaling';
import { makeLogger, PeerRun, prepareOutDir, UsageError } from './session';

export interface AnswerOptions {
  recordTo?: string;
  playoutDelay?: { min: number; max: number };
  /** Send the I-frame-complete feedback (off only to study the sender's timeout path). */
  iframeFeedback: boolean;
  /** Loss injection: packets to drop on arrival (experiments and tests). */
  drop: DropSpec[];
  out: string;
  verbose: boolean;
  iceHost: string;
  connectTimeout: number;
  peerTimeout: number;
  signaling: SignalingOptions;
}

/** After the signaling bye, how long RTCP the offer sent just before it may still arrive. */
const BYE_GRACE_MS = 100;

/**
 * How long a closed connection waits for the offer's signaling bye before the peer counts
 * as gone. The offer closes its connection right after that bye, and on a saturated link
 * the bye's TCP segment may need a retransmission (≥ 200 ms RTO) to arrive after the close.
 */
const GOODBYE_GRACE_MS = 2000;

export async function runAnswer(o: AnswerOptions): Promise<number> {
  const clock = monotonicClock;
  const log = makeLogger(o.verbose, 'answer');
  const outDir = prepareOutDir(o.out);
  if (o.recordTo && !existsSync(dirname(o.recordTo) || '.')) throw new UsageError(`cannot write --record-to ${o.recordTo} (no such directory)`);
  const run = new PeerRun('receiver', o, outDir, clock, log);
  const { peer, signaling, meta } = run;
  let offered: MediaDescription | null = null;
  let files: ReceiverFiles | null = null;
  let receiver: VideoReceiver | null = null;
  let session: ReceiveSession | null = null;
  const injector = o.drop.length ? new LossInjector(o.drop) : undefined;
  // Opened on the first rendered picture, whose size it takes.
  let recorder: Promise<Recorder> | null = null;
  let error: unknown = null;
  try {
    await run.connect(async () => {
      await signaling.connect('answer', o.connectTimeout * 1000);
      const offer = await signaling.receive(o.connectTimeout * 1000);
      if (offer.type !== 'offer') throw new UsageError(`expected an offer from the peer, got '${offer.type}'`, 1);
      meta.peer = offer.info;
      offered = offer.media ?? null;
      const sdp = await peer.acceptOffer(offer.sdp);
      await signaling.send({ type: 'answer', sdp, info: run.self });
      await peer.connected(o.connectTimeout * 1000);
    });
    const media = peer.negotiated();
    log(`connected: ssrc ${media.ssrcs.join(',')}, pt ${media.payloadType}`);
    const kinds: StreamKind[] = ['primary', 'backup'];
    const streams = new Map<number, StreamKind>(media.ssrcs.map((ssrc, i) => [ssrc, kinds[i] ?? 'primary']));
    const out = (files = new ReceiverFiles(outDir));
    const described = offered as MediaDescription | null;
    let recordStartMs: number | null = null;
    const record = (frame: VideoFrame, renderMs: number) => {
      if (!o.recordTo) return;
      recordStartMs ??= renderMs;
      const t = renderMs - recordStartMs;
      recorder ??= createRecorder(o.recordTo, frame.width, frame.height, described?.encoder.fps ?? 30);
      void recorder.then((r) => r.write(frame, t));
    };
    const event = (row: ReceiverEventRow) => {
      out.events.write(row);
      log(`${row.event} ${row.stream} ${row.frame_id}: ${row.detail}`);
    };
    const s = (session = new ReceiveSession({
      clock,
      timer: realTimer,
      transport: peer,
      streams,
      receiverSsrc: (Math.random() * 0xffffffff) >>> 0,
      iframeFeedback: o.iframeFeedback,
      lossInjector: injector,
      peerTimeoutMs: o.peerTimeout * 1000,
      firstPacketTimeoutMs: o.connectTimeout * 1000,
      onBye: () => run.stop(null, 0),
      onPeerGone: (reason) => run.stop(reason, 3),
      onFeedbackSent: (row) => out.events.write(row),
      log,
    }));
    receiver = new VideoReceiver({
      clock,
      timer: realTimer,
      streams,
      playoutDelayMs: o.playoutDelay,
      encoder: described?.encoder,
      keyint: described?.keyint,
      render: (frame, _id, renderMs) => record(frame, renderMs),
      onFrameSettled: (f) => {
        out.onFrameSettled(f);
        s.onFrameSettled(f.frameId, f.renderedFrom !== null);
      },
      onEvent: event,
      onKeyFrameNeeded: (reason) => s.requestKeyFrame(reason),
      onEpisodeFeedback: (kind, frameId, pictureId) => s.episodeFeedback(kind, frameId, pictureId),
    });
    s.start(receiver);
    // The end of the run: the offer's bye on the signaling channel, which arrives even
    // when a full link drops its RTCP BYEs (TCP, ordered before the channel's close). The
    // offer sent its last RTCP (the BYEs) just before it, by another path (UDP, through
    // SRTP): what is still in flight is read for a moment before the session stops.
    waitForBye(signaling).then(() => setTimeout(() => run.stop(null, 0), BYE_GRACE_MS), () => {});
    peer.onDisconnect = (state) => setTimeout(() => run.stop(`the peer disappeared (connection ${state})`, 3), GOODBYE_GRACE_MS);
    // A bye is always read before the close, so a close without one is the peer vanishing;
    // the short wait lets an RTCP BYE still in flight end the run normally.
    signaling.onClose(() => setTimeout(() => run.stop('the peer disappeared (signaling closed)', 3), 500));
    log('receiving');
    await run.stopped;
  } catch (e) {
    error = e;
  } finally {
    session?.stop();
    await receiver?.drainAndClose(run.stopReason === '' ? 2000 : 200);
    await files?.close();
  }
  const counters: Record<string, number> = {};
  if (receiver && session) {
    Object.assign(counters, {
      packets_received: session.packetsReceived,
      malformed_packets: session.malformedPackets + receiver.malformedPackets,
      frames_rendered: receiver.framesRendered,
      decoder_errors: receiver.decoderErrors,
      duplicates: receiver.assembler.counters.duplicates,
      late_packets: receiver.latePackets,
      decoder_backlog: receiver.decoderBacklog,
    });
  }
  if (injector) Object.assign(counters, { injected_rtp_drops: injector.dropped, injected_rtcp_drops: injector.droppedRtcp });
  if (recorder) {
    const r = await (recorder as Promise<Recorder>);
    await r.close();
    counters.recorded_frames = r.frames;
  }
  return run.finish(run.stopReason === '', counters, error);
}
