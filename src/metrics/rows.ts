/**
 * The CSV rows and run metadata, in one place. Times are milliseconds on the writer's
 * monotonic clock (CLOCK_MONOTONIC, shared by all processes of one host); the join
 * moves receiver times onto the sender's clock with the offset in the run metadata.
 */
import type { FrameFate } from '../receiver/frame-records';
import type { StreamKind } from '../rtp/types';

/** One row per encoded frame per stream, written by the sender. */
export interface SenderFrameRow {
  frame_id: number;
  stream: StreamKind;
  /** Index of the picture in the source file (frame ids keep growing when looping). */
  source_index: number;
  frame_type: 'I' | 'P' | '';
  size_bytes: number;
  qp: number | '';
  packets: number;
  rtp_timestamp: number;
  capture_ms: number;
  encode_start_ms: number | '';
  encode_end_ms: number | '';
  pacer_enqueue_ms: number | '';
  first_sent_ms: number | '';
  last_sent_ms: number | '';
  /**
   * Why the frame never left whole ('' when it was sent): encoder-busy (never encoded),
   * stopped (the run ended first), flushed (its queued packets made way for a key frame).
   */
  dropped: string;
}

export type NotRenderedReason = '' | FrameFate;

/** One row per frame per stream, written by the receiver. */
export interface ReceiverFrameRow {
  frame_id: number;
  stream: StreamKind;
  frame_type: 'I' | 'P' | '';
  size_bytes: number;
  packets: number;
  duplicates: number;
  first_recv_ms: number | '';
  last_recv_ms: number | '';
  complete_ms: number | '';
  decode_start_ms: number | '';
  decode_end_ms: number | '';
  render_ms: number | '';
  rendered: 0 | 1;
  /** Which stream's version of this picture was rendered ('' when none was, or not known when the row closed). */
  rendered_from: StreamKind | '';
  not_rendered_reason: NotRenderedReason;
  /** Jitter-buffer state when the frame was scheduled: the jitter estimate, the playout delay and its target. */
  jitter_estimate_ms: number | '';
  current_delay_ms: number | '';
  target_delay_ms: number | '';
  /**
   * The frame delay variation this version fed to the jitter estimator (ms): arrival of its
   * last packet against its RTP timestamp, relative to the previous fed frame; '' when it did
   * not feed it (not the first complete version of its picture, or the first frame).
   */
  jitter_frame_delay_ms: number | '';
}

/** The joined row: sender and receiver columns plus latency components along the frame's last packet. */
export interface JoinedFrameRow extends Omit<SenderFrameRow, 'dropped'>, Omit<ReceiverFrameRow, 'frame_id' | 'stream' | 'frame_type' | 'size_bytes' | 'packets'> {
  dropped: string;
  received_packets: number;
  /** capture → encode end (includes waiting for the encoder). */
  encode_ms: number | '';
  /** encode end → last packet sent (packetization and pacing). */
  pacer_ms: number | '';
  /** last packet sent → last packet received. */
  network_ms: number | '';
  /** last packet received → decode start (assembly and jitter buffer). */
  jitter_ms: number | '';
  decode_ms: number | '';
  /** decode end → render (waiting for the render time). */
  render_wait_ms: number | '';
  /** capture → render. */
  e2e_ms: number | '';
}

/** One row per state-machine transition or notable event at the sender (events.csv). */
export interface SenderEventRow {
  time_ms: number;
  event: 'transition' | 'feedback-received' | 'backup-skipped';
  from_state: string;
  to_state: string;
  frame_id: number;
  cause: string;
}

/** Receiver events (receiver-events.csv): feedback sent, seeds built, switches of the rendered stream. */
export interface ReceiverEventRow {
  time_ms: number;
  event: 'feedback-sent' | 'seed-built' | 'seed-failed' | 'render-switch' | 'decoder-error' | 'keyframe-request';
  stream: StreamKind | '';
  frame_id: number;
  detail: string;
}

/** One row per rate-control update at the sender (network.csv). */
export interface NetworkRow {
  time_ms: number;
  controller: string;
  target_bps: number;
  pacing_bps: number;
  /**
   * Sent over the last second, all streams, as IP packets: RTP packet + SRTP tag + UDP/IP
   * headers (the size the rate controller counts; link-layer headers are not included).
   */
  sent_bps: number;
  /** Acknowledged by transport-wide feedback over its last window, counted as sent_bps ('' before any feedback). */
  received_bps: number | '';
  rtt_ms: number | '';
  loss_fraction: number | '';
  delay_gradient: number | '';
  threshold: number | '';
  detector: string;
}

