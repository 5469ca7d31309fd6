/**
 * Chart data from result records: pure functions, no I/O, so each is unit-tested on
 * hand-made rows. Times become seconds from the run's first capture (one origin for
 * frames, events, network and link rows: they share the sender's monotonic clock).
 */
import { FREEZE_MS, freezeGaps } from '../metrics/summary';
import { COMPONENTS, type EventRecord, type FrameRecord, type LinkRecord, type NetworkRecord } from './load';

const seconds = (ms: number, originMs: number) => (ms - originMs) / 1000;

/** The run's time origin: its first capture. */
export function timeOrigin(frames: readonly FrameRecord[]): number {
  let min = Infinity;
  for (const f of frames) if (f.captureMs < min) min = f.captureMs;
  return min;
}

/** The run's last moment on its clock (a backup episode still open at the end is drawn up to here). */
export function timeEnd(frames: readonly FrameRecord[]): number {
  let max = -Infinity;
  for (const f of frames) max = Math.max(max, f.captureMs, f.renderMs ?? -Infinity);
  return max;
}

export interface PicturePoint {
  frame_id: number;
  t_s: number;
  e2e_ms: number;
  /** Type of the picture's primary frame: an I-picture is one the primary stream sent as an I-frame. */
  picture: 'I' | 'P';
  rendered_from: string;
  size_bytes: number;
}

/** One point per rendered picture (each picture is rendered at most once, from one stream). */
export function renderedPictures(frames: readonly FrameRecord[], originMs: number): PicturePoint[] {
  const iPictures = new Set(frames.filter((f) => f.stream !== 'backup' && f.frameType === 'I').map((f) => f.frameId));
  return frames
    .filter((f) => f.rendered && f.e2eMs !== null)
    .map((f) => ({
      frame_id: f.frameId,
      t_s: seconds(f.captureMs, originMs),
      e2e_ms: f.e2eMs as number,
      picture: iPictures.has(f.frameId) ? ('I' as const) : ('P' as const),
      rendered_from: f.renderedFrom || f.stream,
      size_bytes: f.sizeBytes,
    }))
    .sort((a, b) => a.t_s - b.t_s);
}

export interface DelayPoint {
  frame_id: number;
  t_s: number;
  series: 'jitter estimate' | 'current delay' | 'target delay';
  ms: number;
}

/**
 * The jitter buffer over the run: per rendered picture (at its capture time), the jitter
 * estimate, the current playout delay and its target when the picture was scheduled.
 */
export function playoutDelayPoints(frames: readonly FrameRecord[], originMs: number): DelayPoint[] {
  const out: DelayPoint[] = [];
  for (const f of frames) {
    if (!f.rendered) continue;
    const t_s = seconds(f.captureMs, originMs);
    const series: [DelayPoint['series'], number | null][] = [['jitter estimate', f.jitterEstimateMs], ['current delay', f.currentDelayMs], ['target delay', f.targetDelayMs]];
    for (const [s, ms] of series) if (ms !== null) out.push({ frame_id: f.frameId, t_s, series: s, ms });
  }
  return out.sort((a, b) => a.t_s - b.t_s);
}

export interface ComponentPoint {
  frame_id: number;
  t_s: number;
  component: string;
  /** Position in the frame's path (stacking order). */
  order: number;
  ms: number;
}

/** Long format: one row per rendered picture per latency component. */
export function componentPoints(frames: readonly FrameRecord[], originMs: number): ComponentPoint[] {
  const out: ComponentPoint[] = [];
  for (const f of frames) {
    if (!f.rendered || f.e2eMs === null) continue;
    COMPONENTS.forEach((c, order) => {
      const ms = f.components[c];
      if (ms !== null) out.push({ frame_id: f.frameId, t_s: seconds(f.captureMs, originMs), component: componentLabel(c), order, ms });
    });
  }
  return out.sort((a, b) => a.t_s - b.t_s || a.order - b.order);
}

export function componentLabel(c: string): string {
  return c.replace(/_ms$/, '').replace('_', ' ');
}

export interface Interval {
  start_s: number;
  end_s: number;
}

export interface Episode extends Interval {
  frame_id: number;
  /** Why it ended (the cause of the transition out of BACKUP), or 'run ended'. */
  end_cause: string;
}

/**
 * Dual-stream backup episodes: from each transition into BACKUP to the next transition out
 * of it (src/sender/backup-state.ts). An episode still open at the last event ends at `endMs`.
 */
export function backupEpisodes(events: readonly EventRecord[], originMs: number, endMs: number): Episode[] {
  const out: Episode[] = [];
  let open: { startMs: number; frameId: number } | null = null;
  const transitions = events.filter((e) => e.event === 'transition').sort((a, b) => a.timeMs - b.timeMs);
  for (const e of transitions) {
    if (e.toState === 'BACKUP' && e.fromState !== 'BACKUP') {
      open = { startMs: e.timeMs, frameId: e.frameId };
    } else if (e.fromState === 'BACKUP' && e.toState !== 'BACKUP' && open) {
      out.push({ start_s: seconds(open.startMs, originMs), end_s: seconds(e.timeMs, originMs), frame_id: open.frameId, end_cause: e.cause });
      open = null;
    }
  }
  if (open) out.push({ start_s: seconds(open.startMs, originMs), end_s: seconds(Math.max(endMs, open.startMs), originMs), frame_id: open.frameId, end_cause: 'run ended' });
  return out;
}

