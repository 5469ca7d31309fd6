/**
 * The `testbed` command. Options follow aiortc's videostream-cli where they overlap
 * (--play-from, --record-to, --signaling, --signaling-host/-port/-path, --verbose).
 */
import { Command, CommanderError, Option } from 'commander';
import { runAnswer } from './answer';
import { runOffer } from './offer';
import { addSummaryCommand } from './summary';
import { addRunCommand } from './run';
import { addTracesCommand } from './traces';
import { addClipsCommand } from './clips';
import { addCacheCommand } from './cache';
import { addPlotCommand } from './plot';
import { addCompareCommand } from './compare';
import { parseDropSpec, type DropSpec } from '../receiver/loss-injector';
import { joinRun } from '../metrics/join';
import { X264_DEFAULTS } from '../media/codec';
import { DEFAULT_PROBE_INTERVAL_S } from '../sender/congestion/create';
import type { SignalingKind, SignalingOptions } from '../transport/signaling';
import type { BackupEnd } from '../sender/backup-state';
import { oneLine, parseFloatOption, parseIntOption, UsageError, VERSION } from './session';

interface CommonOpts {
  signaling: SignalingKind;
  signalingHost: string;
  signalingPort: number;
  signalingPath: string;
  out: string;
  verbose: boolean;
  iceHost: string;
  connectTimeout: number;
  peerTimeout: number;
}

function addCommon(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--signaling <kind>', 'how the peers exchange SDP')
        .choices(['copy-and-paste', 'tcp-socket', 'unix-socket'])
        .default('tcp-socket'),
    )
    .option('--signaling-host <host>', 'tcp-socket: address the offerer listens on / the answerer connects to', '127.0.0.1')
    .option('--signaling-port <port>', 'tcp-socket: port', parseIntOption('--signaling-port', 1, 65535), 1234)
    .option('--signaling-path <path>', 'unix-socket: socket path', 'testbed-signaling.sock')
    .option('--out <dir>', 'directory for CSVs and run metadata (both peers writing to the same directory get a joined frames.csv)', 'results/run')
    .option('--ice-host <addr>', 'address offered as the only ICE host candidate (loopback by default)', '127.0.0.1')
    .option('--connect-timeout <s>', 'give up if signaling or ICE/DTLS is not done within this many seconds', parseFloatOption('--connect-timeout', 0.1), 30)
    .option('--peer-timeout <s>', 'declare the peer gone after this many seconds without RTCP (offer) or media (answer)', parseFloatOption('--peer-timeout', 0.5), 5)
    .option('-v, --verbose', 'log progress to stderr', false);
}

/** The options both peers share, as their run functions take them. */
function sessionOf(o: CommonOpts) {
  return {
    out: o.out,
    verbose: o.verbose,
    iceHost: o.iceHost,
    connectTimeout: o.connectTimeout,
    peerTimeout: o.peerTimeout,
    signaling: { kind: o.signaling, host: o.signalingHost, port: o.signalingPort, path: o.signalingPath } satisfies SignalingOptions,
  };
}