/**
 * One row per 100 ms per direction of an emulated link (link.csv): what the trace asked
 * for against what the link delivered, read from the qdisc's own counters.
 */
export interface LinkRow {
  /** Sender's monotonic clock, ms (the clock of frames.csv and network.csv). */
  time_ms: number;
  /** Seconds into the trace (the trace's own time, before looping). */
  trace_s: number;
  /** up: offer → answer (media); down: answer → offer (feedback). */
  direction: 'up' | 'down';
  /** Capacity the trace asks for in this bin, kbit/s. */
  capacity_kbit: number;
  /** IP bytes the shaper let through in this bin, as kbit/s. */
  throughput_kbit: number;
  /** Bytes queued in the shaper at the end of the bin. */
  backlog_bytes: number;
  /** Packets the shaper dropped in this bin (queue overflow). */
  drops: number;
}

/**
 * One row per rendered picture whose quality was measured (quality.csv), in render order:
 * the recording's picture against the source picture it stood for (src/media/quality.ts).
 */
export interface QualityRow {
  frame_id: number;
  source_index: number;
  render_ms: number;
  /** 4:1:1 weighted over Y, U, V (FFmpeg's psnr filter's "all"); capped at 100 dB. */
  psnr_db: number;
  psnr_y_db: number;
}

/**
 * One row per cell of an experiment (results/<experiment>/summary.csv). Latency figures
 * are over rendered pictures of the joined frames.csv; '' where nothing was measured.
 */
export interface ExperimentSummaryRow {
  cell: string;
  arm: string;
  /** The clip's label: a bundled scene's name or the user's file's (spec.ts `clips`). */
  scene: string;
  trace: string;
  trace_family: string;
  repetition: number;
  seed: number;
  duration_s: number;
  frames: number;
  rendered: number;
  e2e_p50_ms: number | '';
  e2e_p95_ms: number | '';
  e2e_p99_ms: number | '';
  encode_mean_ms: number | '';
  pacer_mean_ms: number | '';
  network_mean_ms: number | '';
  jitter_mean_ms: number | '';
  decode_mean_ms: number | '';
  render_wait_mean_ms: number | '';
  /** p95 e2e of pictures whose primary frame is an I-frame / of the other pictures. */
  iframe_picture_p95_ms: number | '';
  pframe_picture_p95_ms: number | '';
  freezes: number;
  fps: number | '';
  /** Sent over the run (all streams, retransmissions and probes), as IP packets like network.csv's sent_bps, kbit/s. */
  bitrate_kbps: number | '';
  /** Backup stream bytes as a percentage of primary bytes (0 in single mode). */
  backup_bytes_pct: number | '';
  /** Primary stream: mean I-frame and P-frame size, and I / neighbouring P (metrics/frame-sizes.ts). */
  iframe_bytes_mean: number | '';
  pframe_bytes_mean: number | '';
  i_to_p: number | '';
  psnr_db: number | '';
  /** CPU starvation over the whole run, from the peers' metadata (metrics/starvation.ts); '' when not recorded. */
  late_captures: number | '';
  encoder_busy_drops: number | '';
  decoder_backlog: number | '';
  /** Mean link utilisation (delivered / capacity, media direction) when a trace was replayed. */
  utilisation_pct: number | '';
}

/** Who a peer is, exchanged in signaling so the join knows whether clocks are shared. */
export interface PeerInfo {
  hostname: string;
  /** /proc/sys/kernel/random/boot_id: equal ids mean one kernel, hence one CLOCK_MONOTONIC. */
  bootId: string;
  pid: number;
  version: string;
}

export interface ClockRelation {
  /** receiver_clock − sender_clock, ms. */
  offsetMs: number;
  method: 'shared-monotonic-clock' | 'rtcp-round-trip' | 'not-estimated';
  /** Uncertainty bound (half the round trip of the best sample), ms; 0 when shared. */
  uncertaintyMs: number;
  samples: number;
}

export interface RunMeta {
  role: 'sender' | 'receiver';
  command: string[];
  versions: Record<string, string>;
  options: Record<string, unknown>;
  self: PeerInfo;
  peer: PeerInfo | null;
  clock: ClockRelation | null;
  started_ms: number;
  ended_ms: number | null;
  complete: boolean;
  incomplete_reason: string | null;
  counters: Record<string, number>;
}