/** Render times (ms) of the pictures shown, ascending. */
export function renderTimes(frames: readonly FrameRecord[]): number[] {
  return frames
    .filter((f) => f.rendered && f.renderMs !== null)
    .map((f) => f.renderMs as number)
    .sort((a, b) => a - b);
}

export interface FpsBin {
  start_s: number;
  end_s: number;
  fps: number;
}

/**
 * Pictures rendered in each whole second, counted from the first render (so every bin is
 * a full second: a partial last second would read as a drop in fps); empty seconds are
 * kept, since 0 fps is the point. Bins are placed on the time axis from `originMs`.
 */
export function fpsPerSecond(renderMs: readonly number[], originMs: number): FpsBin[] {
  if (renderMs.length === 0) return [];
  const first = renderMs[0];
  const bins = Math.floor((renderMs[renderMs.length - 1] - first) / 1000);
  const counts = new Array<number>(bins).fill(0);
  for (const t of renderMs) {
    const k = Math.floor((t - first) / 1000);
    if (k < bins) counts[k]++;
  }
  const start = seconds(first, originMs);
  return counts.map((fps, k) => ({ start_s: start + k, end_s: start + k + 1, fps }));
}

export interface Freeze extends Interval {
  gap_ms: number;
}

/** Gaps longer than `thresholdMs` between consecutive rendered pictures (FREEZE_MS, as the run summary counts them). */
export function freezes(renderMs: readonly number[], originMs: number, thresholdMs = FREEZE_MS): Freeze[] {
  return freezeGaps(renderMs, thresholdMs).map((g) => ({ start_s: seconds(g.fromMs, originMs), end_s: seconds(g.toMs, originMs), gap_ms: g.toMs - g.fromMs }));
}

export interface RatePoint {
  t_s: number;
  series: string;
  kbps: number;
}

/**
 * Controller rates (network.csv) and the media direction of the link (link.csv), kbit/s,
 * each point at the start of the interval its value holds for: a controller's target from
 * its row's time on; a link row's capacity and throughput over the bin that ends at its
 * time_ms, so it is placed at the previous row's time (the first row: one step earlier).
 */
export function ratePoints(network: readonly NetworkRecord[] | null, link: readonly LinkRecord[] | null, originMs: number): RatePoint[] {
  const out: RatePoint[] = [];
  const add = (t: number, series: string, value: number | null, scale: number) => {
    if (value !== null) out.push({ t_s: seconds(t, originMs), series, kbps: value * scale });
  };
  for (const n of network ?? []) {
    add(n.timeMs, 'target', n.targetBps, 1e-3);
    add(n.timeMs, 'sent', n.sentBps, 1e-3);
    add(n.timeMs, 'received', n.receivedBps, 1e-3);
  }
  const up = (link ?? []).filter((l) => l.direction === 'up').sort((a, b) => a.timeMs - b.timeMs);
  up.forEach((l, i) => {
    const step = up.length > 1 ? up[Math.max(1, i)].timeMs - up[Math.max(1, i) - 1].timeMs : 0;
    const binStart = i > 0 ? up[i - 1].timeMs : l.timeMs - step;
    add(binStart, 'capacity', l.capacityKbit, 1);
    add(binStart, 'link throughput', l.throughputKbit, 1);
  });
  return out.sort((a, b) => a.t_s - b.t_s);
}

export interface RttLossPoint {
  t_s: number;
  rtt_ms: number | null;
  loss_pct: number | null;
}

export function rttLossPoints(network: readonly NetworkRecord[] | null, originMs: number): RttLossPoint[] {
  return (network ?? [])
    .filter((n) => n.rttMs !== null || n.lossFraction !== null)
    .map((n) => ({ t_s: seconds(n.timeMs, originMs), rtt_ms: n.rttMs, loss_pct: n.lossFraction === null ? null : n.lossFraction * 100 }));
}

export interface CdfPoint {
  value: number;
  /** Fraction of values ≤ value. */
  p: number;
}

/**
 * The empirical CDF of `values` as its steps (value, fraction ≤ value). Above
 * `maxPoints` it keeps the steps at evenly spaced ranks plus the first and last, so a
 * 10-minute run's curve stays a few hundred points with its tail exact at the end.
 */
export function ecdf(values: readonly number[], maxPoints = 400): CdfPoint[] {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return [];
  // The step at a value is its last occurrence's rank: ties make one step.
  const steps: CdfPoint[] = [];
  for (let i = 0; i < n; i++) if (i === n - 1 || s[i + 1] !== s[i]) steps.push({ value: s[i], p: (i + 1) / n });
  if (steps.length <= maxPoints) return steps;
  const out: CdfPoint[] = [];
  const stride = (steps.length - 1) / (maxPoints - 1);
  for (let k = 0; k < maxPoints; k++) out.push(steps[Math.round(k * stride)]);
  return out;
}

/** e2e of every rendered picture, ms. */
export function renderedE2e(frames: readonly FrameRecord[]): number[] {
  return frames.filter((f) => f.rendered && f.e2eMs !== null).map((f) => f.e2eMs as number);
}
