/**
 * `testbed answer`: the receiving peer. Accepts whatever the offer negotiates, receives,
 * decodes and renders in real time, records what it rendered, and finishes its CSV and
 * metadata when the sender says goodbye, when the peer vanishes, or on SIGINT.
 */
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { monotonicClock } from '../clock';
import { errText, type VideoFrame } from '../media/codec';
import { createRecorder, type Recorder } from '../media/recorder';
import { CsvWriter } from '../metrics/csv';
import { tryJoin } from '../metrics/join';
import { RECEIVER_COLUMNS, RECEIVER_EVENT_COLUMNS, type ReceiverEventRow, type ReceiverFrameRow } from '../metrics/rows';
import type { MediaDescription } from '../transport/signaling';
import { APP_IDENTIFIER, encodeAppMessage } from '../rtp/app-feedback';
import { ntpMiddle32, parseRtcpCompound, serializeRtcpCompound } from '../rtp/rtcp';
import type { ReportBlock, RtcpPacket, StreamKind } from '../rtp/types';
import { VideoReceiver } from '../receiver/video-receiver';
import { LossInjector, type DropSpec } from '../receiver/loss-injector';
import { NackGenerator } from '../receiver/nack-generator';
import { TwccRecorder } from '../receiver/twcc-recorder';
import { waitForBye, type SignalingOptions } from '../transport/signaling';
import { makeLogger, onInterrupt, prepareOutDir, startPeer, UsageError, writeMeta } from './session';

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

const RTCP_INTERVAL_MS = 1000;
/** How often transport feedback (TWCC when due, NACKs) is considered; NackRequester's 20 ms tick. */
const FEEDBACK_TICK_MS = 20;
/** At most one PLI per this interval (libwebrtc re-requests key frames every 200 ms while waiting). */
const MIN_PLI_INTERVAL_MS = 100;
/**
 * How long a closed connection waits for the offer's signaling bye before the peer counts
 * as gone. The offer closes its connection right after that bye, and on a saturated link
 * the bye's TCP segment may need a retransmission (≥ 200 ms RTO) to arrive after the close.
 */
const GOODBYE_GRACE_MS = 2000;
/** Our receiver's SSRC for RTCP (RFC 3550 §8.1: random). */
const RECEIVER_SSRC = (Math.random() * 0xffffffff) >>> 0;