/** Column order of each CSV (every field of its row type, checked by the compiler). */
function columns<Row>() {
  return <K extends (keyof Row & string)[]>(...cols: K & ([keyof Row] extends [K[number]] ? unknown : 'missing column')) => cols;
}

export const SENDER_COLUMNS = columns<SenderFrameRow>()(
  'frame_id', 'stream', 'source_index', 'frame_type', 'size_bytes', 'qp', 'packets', 'rtp_timestamp',
  'capture_ms', 'encode_start_ms', 'encode_end_ms', 'pacer_enqueue_ms', 'first_sent_ms', 'last_sent_ms', 'dropped',
);

export const SENDER_EVENT_COLUMNS = columns<SenderEventRow>()('time_ms', 'event', 'from_state', 'to_state', 'frame_id', 'cause');
export const RECEIVER_EVENT_COLUMNS = columns<ReceiverEventRow>()('time_ms', 'event', 'stream', 'frame_id', 'detail');

export const NETWORK_COLUMNS = columns<NetworkRow>()(
  'time_ms', 'controller', 'target_bps', 'pacing_bps', 'sent_bps', 'received_bps', 'rtt_ms', 'loss_fraction',
  'delay_gradient', 'threshold', 'detector',
);

export const RECEIVER_COLUMNS = columns<ReceiverFrameRow>()(
  'frame_id', 'stream', 'frame_type', 'size_bytes', 'packets', 'duplicates', 'first_recv_ms', 'last_recv_ms',
  'complete_ms', 'decode_start_ms', 'decode_end_ms', 'render_ms', 'rendered', 'rendered_from', 'not_rendered_reason',
  'jitter_estimate_ms', 'current_delay_ms', 'target_delay_ms', 'jitter_frame_delay_ms',
);

export const JOINED_COLUMNS = columns<JoinedFrameRow>()(
  'frame_id', 'stream', 'source_index', 'frame_type', 'size_bytes', 'qp', 'packets', 'received_packets', 'duplicates',
  'rtp_timestamp', 'capture_ms', 'encode_start_ms', 'encode_end_ms', 'pacer_enqueue_ms', 'first_sent_ms', 'last_sent_ms',
  'first_recv_ms', 'last_recv_ms', 'complete_ms', 'decode_start_ms', 'decode_end_ms', 'render_ms', 'rendered',
  'rendered_from', 'not_rendered_reason', 'dropped', 'jitter_estimate_ms', 'current_delay_ms', 'target_delay_ms',
  'jitter_frame_delay_ms', 'encode_ms', 'pacer_ms', 'network_ms', 'jitter_ms', 'decode_ms', 'render_wait_ms', 'e2e_ms',
);

export const LINK_COLUMNS = columns<LinkRow>()(
  'time_ms', 'trace_s', 'direction', 'capacity_kbit', 'throughput_kbit', 'backlog_bytes', 'drops',
);

/**
 * Columns summary.csv gained after its first version (the scene and I/P sizes with clips as
 * a dimension, the CPU starvation counts): files written before lack them, and readers
 * take them as empty.
 */
export const SUMMARY_COLUMNS_ADDED_LATER: readonly (keyof ExperimentSummaryRow)[] = [
  'scene', 'iframe_bytes_mean', 'pframe_bytes_mean', 'i_to_p', 'late_captures', 'encoder_busy_drops', 'decoder_backlog',
];

export const EXPERIMENT_SUMMARY_COLUMNS = columns<ExperimentSummaryRow>()(
  'cell', 'arm', 'scene', 'trace', 'trace_family', 'repetition', 'seed', 'duration_s', 'frames', 'rendered',
  'e2e_p50_ms', 'e2e_p95_ms', 'e2e_p99_ms', 'encode_mean_ms', 'pacer_mean_ms', 'network_mean_ms', 'jitter_mean_ms',
  'decode_mean_ms', 'render_wait_mean_ms', 'iframe_picture_p95_ms', 'pframe_picture_p95_ms', 'freezes', 'fps',
  'bitrate_kbps', 'backup_bytes_pct', 'iframe_bytes_mean', 'pframe_bytes_mean', 'i_to_p', 'psnr_db', 'utilisation_pct',
  'late_captures', 'encoder_busy_drops', 'decoder_backlog',
);

export const QUALITY_COLUMNS = columns<QualityRow>()('frame_id', 'source_index', 'render_ms', 'psnr_db', 'psnr_y_db');
