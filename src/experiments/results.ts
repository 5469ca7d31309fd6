/**
 * The results layout of an experiment and what it says about each cell:
 *
 *   <out>/spec.json                 the spec as run
 *   <out>/summary.csv               one row per finished cell (rebuilt from the cells)
 *   <out>/<cell id>/meta.json       how the cell ran (commands, versions, link, timing)
 *   <out>/<cell id>/summary.json    its figures (summary.csv's row and more)
 *   <out>/<cell id>/…               the peers' CSVs, link.csv, trace.trace, logs
 *
 * summary.csv is derived data: it is rebuilt from every cell's summary.json, never
 * appended to, so cells finished by separate processes (a Slurm array) need no lock —
 * each rebuild writes a temporary file and renames it over the old one.
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CsvWriter } from '../metrics/csv';
import { EXPERIMENT_SUMMARY_COLUMNS, type ExperimentSummaryRow } from '../metrics/rows';
import type { ClipAnalysis } from '../media/clip-analysis';
import type { Starvation } from '../metrics/starvation';
import type { ReplayReport } from './link';
import { cellFingerprint, type Cell } from './matrix';
import type { ExperimentSpec } from './spec';

/** summary.csv's row: the contract's columns plus whether the cell finished (failed cells are listed, marked). */
export interface CellSummaryRow extends ExperimentSummaryRow {
  complete: 0 | 1;
  incomplete_reason: string;
}

export const CELL_SUMMARY_COLUMNS: (keyof CellSummaryRow & string)[] = [...EXPERIMENT_SUMMARY_COLUMNS, 'complete', 'incomplete_reason'];

/** meta.json of a cell. */
export interface CellMeta {
  experiment: string;
  spec: string;
  cell: string;
  index: number;
  arm: string;
  repetition: number;
  seed: number;
  /** Hash of what the results depend on (matrix.ts cellFingerprint). */
  fingerprint: string;
  duration_s: number;
  warmup_s: number;
  clip: string;
  /** The clip's label (cell ids, summary.csv's scene column). */
  scene: string;
  /** The clip measured (SI/TI, I/P sizes per rate; media/clip-analysis.ts); null when it could not be. */
  clip_analysis: ClipAnalysis | null;
  /** The peers' CPU starvation counts (metrics/starvation.ts; null until the cell is summarized) and the warning, if any. */
  starvation: { counts: Partial<Starvation>; warning: string | null } | null;
  trace: { label: string; ref: string; family: string; transforms: Record<string, unknown>; file: string; source: string } | null;
  /** Exact command lines of both peers, as spawned. */
  commands: { offer: string[]; answer: string[] };
  versions: Record<string, string>;
  link: {
    qdisc: string;
    queue_ms: number | null;
    queue_bytes: number | null;
    features: Record<string, unknown>;
    not_emulated: string[];
  } | null;
  /** The trace replay's timing error and the link monitor's sampling, when shaped. */
  replay: ReplayReport | null;
  timing: {
    /** CLOCK_MONOTONIC ms, the clock of every CSV. */
    started_ms: number;
    /** When the peers were launched (trace_start_ms − peers_started_ms is the lead given for start-up). */
    peers_started_ms: number | null;
    /** When the link started replaying the trace (trace time 0); null when unshaped. */
    trace_start_ms: number | null;
    /** First picture captured by the sender. */
    stream_start_ms: number | null;
    ended_ms: number | null;
  };
  peers: Record<'offer' | 'answer', { exit_code: number | null; signal: string | null; last_line: string }>;
  started_at: string;
  /** null while the cell runs (or if its runner died). */
  ended_at: string | null;
  complete: boolean;
  incomplete_reason: string | null;
}

/** The fields of a cell's meta.json that say which cell of which experiment it is. */
export type CellIdentity = Pick<CellMeta, 'experiment' | 'spec' | 'cell' | 'index' | 'arm' | 'repetition' | 'seed' | 'fingerprint' | 'duration_s' | 'warmup_s' | 'clip' | 'scene'>;

export function cellIdentity(spec: ExperimentSpec, cell: Cell): CellIdentity {
  return {
    experiment: spec.name,
    spec: spec.path,
    cell: cell.id,
    index: cell.index,
    arm: cell.arm.name,
    repetition: cell.repetition,
    seed: cell.seed,
    fingerprint: cellFingerprint(spec, cell),
    duration_s: spec.durationS,
    warmup_s: spec.warmupS,
    clip: cell.clip.file,
    scene: cell.clip.label,
  };
}

