/**
 * `testbed offer`: the sending peer. Opens the file (so bad input fails before any
 * network work), signals, connects, then streams in real time until the end of the
 * file / --duration / SIGINT / the peer vanishing, and always leaves its CSV and
 * metadata complete and closed.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { monotonicClock } from '../clock';
import { errText } from '../media/codec';
import { FileSource } from '../media/source';
import { CsvWriter } from '../metrics/csv';
import { tryJoin } from '../metrics/join';
import { SENDER_COLUMNS, SENDER_EVENT_COLUMNS, type SenderEventRow, type SenderFrameRow } from '../metrics/rows';
import { APP_IDENTIFIER, decodeAppMessage } from '../rtp/app-feedback';
import { ntpFromMs, ntpMiddle32, parseRtcpCompound, rttFromReportBlock, serializeRtcpCompound } from '../rtp/rtcp';
import { VideoSender, type BackupReference } from '../sender/video-sender';
import { createRateController, loadOracleTrace, type RateControlKind } from '../sender/congestion/create';
import { ExternalRate } from '../sender/congestion/external';
import { Gcc } from '../sender/congestion/gcc';
import { DeliveryRate } from '../sender/delivery-rate';
import type { RateController } from '../sender/congestion/types';
import { NETWORK_COLUMNS, type NetworkRow } from '../metrics/rows';
import type { EncoderConfig } from '../media/codec';
import type { StreamKind } from '../rtp/types';
import { ClockSync } from '../transport/clock-sync';
import type { SignalingOptions } from '../transport/signaling';
import { makeLogger, onInterrupt, prepareOutDir, sameClock, startPeer, UsageError, writeMeta } from './session';

export interface OfferOptions {
  playFrom: string;
  loop: boolean;
  duration: number | null;
  bitrate: number;
  keyint: number;
  preset: string;
  tune: string;
  vbvBufferMs: number;
  /** x264 intra refresh with a wave every `keyint` frames; no scheduled I-frames. */
  intraRefresh: boolean;
  width?: number;
  height?: number;
  mtu: number;
  out: string;
  verbose: boolean;
  iceHost: string;
  connectTimeout: number;
  peerTimeout: number;
  signaling: SignalingOptions;
  mode: 'single' | 'dual';
  backupReference: BackupReference;
  feedbackTimeoutMs: number;
  /** Constant-quality factor of the backup encoder; null: the primary's rate control. */
  backupCrf: number | null;
  /** Target rate of the backup encoder (null: half the primary's). */
  backupBitrate: number | null;
  pacingFactor: number;
  rateControl: RateControlKind;
  rateControlCmd?: string;
  oracleTrace?: string;
  /** CLOCK_MONOTONIC ms when the replayed trace started (default: when streaming starts). */
  traceStartMs?: number;
  minBitrate: number;
  maxBitrate: number;
  /** gcc: periodic probing outside ALR, s (0 = off). */
  probeIntervalS: number;
}

/** How often the rate controller's estimate is applied and network.csv gets a row. */
const RATE_UPDATE_MS = 100;

/** RTCP report interval (RFC 3550 allows shorter than 5 s for high-bandwidth sessions). */
const RTCP_INTERVAL_MS = 1000;

