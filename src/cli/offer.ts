/**
 * `testbed offer`, the sending peer, as option mapping: the file opened first (bad input fails
 * before any network work), PeerRun connects, a VideoSender in a SendSession streams in real
 * time until the end / --duration / SIGINT / the peer vanishing; CSVs and metadata always closed.
 */
import { monotonicClock, realTimer } from '../clock';
import type { EncoderConfig } from '../media/codec';
import { FileSource } from '../media/source';
import { SenderFiles } from '../metrics/run-files';
import type { StreamKind } from '../rtp/types';
import { createRateController, type RateControlKind } from '../sender/congestion/create';
import { gccDebugObserver } from '../sender/congestion/gcc-debug';
import { RATE_UPDATE_MS, SendSession } from '../sender/send-session';
import { backupEncoderConfig, type BackupReferenceKind } from '../sender/backup-reference';
import type { BackupEnd } from '../sender/backup-state';
import { VideoSender } from '../sender/video-sender';
import type { SignalingOptions } from '../transport/signaling';
import { loadOracleCapacity } from './oracle-trace';
import { makeLogger, PeerRun, prepareOutDir, UsageError } from './session';

export interface OfferOptions {
  playFrom: string;
  /** Read decoded pictures from the raw source cache when it holds the clip (media/raw-cache.ts). */
  sourceCache: boolean;
  /** x264 threads of the primary encoder (sliced with tune zerolatency). */
  encoderThreads: number;
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
  backupReference: BackupReferenceKind;
  feedbackTimeoutMs: number;
  backupEnd: BackupEnd;
  /** Constant-quality factor of the backup encoder; null: the primary's rate control. */
  backupCrf: number | null;
  /** Target rate of the backup encoder (null: 1/9 of the primary's, backupEncoderConfig). */
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

export async function runOffer(o: OfferOptions): Promise<number> {
  const clock = monotonicClock;
  const log = makeLogger(o.verbose, 'offer');
  const outDir = prepareOutDir(o.out);
  // Checked before anything connects, so a typo costs no waiting for a peer.
  const oracle = o.rateControl === 'oracle' && o.oracleTrace ? loadOracleCapacity(o.oracleTrace) : null;
  const source = await FileSource.open(o.playFrom, { loop: o.loop, durationS: o.duration, width: o.width, height: o.height, rawCache: o.sourceCache });
  const pictures = source.rawCacheFile ? `raw cache ${source.rawCacheFile}` : 'decoded in real time';
  log(`source ${o.playFrom}: ${source.info.width}x${source.info.height} @ ${source.fps.toFixed(2)} fps → ${source.width}x${source.height}, ${pictures}`);
  const plain: EncoderConfig = { width: source.width, height: source.height, fps: source.fps, bitrateBps: o.bitrate, vbvBufferMs: o.vbvBufferMs, preset: o.preset, tune: o.tune };
  const backupEncoder = backupEncoderConfig(plain, { bitrateBps: o.backupBitrate, crf: o.backupCrf });
  const run = new PeerRun('sender', o, outDir, clock, log);
  const { peer, signaling, meta } = run;
  // Stated, not assumed: whether this sender decoded its clip while it encoded.
  meta.options.source_pictures = pictures;
  run.stopped.then(() => source.stop());
  let files: SenderFiles | null = null;
  let session: SendSession | null = null;
  let finished = false;
  let error: unknown = null;
  try {
    await run.connect(async () => {
      await signaling.connect('offer', o.connectTimeout * 1000);
      const sdp = await peer.createOffer(o.mode === 'dual' ? 2 : 1);
      await signaling.send({ type: 'offer', sdp, info: run.self, media: { mode: o.mode, backupReference: o.backupReference, encoder: backupEncoder, keyint: o.intraRefresh ? 0 : o.keyint } });
      const answer = await signaling.receive(o.connectTimeout * 1000);
      if (answer.type !== 'answer') throw new UsageError(`expected an answer from the peer, got '${answer.type}'`, 1);
      meta.peer = answer.info;
      await peer.acceptAnswer(answer.sdp);
      await peer.connected(o.connectTimeout * 1000);
    });
    const media = peer.negotiated();
    log(`connected: ssrc ${media.ssrcs.join(',')}, pt ${media.payloadType}`);
    const out = (files = new SenderFiles(outDir));
    const streams = (['primary', 'backup'] as StreamKind[]).slice(0, media.ssrcs.length);
    const s = new VideoSender({
      clock, timer: realTimer,
      backupReference: o.mode === 'dual' ? o.backupReference : null,
      streams: media.ssrcs.map((ssrc, i) => ({ kind: streams[i], ssrc, payloadType: media.payloadType })),
      mtu: o.mtu,
      // With intra refresh, x264's refresh waves replace scheduled I-frames (PLI still forces one).
      keyintFrames: o.intraRefresh ? 0 : o.keyint,
      feedbackTimeoutMs: o.feedbackTimeoutMs, backupEnd: o.backupEnd,
      // Threads for the primary only: the backup encoder config (and the seeds built from it) stays single-threaded, reproducible at the receiver.
      encoder: { ...(o.intraRefresh ? { ...plain, intraRefreshFrames: o.keyint } : plain), threads: o.encoderThreads },
      backupEncoder, pacingFactor: o.pacingFactor,
      send: (p) => peer.sendRtp(p), overheadBytes: () => peer.overheadBytes(),
      onFrame: (e) => out.onFrame(e),
      onEvent: (row) => {
        out.events.write(row);
        if (row.event === 'transition') log(`${row.from_state} → ${row.to_state} at picture ${row.frame_id}: ${row.cause}`);
      },
    });
    const startMs = clock.now();
    const controller = createRateController({
      kind: o.rateControl, startBps: o.bitrate, minBps: o.minBitrate, maxBps: o.maxBitrate,
      probeIntervalMs: o.probeIntervalS * 1000,
      oracleCapacity: oracle?.(o.traceStartMs ?? startMs),
      startMs,
      command: o.rateControlCmd, intervalMs: RATE_UPDATE_MS,
      onExternalExit: (why) => run.stop(`the external rate controller stopped: ${why}`, 1),
    });
    session = new SendSession({
      clock, timer: realTimer, transport: peer, sender: s, controller,
      peerTimeoutMs: o.peerTimeout * 1000,
      wallAtZeroMs: Date.now() - clock.now(),
      onNetworkRow: (row) => out.network.write(row),
      onRateUpdate: gccDebugObserver(process.env.TESTBED_GCC_DEBUG),
      onPeerGone: (reason) => finished || run.stop(reason, 3),
      log,
    });
    peer.onDisconnect = (state) => finished || run.stop(`the peer disappeared (connection ${state})`, 3);
    signaling.onClose(() => finished || run.stop('the peer disappeared (signaling closed)', 3));
    session.start();
    await session.waitForReceiver(o.connectTimeout * 1000, run.stopped);
    log('streaming');
    await source.run(clock, realTimer, (cap) => s.onCapture(cap));
    if (run.stopReason === null && !(await s.drain(5000))) log('pacer did not drain within 5 s');
    if (run.stopReason === null) await session.endStream(run.stopped);
    finished = run.stopReason === null;
    run.setClock(session.clockRelation());
  } catch (e) {
    error = e;
  } finally {
    session?.stop();
    if (session && finished) {
      session.sendBye();
      await signaling.send({ type: 'bye', reason: 'end of stream' }).catch(() => {});
    }
    await files?.close();
    // Lets the BYEs leave before the connection closes.
    await new Promise((r) => setTimeout(r, 100));
  }
  const capture = { late_captures: source.lateCaptures, capture_late_max_ms: Math.round(source.maxLateMs * 10) / 10 };
  return run.finish(finished, { ...(session?.counters() ?? {}), ...capture }, error);
}