export async function runAnswer(o: AnswerOptions): Promise<number> {
  const clock = monotonicClock;
  const log = makeLogger(o.verbose, 'answer');
  const outDir = prepareOutDir(o.out);
  if (o.recordTo && !existsSync(dirname(o.recordTo) || '.')) {
    throw new UsageError(`cannot write --record-to ${o.recordTo} (no such directory)`);
  }
  const { self, meta, signaling, peer } = startPeer('receiver', o, outDir, clock);
  let events: CsvWriter<ReceiverEventRow> | null = null;
  const session: { offered: MediaDescription | null } = { offered: null };
  let csv: CsvWriter<ReceiverFrameRow> | null = null;
  let receiver: VideoReceiver | null = null;
  let lossInjector: LossInjector | undefined;
  // Opened on the first rendered picture, whose size it takes.
  const rec: { opening: Promise<Recorder> | null } = { opening: null };
  let rrTimer: NodeJS.Timeout | null = null;
  let feedbackTimer: NodeJS.Timeout | null = null;
  let watchdog: NodeJS.Timeout | null = null;
  let stopReason: string | null = null;
  let exitCode = 0;
  let ended!: () => void;
  const endOfRun = new Promise<void>((r) => (ended = r));
  let failure: string | null = null;
  // A stop while still connecting (SIGINT) ends the wait at once, not at --connect-timeout.
  let abortConnect: (e: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => (abortConnect = reject));
  aborted.catch(() => {});
  const stop = (reason: string | null, code: number) => {
    if (stopReason !== null) return;
    stopReason = reason ?? '';
    exitCode = code;
    ended();
    if (reason) abortConnect(new UsageError(reason, code));
  };
  onInterrupt((sig) => stop(`interrupted (${sig})`, 130));

  try {
    const connecting = (async () => {
      await signaling.connect('answer', o.connectTimeout * 1000);
      const offer = await signaling.receive(o.connectTimeout * 1000);
      if (offer.type !== 'offer') throw new UsageError(`expected an offer from the peer, got '${offer.type}'`, 1);
      meta.peer = offer.info;
      session.offered = offer.media ?? null;
      const sdp = await peer.acceptOffer(offer.sdp);
      await signaling.send({ type: 'answer', sdp, info: self });
      await peer.connected(o.connectTimeout * 1000);
    })();
    connecting.catch(() => {});
    await Promise.race([connecting, aborted]);
    const media = peer.negotiated();
    const kinds: StreamKind[] = ['primary', 'backup'];
    const streams = new Map<number, StreamKind>(media.ssrcs.map((ssrc, i) => [ssrc, kinds[i] ?? 'primary']));
    log(`connected: ssrc ${media.ssrcs.join(',')}, pt ${media.payloadType}`);

    csv = new CsvWriter<ReceiverFrameRow>(join(outDir, 'receiver-frames.csv'), RECEIVER_COLUMNS);
    events = new CsvWriter<ReceiverEventRow>(join(outDir, 'receiver-events.csv'), RECEIVER_EVENT_COLUMNS);
    const rows = csv;
    const eventRows = events;
    const fps = session.offered?.encoder.fps ?? 30;
    let recordStartMs: number | null = null;
    const record = (frame: VideoFrame, renderMs: number) => {
      if (!o.recordTo) return;
      recordStartMs ??= renderMs;
      const t = renderMs - recordStartMs;
      rec.opening ??= createRecorder(o.recordTo, frame.width, frame.height, fps);
      void rec.opening.then((r) => r.write(frame, t));
    };
    // Transport feedback: arrival times for GCC (TWCC), NACKs for lost packets, PLI when the
    // primary stream needs a key frame.
    const twcc = new TwccRecorder();
    const nacks = new Map<number, NackGenerator>(media.ssrcs.map((ssrc) => [ssrc, new NackGenerator()]));
    let lastPliMs = -Infinity;
    const sendPli = (reason: string) => {
      const now = clock.now();
      if (now - lastPliMs < MIN_PLI_INTERVAL_MS) return;
      lastPliMs = now;
      peer.sendRtcp(serializeRtcpCompound([{ type: 'pli', senderSsrc: RECEIVER_SSRC, mediaSsrc: media.ssrcs[0] }]));
      log(`PLI: ${reason}`);
    };
    const injector = o.drop.length ? new LossInjector(o.drop) : undefined;
    lossInjector = injector;
    receiver = new VideoReceiver({
      lossInjector: injector,
      onPacket: (p, _stream, arrivalMs) => {
        if (p.extensions.transportWideSeq !== undefined) twcc.onPacket(p.extensions.transportWideSeq, arrivalMs);
        nacks.get(p.ssrc)?.onPacket(p.sequenceNumber, arrivalMs, false, p.extensions.frameId?.key ?? false);
      },
      onKeyFrameNeeded: (reason) => sendPli(reason),
      clock,
      streams,
      playoutDelayMs: o.playoutDelay,
      encoder: session.offered?.encoder,
      render: (frame, _id, renderMs) => record(frame, renderMs),
      onFrameDone: (row) => rows.write(row),
      onEvent: (row) => {
        eventRows.write(row);
        log(`${row.event} ${row.stream} ${row.frame_id}: ${row.detail}`);
      },
      // Sent at once: the sender stops the backup stream on it (PSFB FMT 15, our 'TBED' message).
      onIFrameComplete: (frameId) => {
        if (!o.iframeFeedback) return;
        peer.sendRtcp(
          serializeRtcpCompound([
            {
              type: 'app-feedback',
              senderSsrc: RECEIVER_SSRC,
              mediaSsrc: media.ssrcs[0],
              identifier: APP_IDENTIFIER,
              data: encodeAppMessage({ kind: 'iframe-complete', frameId }),
            },
          ]),
        );
        eventRows.write({ time_ms: clock.now(), event: 'feedback-sent', stream: 'primary', frame_id: frameId, detail: 'I-frame complete' });
      },
    });
    const rx = receiver;
    peer.onRtp = (buf, arrivalMs) => rx.onRtp(buf, arrivalMs);
    peer.onRtcp = (buf, arrivalMs) => {
      let packets;
      try {
        packets = parseRtcpCompound(buf);
      } catch {
        return;
      }
      for (const p of packets) {
        if (injector?.shouldDropRtcp(p)) continue;
        if (p.type === 'sr') {
          const lsr = ntpMiddle32({ sec: p.ntpSec, frac: p.ntpFrac });
          rx.stats.get(p.ssrc)?.onSenderReport(lsr, arrivalMs);
          // Echo at once so the sender can estimate the offset between our clocks.
          const echo = encodeAppMessage({ kind: 'clock-echo', lsr, receivedMs: arrivalMs, sentMs: clock.now() });
          peer.sendRtcp(
            serializeRtcpCompound([
              { type: 'app-feedback', senderSsrc: RECEIVER_SSRC, mediaSsrc: p.ssrc, identifier: APP_IDENTIFIER, data: echo },
            ]),
          );
        } else if (p.type === 'bye') {
          stop(null, 0);
        }
      }
    };
    feedbackTimer = setInterval(() => {
      const now = clock.now();
      const out: RtcpPacket[] = [];
      if (twcc.isFeedbackDue(now)) out.push(...twcc.buildFeedback(now, RECEIVER_SSRC, media.ssrcs[0]));
      for (const [ssrc, gen] of nacks) {
        const seqs = gen.nacksToSend(now);
        if (seqs.length) out.push({ type: 'nack', senderSsrc: RECEIVER_SSRC, mediaSsrc: ssrc, seqs });
      }
      if (out.length) peer.sendRtcp(serializeRtcpCompound(out));
    }, FEEDBACK_TICK_MS);
    rrTimer = setInterval(() => {
      const now = clock.now();
      const reports = [...rx.stats.values()].map((s) => s.reportBlock(now)).filter((b): b is ReportBlock => b !== null);
      peer.sendRtcp(serializeRtcpCompound([{ type: 'rr', ssrc: RECEIVER_SSRC, reports }]));
    }, RTCP_INTERVAL_MS);
    // The end of the run: the offer's bye on the signaling channel, which arrives even
    // when a full link drops its RTCP BYEs (TCP, ordered before the channel's close).
    waitForBye(signaling).then(
      () => stop(null, 0),
      () => {},
    );
    peer.onDisconnect = (state) => setTimeout(() => stop(`the peer disappeared (connection ${state})`, 3), GOODBYE_GRACE_MS);
    // A bye is always read before the close, so a close without one is the peer vanishing;
    // the short wait lets an RTCP BYE still in flight end the run normally.
    signaling.onClose(() => setTimeout(() => stop('the peer disappeared (signaling closed)', 3), 500));
    const connectedAt = clock.now();
    watchdog = setInterval(() => {
      const last = rx.lastPacketMs ?? connectedAt;
      const limit = (rx.lastPacketMs === null ? o.connectTimeout : o.peerTimeout) * 1000;
      if (clock.now() - last > limit) stop(`the peer disappeared (no media for ${Math.round(limit / 1000)} s)`, 3);
    }, 250);
    log('receiving');
    await endOfRun;
  } catch (e) {
    failure = errText(e);
    throw e;
  } finally {
    if (rrTimer) clearInterval(rrTimer);
    if (feedbackTimer) clearInterval(feedbackTimer);
    if (watchdog) clearInterval(watchdog);
    if (receiver) {
      await receiver.drainAndClose(stopReason === '' ? 2000 : 200);
      meta.counters = {
        packets_received: receiver.packetsReceived,
        malformed_packets: receiver.malformedPackets,
        frames_rendered: receiver.framesRendered,
        decoder_errors: receiver.decoderErrors,
        duplicates: receiver.assembler.counters.duplicates,
        late_packets: receiver.latePackets,
      };
      if (lossInjector) {
        meta.counters.injected_rtp_drops = lossInjector.dropped;
        meta.counters.injected_rtcp_drops = lossInjector.droppedRtcp;
      }
    }
    await csv?.close();
    await events?.close();
    if (rec.opening) {
      const r = await rec.opening;
      await r.close();
      meta.counters.recorded_frames = r.frames;
    }
    // The process's own CPU time (the benchmark's "CPU per process").
    const cpu = process.cpuUsage();
    meta.counters.cpu_s = (cpu.user + cpu.system) / 1e6;
    meta.ended_ms = clock.now();
    meta.complete = stopReason === '';
    meta.incomplete_reason = meta.complete ? null : (stopReason ?? failure ?? 'error');
    writeMeta(outDir, meta);
    signaling.close();
    await peer.close();
  }
  const joined = tryJoin(outDir);
  if (joined) log(`joined ${joined}`);
  if (stopReason) throw new UsageError(stopReason, exitCode);
  return 0;
}