export async function runOffer(o: OfferOptions): Promise<number> {
  const clock = monotonicClock;
  const log = makeLogger(o.verbose, 'offer');
  const outDir = prepareOutDir(o.out);
  // Checked before anything connects, so a typo costs no waiting for a peer.
  if (o.rateControl === 'oracle' && o.oracleTrace) loadOracleTrace(o.oracleTrace);
  const source = await FileSource.open(o.playFrom, {
    loop: o.loop,
    durationS: o.duration,
    width: o.width,
    height: o.height,
  });
  log(`source ${o.playFrom}: ${source.info.width}x${source.info.height} @ ${source.fps.toFixed(2)} fps → ${source.width}x${source.height}`);

  const { self, meta, signaling, peer } = startPeer('sender', o, outDir, clock);
  let csv: CsvWriter<SenderFrameRow> | null = null;
  let events: CsvWriter<SenderEventRow> | null = null;
  let network: CsvWriter<NetworkRow> | null = null;
  let controller: RateController | null = null;
  let rateTimer: NodeJS.Timeout | null = null;
  const plainEncoder: EncoderConfig = {
    width: source.width,
    height: source.height,
    fps: source.fps,
    bitrateBps: o.bitrate,
    vbvBufferMs: o.vbvBufferMs,
    preset: o.preset,
    tune: o.tune,
  };
  const encoder: EncoderConfig = o.intraRefresh ? { ...plainEncoder, intraRefreshFrames: o.keyint } : plainEncoder;
  // The backup encoder: same picture format, its own (smaller) rate: during an episode it
  // adds to the primary's rate on the same link. With --backup-crf, constant quality
  // under that VBV cap instead of ABR. Never intra refresh: its short episodes predict
  // from a seed IDR, so a refresh wave would only add intra blocks.
  const backupEncoder: EncoderConfig = {
    ...plainEncoder,
    bitrateBps: o.backupBitrate ?? Math.round(o.bitrate / 2),
    ...(o.backupCrf === null ? {} : { x264Params: `crf=${o.backupCrf}` }),
  };
  let sender: VideoSender | null = null;
  let finished = false;
  let stopReason: string | null = null;
  let exitCode = 0;
  let srTimer: NodeJS.Timeout | null = null;
  let watchdog: NodeJS.Timeout | null = null;
  let failure: string | null = null;
  // A stop while still connecting (SIGINT) ends the wait at once, not at --connect-timeout.
  let abortConnect: (e: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => (abortConnect = reject));
  aborted.catch(() => {});

  const stop = (reason: string, code: number) => {
    // Once streaming ended normally, the peer leaving is the expected end.
    if (stopReason || finished) return;
    stopReason = reason;
    exitCode = code;
    source.stop();
    abortConnect(new UsageError(reason, code));
  };
  onInterrupt((sig) => stop(`interrupted (${sig})`, 130));

  try {
    const connecting = (async () => {
      await signaling.connect('offer', o.connectTimeout * 1000);
      const sdp = await peer.createOffer(o.mode === 'dual' ? 2 : 1);
      await signaling.send({ type: 'offer', sdp, info: self, media: { mode: o.mode, backupReference: o.backupReference, encoder: backupEncoder } });
      const answer = await signaling.receive(o.connectTimeout * 1000);
      if (answer.type !== 'answer') throw new UsageError(`expected an answer from the peer, got '${answer.type}'`, 1);
      meta.peer = answer.info;
      await peer.acceptAnswer(answer.sdp);
      await peer.connected(o.connectTimeout * 1000);
    })();
    connecting.catch(() => {});
    await Promise.race([connecting, aborted]);
    const media = peer.negotiated();
    log(`connected: ssrc ${media.ssrcs.join(',')}, pt ${media.payloadType}`);

    csv = new CsvWriter<SenderFrameRow>(join(outDir, 'sender-frames.csv'), SENDER_COLUMNS);
    events = new CsvWriter<SenderEventRow>(join(outDir, 'events.csv'), SENDER_EVENT_COLUMNS);
    const rows = csv;
    const eventRows = events;
    const kinds: StreamKind[] = ['primary', 'backup'];
    sender = new VideoSender({
      clock,
      mode: o.mode,
      backupReference: o.backupReference,
      streams: media.ssrcs.map((ssrc, i) => ({ kind: kinds[i], ssrc, payloadType: media.payloadType })),
      mtu: o.mtu,
      // With intra refresh, x264's refresh waves replace scheduled I-frames (PLI still forces one).
      keyintFrames: o.intraRefresh ? 0 : o.keyint,
      feedbackTimeoutMs: o.feedbackTimeoutMs,
      encoder,
      backupEncoder,
      pacingFactor: o.pacingFactor,
      send: (p) => peer.sendRtp(p),
      onFrameDone: (row) => rows.write(row),
      onEvent: (row) => {
        eventRows.write(row);
        if (row.event === 'transition') log(`${row.from_state} → ${row.to_state} at picture ${row.frame_id}: ${row.cause}`);
      },
    });
    const s = sender;
    const streamKinds = kinds.slice(0, media.ssrcs.length);
    network = new CsvWriter<NetworkRow>(join(outDir, 'network.csv'), NETWORK_COLUMNS);
    const networkRows = network;
    const ctl = (controller = createRateController({
      kind: o.rateControl,
      startBps: o.bitrate,
      minBps: o.minBitrate,
      maxBps: o.maxBitrate,
      probeIntervalMs: o.probeIntervalS * 1000,
      oracleTrace: o.oracleTrace,
      traceStartMs: o.traceStartMs ?? clock.now(),
      command: o.rateControlCmd,
      intervalMs: RATE_UPDATE_MS,
      onExternalExit: (why) => stop(`the external rate controller stopped: ${why}`, 1),
    }));
    s.paced.onPacketSent = (p) => ctl.onSentPacket?.(p);
    let lossFraction: number | null = null;
    let lastRttMs: number | null = null;
    const delivery = new DeliveryRate();
    // Probe clusters the controller asks for (GCC's ProbeController) go out as padding.
    const sendProbes = (now: number) => {
      for (const c of ctl.takeProbeClusters?.(now) ?? []) {
        s.paced.sendProbeCluster(c);
        log(`probe cluster ${c.id} at ${Math.round(c.targetBps / 1000)} kbit/s`);
      }
    };
    const gccDebugFile = process.env.TESTBED_GCC_DEBUG || null;
    // Apply the controller's estimate and log it (network.csv).
    const updateRate = () => {
      const now = clock.now();
      sendProbes(now);
      if (ctl instanceof ExternalRate) {
        ctl.sender = { sentBps: s.paced.sentBitrateBps(now), pacerQueueMs: s.paced.pacer.expectedQueueTimeMs() };
      }
      const est = ctl.estimate(now);
      if (o.rateControl !== 'fixed' && Math.abs(est.targetBps - s.targetRateBps) >= 1) s.setTargetRate(est.targetBps);
      // Opt-in GCC internals, one JSON line per rate update (src/sender/congestion/README.md).
      if (gccDebugFile && ctl instanceof Gcc) {
        appendFileSync(gccDebugFile, JSON.stringify({ t: now, targetBps: est.targetBps, detector: est.detector, ...ctl.debug() }) + '\n');
      }
      networkRows.write({
        time_ms: now,
        controller: ctl.name,
        target_bps: Math.round(est.targetBps),
        pacing_bps: Math.round(s.paced.pacer.pacingRateBps),
        sent_bps: Math.round(s.paced.sentBitrateBps(now)),
        received_bps: delivery.bps() === null ? '' : Math.round(delivery.bps()!),
        rtt_ms: lastRttMs ?? '',
        loss_fraction: lossFraction ?? '',
        delay_gradient: o.rateControl === 'fixed' ? '' : est.delayGradient,
        threshold: o.rateControl === 'fixed' ? '' : est.threshold,
        detector: o.rateControl === 'fixed' ? '' : est.detector,
      });
    };
    rateTimer = setInterval(updateRate, RATE_UPDATE_MS);

    // RTCP: SR every second; RRs give RTT and liveness; clock echoes give the clock offset.
    const clockSync = new ClockSync();
    let lastRtcpMs = clock.now();
    const wallAtStart = Date.now() - clock.now();
    const sendSr = () => {
      const now = clock.now();
      const ntp = ntpFromMs(wallAtStart + now);
      clockSync.srSent(ntpMiddle32(ntp), now);
      peer.sendRtcp(
        serializeRtcpCompound(
          streamKinds.map((k) => ({
            type: 'sr' as const,
            ssrc: s.paced.ssrcOf(k),
            ntpSec: ntp.sec,
            ntpFrac: ntp.frac,
            rtpTimestamp: s.rtpTimestampAt(now),
            packetCount: s.paced.counters(k).packetsSent,
            octetCount: s.paced.counters(k).payloadBytesSent,
            reports: [],
          })),
        ),
      );
    };
    srTimer = setInterval(sendSr, RTCP_INTERVAL_MS);
    sendSr();
    peer.onRtcp = (buf, arrivalMs) => {
      let packets;
      try {
        packets = parseRtcpCompound(buf);
      } catch {
        return;
      }
      lastRtcpMs = arrivalMs;
      for (const p of packets) {
        if (p.type === 'rr') {
          for (const rb of p.reports) {
            if (rb.lsr !== 0) {
              const rtt = rttFromReportBlock(ntpMiddle32(ntpFromMs(wallAtStart + arrivalMs)), rb.lsr, rb.dlsr);
              if (rtt !== null) {
                lastRttMs = rtt;
                ctl.onRtt(rtt, arrivalMs);
              }
            }
            if (rb.ssrc === media.ssrcs[0]) {
              lossFraction = rb.fractionLost / 256;
              ctl.onLossReport(lossFraction, arrivalMs);
            }
          }
        } else if (p.type === 'twcc') {
          const packets = s.paced.history.onTransportFeedback(p);
          if (packets.length) {
            delivery.onFeedback(packets);
            ctl.onTransportFeedback({ feedbackArrivalMs: arrivalMs, packets });
            sendProbes(arrivalMs);
          }
        } else if (p.type === 'nack') {
          s.paced.retransmit(p.mediaSsrc, p.seqs, lastRttMs ?? 100);
        } else if (p.type === 'pli') {
          s.requestKeyFrame('receiver request (PLI)');
        } else if (p.type === 'app-feedback' && p.identifier === APP_IDENTIFIER) {
          const m = decodeAppMessage(p.data);
          if (m?.kind === 'clock-echo') clockSync.echo(m.lsr, m.receivedMs, m.sentMs, arrivalMs);
          else if (m?.kind === 'iframe-complete') s.onIFrameComplete(m.frameId);
        } else if (p.type === 'bye') {
          stop('the receiver left (RTCP BYE)', 3);
        }
      }
    };
    peer.onDisconnect = (state) => stop(`the peer disappeared (connection ${state})`, 3);
    signaling.onClose(() => stop('the peer disappeared (signaling closed)', 3));
    watchdog = setInterval(() => {
      if (clock.now() - lastRtcpMs > o.peerTimeout * 1000) {
        stop(`the peer disappeared (no RTCP for ${o.peerTimeout} s)`, 3);
      }
    }, 250);

    log('streaming');
    await source.run(clock, (cap) => s.onCapture(cap));
    if (!stopReason) {
      const drained = await s.drain(5000);
      if (!drained) log('pacer did not drain within 5 s');
    }
    finished = !stopReason;
    meta.clock = sameClock(self, meta.peer)
      ? { offsetMs: 0, method: 'shared-monotonic-clock', uncertaintyMs: 0, samples: 0 }
      : clockSync.relation();
    meta.counters = {
      frames_encoded: s.framesEncoded,
      frames_dropped: s.framesDropped,
      retransmissions_sent: s.paced.retransmissionsSent,
      retransmission_bytes_sent: s.paced.retransmissionBytesSent,
      retransmissions_rate_limited: s.paced.retransmissionsRateLimited,
      probe_padding_bytes_sent: s.paced.probePaddingBytesSent,
      ...Object.fromEntries(
        streamKinds.flatMap((k) => [
          [`${k}_packets_sent`, s.paced.counters(k).packetsSent],
          [`${k}_bytes_sent`, s.paced.counters(k).bytesSent],
        ]),
      ),
      last_rtt_ms: lastRttMs ?? -1,
    };
  } catch (e) {
    failure = errText(e);
    throw e;
  } finally {
    if (srTimer) clearInterval(srTimer);
    if (rateTimer) clearInterval(rateTimer);
    if (controller instanceof ExternalRate) controller.close();
    if (watchdog) clearInterval(watchdog);
    sender?.stop();
    if (sender && finished) {
      // RTCP BYE (RFC 3550 §6.6), sent a few times: it is our end-of-stream marker.
      const bye = serializeRtcpCompound([{ type: 'bye', ssrcs: peer.negotiated().ssrcs, reason: 'end of stream' }]);
      for (let i = 0; i < 3; i++) peer.sendRtcp(bye);
      await signaling.send({ type: 'bye', reason: 'end of stream' }).catch(() => {});
    }
    await csv?.close();
    await events?.close();
    await network?.close();
    const cpu = process.cpuUsage();
    meta.counters.cpu_s = (cpu.user + cpu.system) / 1e6;
    meta.ended_ms = clock.now();
    meta.complete = finished;
    meta.incomplete_reason = finished ? null : (stopReason ?? failure ?? 'error');
    writeMeta(outDir, meta);
    await new Promise((r) => setTimeout(r, 100));
    signaling.close();
    await peer.close();
  }
  const joined = tryJoin(outDir);
  if (joined) log(`joined ${joined}`);
  if (stopReason) throw new UsageError(stopReason, exitCode);
  return 0;
}