export function buildCli(): Command {
  const program = new Command('testbed')
    .description(
      'Real-time H.264 over WebRTC with our own encoder, packetizer, pacer and receiver;\nmeasures every frame stage by stage.',
    )
    .version(VERSION)
    .showHelpAfterError(false)
    // Commander's own errors ("error: unknown option '--x'\n(Did you mean --y?)") become
    // our one line. Set before .command(): subcommands inherit the output configuration.
    .configureOutput({ outputError: (str, write) => write(`testbed: ${oneLine(str.replace(/^error: /, ''))}\n`) })
    .exitOverride();

  addCommon(
    program
      .command('offer')
      .description('send a video file in real time (the offering peer)')
      .requiredOption('--play-from <file>', 'video file to stream (any container/codec FFmpeg reads)')
      .option('--loop', 'restart the file at its end', false)
      .option('--no-source-cache', "decode the file in real time even when the raw source cache holds its pictures (testbed cache build)")
      .option('--duration <s>', 'stop after this many seconds of media', parseFloatOption('--duration', 0.01))
      .option('--bitrate <bps>', 'encoder target rate, bit/s (the start rate under gcc/external)', parseIntOption('--bitrate', 10_000, 1_000_000_000), 2_000_000)
      .addOption(
        new Option('--rate-control <kind>', 'who sets the target rate: gcc (Google congestion control over transport-wide feedback), fixed (--bitrate), oracle (0.95 × the capacity of --oracle-trace), external (a child process: see README)')
          .choices(['gcc', 'fixed', 'oracle', 'external'])
          .default('gcc'),
      )
      .option('--rate-control-cmd <cmd>', 'external: the command to run (line-based JSON on its stdin/stdout)')
      .option('--oracle-trace <trace>', 'oracle: the trace the link replays (a .trace file or a bundled name, see `testbed traces list`); its up capacity is used')
      .option('--trace-start-ms <ms>', 'oracle: CLOCK_MONOTONIC time (ms) when the link started replaying the trace (default: when streaming starts)', parseFloatOption('--trace-start-ms', 0))
      .option('--min-bitrate <bps>', 'lowest target a controller may set', parseIntOption('--min-bitrate', 10_000, 1_000_000_000), 100_000)
      .option('--max-bitrate <bps>', 'highest target a controller may set', parseIntOption('--max-bitrate', 10_000, 1_000_000_000), 20_000_000)
      .option('--probe-interval <s>', 'gcc: also probe every this many seconds when not application limited, so the estimate finds capacity that came back (0: only as libwebrtc does — initial, ALR and after a large drop)', parseFloatOption('--probe-interval', 0), DEFAULT_PROBE_INTERVAL_S)
      .option('--keyint <frames>', 'force an I-frame every this many frames (0: only the first; with --intra-refresh: the refresh period)', parseIntOption('--keyint', 0), X264_DEFAULTS.keyint)
      .option('--preset <name>', 'x264 preset', X264_DEFAULTS.preset)
      .option('--encoder-threads <n>', "x264 threads of the primary encoder (sliced threads with tune zerolatency: no added delay; the backup and seed encoders stay at 1, reproducible at the receiver)", parseIntOption('--encoder-threads', 1, 16), 1)
      .option('--tune <name>', 'x264 tune', X264_DEFAULTS.tune)
      .option('--vbv-buffer <ms>', 'x264 VBV buffer in ms of the target rate (bounds I-frame bursts)', parseIntOption('--vbv-buffer', 10, 10_000), X264_DEFAULTS.vbvBufferMs)
      .option('--intra-refresh', "x264 periodic intra refresh instead of scheduled I-frames: a wave of intra blocks crosses the picture every --keyint frames; I-frames only for the first picture and PLI (dual mode: backups then only for those)", false)
      .option('--width <px>', 'scale to this width', parseIntOption('--width', 16, 8192))
      .option('--height <px>', 'scale to this height', parseIntOption('--height', 16, 8192))
      .option('--mtu <bytes>', 'largest RTP packet, bytes', parseIntOption('--mtu', 200, 9000), 1200)
      .addOption(
        new Option('--mode <mode>', 'single: one stream; dual: every I-frame shadowed by a backup P-frame on a second stream')
          .choices(['single', 'dual'])
          .default('single'),
      )
      .addOption(
        new Option('--backup-reference <strategy>', 'dual mode: what backup P-frames predict from (episodic: the previous episode; shared: a seed IDR of the last decoded primary picture built at both ends)')
          .choices(['episodic', 'shared'])
          .default('shared'),
      )
      .option('--backup-crf <crf>', "dual mode: give the backup encoder constant quality CRF (capped by the same VBV) instead of the primary's ABR rate control; 'off' = ABR, where the never-sent seed IDR drains its budget and backup P-frames come out small", parseCrf, null)
      .option('--backup-bitrate <bps>', "dual mode: the backup encoder's target rate (default: 1/9 of --bitrate, the backup's 10 % of a rate controller's target against the primary's 90 %)", parseIntOption('--backup-bitrate', 10_000, 1_000_000_000))
      .option('--pacing-factor <x>', 'pacing rate = factor × target rate (libwebrtc: 2.5)', parseFloatOption('--pacing-factor', 0.1, 100), 2.5)
      .addOption(
        new Option('--backup-end <rule>', "dual mode: what ends a backup episode (iframe-complete: the receiver holds the I-frame, the prototype's rule; caught-up: the primary stream is back on time at the receiver)")
          .choices(['iframe-complete', 'caught-up'])
          .default('caught-up'),
      )
      .option('--feedback-timeout <ms>', 'dual mode: end a backup episode if the feedback its end rule waits for has not come within this time', parseIntOption('--feedback-timeout', 1, 60_000), 1000)
      // A hook, not the action: experiment specs are checked by parsing with the action replaced.
      .hook('preAction', (cmd) => {
        if (cmd.opts().intraRefresh && cmd.opts().keyint === 0) throw new UsageError('--intra-refresh needs --keyint > 0 (the refresh period in frames)');
      }),
  ).action(async (opts) => {
    const o = opts as CommonOpts & Record<string, unknown>;
    await runOffer({
      playFrom: o.playFrom as string,
      sourceCache: o.sourceCache as boolean,
      encoderThreads: o.encoderThreads as number,
      loop: o.loop as boolean,
      duration: (o.duration as number | undefined) ?? null,
      bitrate: o.bitrate as number,
      keyint: o.keyint as number,
      preset: o.preset as string,
      tune: o.tune as string,
      vbvBufferMs: o.vbvBuffer as number,
      intraRefresh: o.intraRefresh as boolean,
      width: o.width as number | undefined,
      height: o.height as number | undefined,
      mtu: o.mtu as number,
      mode: o.mode as 'single' | 'dual',
      backupReference: o.backupReference as 'episodic' | 'shared',
      feedbackTimeoutMs: o.feedbackTimeout as number,
      backupEnd: o.backupEnd as BackupEnd,
      rateControl: o.rateControl as 'gcc' | 'fixed' | 'oracle' | 'external',
      rateControlCmd: o.rateControlCmd as string | undefined,
      oracleTrace: o.oracleTrace as string | undefined,
      traceStartMs: o.traceStartMs as number | undefined,
      minBitrate: o.minBitrate as number,
      maxBitrate: o.maxBitrate as number,
      probeIntervalS: o.probeInterval as number,
      backupCrf: o.backupCrf as number | null,
      backupBitrate: (o.backupBitrate as number | undefined) ?? null,
      pacingFactor: o.pacingFactor as number,
      ...sessionOf(o),
    });
  });

  addCommon(
    program
      .command('answer')
      .description('receive, decode and render in real time (the answering peer)')
      .option('--record-to <file>', 'write the rendered pictures to an MP4 (or raw Y4M when the name ends in .y4m)')
      .option(
        '--playout-delay <min,max>',
        "playout delay bounds in ms (libwebrtc's playout-delay semantics); 0,500 selects libwebrtc's low-latency rendering (default: libwebrtc's 0,10000)",
        parsePlayoutDelay,
      )
      .option('--drop <kind:frame[:always]>', 'inject loss: drop the last packet of this frame on arrival (once: NACK can recover it; always: every retransmission too); rtcp-bye: drop every RTCP BYE; repeatable', (v: string, acc: DropSpec[]) => [...acc, asUsage(() => parseDropSpec(v))], [] as DropSpec[])
      .option('--no-iframe-feedback', 'dual mode: never send the episode feedback, I-frame complete or caught up (the sender then ends each backup episode by its timeout)'),
  ).action(async (opts) => {
    const o = opts as CommonOpts & { recordTo?: string; playoutDelay?: { min: number; max: number }; iframeFeedback: boolean; drop: DropSpec[] };
    await runAnswer({
      iframeFeedback: o.iframeFeedback,
      drop: o.drop,
      recordTo: o.recordTo,
      playoutDelay: o.playoutDelay,
      ...sessionOf(o),
    });
  });

  program
    .command('join')
    .description('join sender-frames.csv and receiver-frames.csv written to different directories into frames.csv')
    .argument('<sender_dir>', "directory the offer wrote (--out of 'testbed offer')")
    .argument('<receiver_dir>', "directory the answer wrote (--out of 'testbed answer')")
    .option('-o, --output <file>', 'where to write the joined CSV (default: SENDER_DIR/frames.csv)')
    .action((senderDir: string, receiverDir: string, opts: { output?: string }) => {
      process.stdout.write(joinRun(senderDir, receiverDir, opts.output) + '\n');
    });

  addSummaryCommand(program);
  addCompareCommand(program);
  addRunCommand(program, buildCli);
  addTracesCommand(program);
  addClipsCommand(program);
  addCacheCommand(program);
  addPlotCommand(program);
  return program;
}

/** Turns a parser's own error into a usage error (exit 2). */
function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function parseCrf(v: string): number | null {
  if (v === 'off') return null;
  return parseFloatOption('--backup-crf', 0, 51)(v);
}

function parsePlayoutDelay(v: string): { min: number; max: number } {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(v);
  if (!m || Number(m[1]) > Number(m[2])) throw new UsageError(`--playout-delay must be MIN,MAX in ms with MIN <= MAX, got '${v}'`);
  return { min: Number(m[1]), max: Number(m[2]) };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed its one line (or the help / version text).
      return e.exitCode === 0 ? 0 : 2;
    }
    const err = e as Error;
    // Lower layers (rate control, traces) mark the user's own input errors by name only, so
    // they need not depend on the CLI.
    const code = e instanceof UsageError ? e.exitCode : err?.name === 'UsageError' ? 2 : 1;
    process.stderr.write(`testbed: ${(err?.message ?? String(e)).split('\n')[0]}\n`);
    if (process.argv.includes('--verbose') || process.argv.includes('-v')) process.stderr.write(`${err?.stack}\n`);
    return code;
  }
}

