/**
 * A cell's figures (one summary.csv row) from the files its run left: frames.csv,
 * network.csv, link.csv and, when measured, per-picture PSNR. Pure: rows in, figures
 * out; reading the files is the runner's.
 *
 * The measurement window starts `warmup_s` after the first captured picture and ends at
 * the last one; every figure is over pictures captured (and 100 ms samples taken) in it.
 */
import type { ExperimentSummaryRow } from '../metrics/rows';
import { ipSizes } from '../metrics/frame-sizes';
import type { Starvation } from '../metrics/starvation';
import { meanOrNaN as mean, summarizeFrames, type RunSummary } from '../metrics/summary';

/** What names a cell in its summary row. */
export type CellIdentity = Pick<ExperimentSummaryRow, 'cell' | 'arm' | 'scene' | 'trace' | 'trace_family' | 'repetition' | 'seed'>;

export interface CellFigures {
  window: { fromMs: number; toMs: number } | null;
  run: RunSummary;
  row: ExperimentSummaryRow;
  /** Mean PSNR over the window's rendered pictures (null when not measured). */
  psnr: { meanDb: number; minDb: number; pictures: number } | null;
}

type Row = Record<string, string>;

const num = (v: string | undefined): number => (v === undefined || v === '' ? Number.NaN : Number(v));
const fig = (v: number, digits = 3): number | '' => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : '');

/** Rendered rows in render order: position i is picture i of the answer's recording. */
export function renderOrder(frames: Row[]): Row[] {
  return frames.filter((r) => r.rendered === '1').sort((a, b) => num(a.render_ms) - num(b.render_ms));
}

export function measurementWindow(frames: Row[], warmupS: number): { fromMs: number; toMs: number } | null {
  const captures = frames.map((r) => num(r.capture_ms)).filter(Number.isFinite);
  if (captures.length === 0) return null;
  const first = Math.min(...captures);
  return { fromMs: first + warmupS * 1000, toMs: Math.max(...captures) };
}

export function summarizeCell(
  id: CellIdentity,
  input: { frames: Row[]; network: Row[]; link: Row[] | null; warmupS: number; psnrByPicture: number[] | null; starvation?: Partial<Starvation> },
): CellFigures {
  const window = measurementWindow(input.frames, input.warmupS);
  const inWindow = (ms: number) => window !== null && ms >= window.fromMs && ms <= window.toMs;
  const frames = input.frames.filter((r) => inWindow(num(r.capture_ms)));
  const run = summarizeFrames(frames);

  const renderTimes = renderOrder(frames).map((r) => num(r.render_ms));
  const span = renderTimes.length > 1 ? (renderTimes[renderTimes.length - 1] - renderTimes[0]) / 1000 : 0;
  const fps = span > 0 ? (renderTimes.length - 1) / span : Number.NaN;

  // IP packets sent (headers, retransmissions and all): network.csv's sent rate.
  const sent = input.network.filter((r) => inWindow(num(r.time_ms))).map((r) => num(r.sent_bps)).filter(Number.isFinite);
  const bitrateKbps = mean(sent) / 1000;

  const primary = run.bytesByStream.primary ?? 0;
  const backupPct = primary > 0 ? (100 * (run.bytesByStream.backup ?? 0)) / primary : Number.NaN;

  // What the link carried: the primary stream's encoded frames in coding order.
  const ip = ipSizes(
    frames
      .filter((r) => r.stream === 'primary' && (r.frame_type === 'I' || r.frame_type === 'P'))
      .sort((a, b) => num(a.frame_id) - num(b.frame_id))
      .map((r) => ({ type: r.frame_type as 'I' | 'P', bytes: num(r.size_bytes) })),
  );

  let utilisation = Number.NaN;
  if (input.link) {
    const up = input.link.filter((r) => r.direction === 'up' && inWindow(num(r.time_ms)));
    const capacity = up.reduce((a, r) => a + (num(r.capacity_kbit) || 0), 0);
    const delivered = up.reduce((a, r) => a + (num(r.throughput_kbit) || 0), 0);
    if (capacity > 0) utilisation = (100 * delivered) / capacity;
  }

  // PSNR: the recording holds every rendered picture; keep those captured in the window.
  let psnr: CellFigures['psnr'] = null;
  if (input.psnrByPicture) {
    const all = renderOrder(input.frames);
    const kept = input.psnrByPicture.filter((_, i) => all[i] !== undefined && inWindow(num(all[i].capture_ms)));
    if (kept.length) psnr = { meanDb: mean(kept), minDb: Math.min(...kept), pictures: kept.length };
  }

  const c = run.components;
  const row: ExperimentSummaryRow = {
    ...id,
    duration_s: window ? fig((window.toMs - window.fromMs) / 1000) || 0 : 0,
    frames: run.frames,
    rendered: run.rendered,
    e2e_p50_ms: fig(c.e2e_ms.p50),
    e2e_p95_ms: fig(c.e2e_ms.p95),
    e2e_p99_ms: fig(c.e2e_ms.p99),
    encode_mean_ms: fig(c.encode_ms.mean),
    pacer_mean_ms: fig(c.pacer_ms.mean),
    network_mean_ms: fig(c.network_ms.mean),
    jitter_mean_ms: fig(c.jitter_ms.mean),
    decode_mean_ms: fig(c.decode_ms.mean),
    render_wait_mean_ms: fig(c.render_wait_ms.mean),
    iframe_picture_p95_ms: fig(run.iFrameE2e.p95),
    pframe_picture_p95_ms: fig(run.pFrameE2e.p95),
    freezes: run.freezes,
    fps: fig(fps),
    bitrate_kbps: fig(bitrateKbps),
    backup_bytes_pct: fig(backupPct),
    iframe_bytes_mean: fig(ip.iMeanBytes, 0),
    pframe_bytes_mean: fig(ip.pMeanBytes, 0),
    i_to_p: fig(ip.ratio, 2),
    psnr_db: psnr ? fig(psnr.meanDb) : '',
    utilisation_pct: fig(utilisation),
    late_captures: input.starvation?.late_captures ?? '',
    encoder_busy_drops: input.starvation?.encoder_busy_drops ?? '',
    decoder_backlog: input.starvation?.decoder_backlog ?? '',
  };
  return { window, run, row, psnr };
}
