/**
 * A run directory and an experiment directory as typed records, read once. Files a run
 * may lack (events, network, link, metadata) come back as null; frames.csv is required.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EXPERIMENT_SUMMARY_COLUMNS, SUMMARY_COLUMNS_ADDED_LATER } from '../metrics/rows';
import { numOrNull, readOptionalTable, readTable, ReportInputError, type Row } from './input';

import { PATH_COMPONENTS as COMPONENTS } from '../metrics/summary';

export { COMPONENTS };
export type Component = (typeof COMPONENTS)[number];

export interface FrameRecord {
  frameId: number;
  stream: string;
  frameType: string;
  captureMs: number;
  sizeBytes: number;
  rendered: boolean;
  renderedFrom: string;
  renderMs: number | null;
  e2eMs: number | null;
  components: Record<Component, number | null>;
  /** The jitter buffer when the frame was scheduled (null when not recorded: older runs have no target). */
  jitterEstimateMs: number | null;
  currentDelayMs: number | null;
  targetDelayMs: number | null;
}

export interface EventRecord {
  timeMs: number;
  event: string;
  fromState: string;
  toState: string;
  frameId: number;
  cause: string;
}

export interface NetworkRecord {
  timeMs: number;
  targetBps: number | null;
  sentBps: number | null;
  receivedBps: number | null;
  rttMs: number | null;
  lossFraction: number | null;
}

export interface LinkRecord {
  timeMs: number;
  direction: string;
  capacityKbit: number | null;
  throughputKbit: number | null;
}

export interface QualityRecord {
  frameId: number;
  renderMs: number;
  psnrDb: number;
  psnrYDb: number;
}

export interface RunData {
  dir: string;
  name: string;
  frames: FrameRecord[];
  events: EventRecord[] | null;
  network: NetworkRecord[] | null;
  link: LinkRecord[] | null;
  /** quality.csv: PSNR per rendered picture, when the run measured it. */
  quality: QualityRecord[] | null;
  /** summary.json and meta.json as written (their shape belongs to their writers). */
  summary: Record<string, unknown> | null;
  meta: Record<string, unknown> | null;
}

export interface ExperimentRecord {
  cell: string;
  arm: string;
  /** The clip's label ('' in a summary.csv written before clips were a dimension). */
  scene: string;
  trace: string;
  traceFamily: string;
  /** Every numeric column of summary.csv (null where empty). */
  values: Record<string, number | null>;
}

export interface ExperimentData {
  dir: string;
  name: string;
  rows: ExperimentRecord[];
  /** Cells with a frames.csv, in summary.csv order. */
  runs: RunData[];
  /** Cells listed in summary.csv whose directory holds no frames.csv (failed or not run). */
  missing: string[];
}