/** summary.json of a cell. */
export interface CellSummaryFile {
  cell: string;
  complete: boolean;
  row: CellSummaryRow;
  [more: string]: unknown;
}

export function defaultOutDir(experiment: string): string {
  return resolve('results', experiment);
}

export function cellDir(outDir: string, cell: Pick<Cell, 'id'>): string {
  return join(outDir, cell.id);
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function readCellMeta(dir: string): CellMeta | null {
  return readJson<CellMeta>(join(dir, 'meta.json'));
}

export function readCellSummary(dir: string): CellSummaryFile | null {
  return readJson<CellSummaryFile>(join(dir, 'summary.json'));
}

export type CellStatus =
  | { state: 'done' }
  | { state: 'absent' }
  | { state: 'failed'; reason: string }
  | { state: 'unfinished' }
  | { state: 'stale'; reason: string };

/**
 * Whether a cell needs running. Done: summary.json exists, meta.json says complete, and
 * the cell was run under the same definition (fingerprint). Anything else runs again.
 */
export function cellStatus(dir: string, fingerprint: string): CellStatus {
  const meta = readCellMeta(dir);
  if (!meta) return existsSync(dir) ? { state: 'unfinished' } : { state: 'absent' };
  if (meta.ended_at === null) return { state: 'unfinished' };
  if (!meta.complete) return { state: 'failed', reason: meta.incomplete_reason ?? 'unknown' };
  if (!readCellSummary(dir)) return { state: 'failed', reason: 'summary.json missing' };
  if (meta.fingerprint !== fingerprint) return { state: 'stale', reason: 'the spec changed for this cell since it ran' };
  return { state: 'done' };
}

export function shouldRun(status: CellStatus, force: boolean): boolean {
  return force || status.state !== 'done';
}

/**
 * The summary.csv rows of the cells that finished, in the matrix order: a cell's own row
 * from summary.json, or, for a cell that failed before it measured anything, its identity
 * with empty figures. Cells never run, or still running, have no row.
 */
export function collectSummaryRows(outDir: string, cells: Cell[]): CellSummaryRow[] {
  const rows: CellSummaryRow[] = [];
  for (const cell of cells) {
    const dir = cellDir(outDir, cell);
    const meta = readCellMeta(dir);
    if (!meta || meta.ended_at === null) continue;
    const summary = readCellSummary(dir);
    if (summary?.row) {
      rows.push({ ...summary.row, complete: meta.complete ? 1 : 0, incomplete_reason: meta.complete ? '' : (meta.incomplete_reason ?? '') });
      continue;
    }
    rows.push(emptyRow(cell, meta));
  }
  return rows;
}

function emptyRow(cell: Cell, meta: CellMeta): CellSummaryRow {
  return {
    cell: cell.id,
    arm: cell.arm.name,
    scene: cell.clip.label,
    trace: cell.trace.label,
    trace_family: meta.trace?.family ?? (cell.trace.kind === 'none' ? 'none' : ''),
    repetition: cell.repetition,
    seed: cell.seed,
    duration_s: 0,
    frames: 0,
    rendered: 0,
    e2e_p50_ms: '',
    e2e_p95_ms: '',
    e2e_p99_ms: '',
    encode_mean_ms: '',
    pacer_mean_ms: '',
    network_mean_ms: '',
    jitter_mean_ms: '',
    decode_mean_ms: '',
    render_wait_mean_ms: '',
    iframe_picture_p95_ms: '',
    pframe_picture_p95_ms: '',
    freezes: 0,
    fps: '',
    bitrate_kbps: '',
    backup_bytes_pct: '',
    iframe_bytes_mean: '',
    pframe_bytes_mean: '',
    i_to_p: '',
    psnr_db: '',
    utilisation_pct: '',
    late_captures: '',
    encoder_busy_drops: '',
    decoder_backlog: '',
    complete: 0,
    incomplete_reason: meta.incomplete_reason ?? 'unknown',
  };
}

/** Rebuilds <out>/summary.csv from the cells (temporary file + rename: readers never see half a file). */
export async function rebuildSummaryCsv(outDir: string, cells: Cell[]): Promise<{ path: string; rows: number }> {
  const path = join(outDir, 'summary.csv');
  const tmp = `${path}.tmp-${process.pid}`;
  const rows = collectSummaryRows(outDir, cells);
  const writer = new CsvWriter<CellSummaryRow>(tmp, CELL_SUMMARY_COLUMNS);
  for (const r of rows) writer.write(r);
  try {
    await writer.close();
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { path, rows: rows.length };
}