function readJson(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch (e) {
    throw new ReportInputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

const FRAME_NUMERIC = ['size_bytes', 'render_ms', 'e2e_ms', ...COMPONENTS] as const;

function frameOf(r: Row): FrameRecord {
  return {
    frameId: Number(r.frame_id),
    stream: r.stream,
    frameType: r.frame_type,
    captureMs: Number(r.capture_ms),
    sizeBytes: numOrNull(r.size_bytes) ?? 0,
    rendered: r.rendered === '1',
    renderedFrom: r.rendered_from,
    renderMs: numOrNull(r.render_ms),
    e2eMs: numOrNull(r.e2e_ms),
    components: Object.fromEntries(COMPONENTS.map((c) => [c, numOrNull(r[c])])) as Record<Component, number | null>,
    jitterEstimateMs: numeric(r.jitter_estimate_ms),
    currentDelayMs: numeric(r.current_delay_ms),
    targetDelayMs: numeric(r.target_delay_ms),
  };
}

/** An optional column's number (absent, empty or not a number: null). */
function numeric(v: string | undefined): number | null {
  const n = numOrNull(v);
  return n !== null && Number.isFinite(n) ? n : null;
}

export function loadRun(dir: string): RunData {
  const framesPath = join(dir, 'frames.csv');
  if (!existsSync(framesPath)) throw new ReportInputError(`no frames.csv in ${dir} (run 'testbed join' first?)`);
  const frames = readTable(framesPath, {
    required: ['frame_id', 'stream', 'frame_type', 'capture_ms', 'rendered', 'rendered_from', ...FRAME_NUMERIC],
    present: ['frame_id', 'capture_ms'],
    numeric: FRAME_NUMERIC,
  }).map(frameOf);
  const events = readOptionalTable(join(dir, 'events.csv'), {
    required: ['time_ms', 'event', 'from_state', 'to_state', 'frame_id'],
    present: ['time_ms'],
    numeric: ['frame_id'],
    allowEmpty: true,
  });
  const network = readOptionalTable(join(dir, 'network.csv'), {
    required: ['time_ms', 'target_bps', 'sent_bps', 'received_bps', 'rtt_ms', 'loss_fraction'],
    present: ['time_ms'],
    numeric: ['target_bps', 'sent_bps', 'received_bps', 'rtt_ms', 'loss_fraction'],
    allowEmpty: true,
  });
  const link = readOptionalTable(join(dir, 'link.csv'), {
    required: ['time_ms', 'direction', 'capacity_kbit', 'throughput_kbit'],
    present: ['time_ms'],
    numeric: ['capacity_kbit', 'throughput_kbit'],
    allowEmpty: true,
  });
  const quality = readOptionalTable(join(dir, 'quality.csv'), {
    required: ['frame_id', 'render_ms', 'psnr_db', 'psnr_y_db'],
    present: ['frame_id', 'render_ms', 'psnr_db', 'psnr_y_db'],
    numeric: ['frame_id', 'render_ms', 'psnr_db', 'psnr_y_db'],
    allowEmpty: true,
  });
  return {
    dir,
    name: basename(dir),
    frames,
    quality:
      quality?.map((r) => ({ frameId: Number(r.frame_id), renderMs: Number(r.render_ms), psnrDb: Number(r.psnr_db), psnrYDb: Number(r.psnr_y_db) })) ?? null,
    events:
      events?.map((r) => ({
        timeMs: Number(r.time_ms),
        event: r.event,
        fromState: r.from_state,
        toState: r.to_state,
        frameId: Number(r.frame_id),
        cause: r.cause ?? '',
      })) ?? null,
    network:
      network?.map((r) => ({
        timeMs: Number(r.time_ms),
        targetBps: numOrNull(r.target_bps),
        sentBps: numOrNull(r.sent_bps),
        receivedBps: numOrNull(r.received_bps),
        rttMs: numOrNull(r.rtt_ms),
        lossFraction: numOrNull(r.loss_fraction),
      })) ?? null,
    link:
      link?.map((r) => ({
        timeMs: Number(r.time_ms),
        direction: r.direction,
        capacityKbit: numOrNull(r.capacity_kbit),
        throughputKbit: numOrNull(r.throughput_kbit),
      })) ?? null,
    summary: readJson(join(dir, 'summary.json')),
    meta: readJson(join(dir, 'meta.json')),
  };
}

const LABELS = ['cell', 'arm', 'scene', 'trace', 'trace_family'] as const;
const REQUIRED_SUMMARY = EXPERIMENT_SUMMARY_COLUMNS.filter((c) => !SUMMARY_COLUMNS_ADDED_LATER.includes(c));
const SUMMARY_NUMERIC = EXPERIMENT_SUMMARY_COLUMNS.filter((c) => !(LABELS as readonly string[]).includes(c));

export function loadExperiment(dir: string): ExperimentData {
  const rows = readTable(join(dir, 'summary.csv'), { required: REQUIRED_SUMMARY, numeric: SUMMARY_NUMERIC }).map(
    (r): ExperimentRecord => ({
      cell: r.cell,
      arm: r.arm,
      scene: r.scene ?? '',
      trace: r.trace,
      traceFamily: r.trace_family,
      values: Object.fromEntries(SUMMARY_NUMERIC.map((c) => [c, numOrNull(r[c])])),
    }),
  );
  const runs: RunData[] = [];
  const missing: string[] = [];
  for (const r of rows) {
    const cellDir = join(dir, r.cell);
    if (existsSync(join(cellDir, 'frames.csv'))) runs.push(loadRun(cellDir));
    else missing.push(r.cell);
  }
  return { dir, name: basename(dir), rows, runs, missing };
}

export type DirKind = 'run' | 'experiment';

/** An experiment directory has summary.csv and cell subdirectories; a run directory has frames.csv. */
export function detectKind(dir: string): DirKind {
  if (!existsSync(dir)) throw new ReportInputError(`no such directory: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new ReportInputError(`${dir} is not a directory`);
  const hasSubdirs = readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
  if (existsSync(join(dir, 'summary.csv')) && hasSubdirs) return 'experiment';
  if (existsSync(join(dir, 'frames.csv'))) return 'run';
  throw new ReportInputError(`${dir} holds neither frames.csv (a run) nor summary.csv with cell directories (an experiment)`);
}
