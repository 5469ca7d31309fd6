/**
 * Per-run figures from frames.csv: percentiles of e2e and of each latency component,
 * counted over frames that were rendered (a frame never shown has no e2e).
 */
import { readCsv } from './csv';

/** Latency components along a frame's path, in the order they happen; they add up to e2e_ms. */
export const PATH_COMPONENTS = ['encode_ms', 'pacer_ms', 'network_ms', 'jitter_ms', 'decode_ms', 'render_wait_ms'] as const;
export const COMPONENTS = [...PATH_COMPONENTS, 'e2e_ms'] as const;

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile (no interpolation: every value reported was measured). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The arithmetic mean; NaN for no values (a figure not measured, never 0). */
export function meanOrNaN(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

export function percentiles(values: number[]): Percentiles {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    mean: meanOrNaN(s),
    max: s.length ? s[s.length - 1] : Number.NaN,
  };
}

export interface RunSummary {
  frames: number;
  rendered: number;
  notRendered: Record<string, number>;
  components: Record<(typeof COMPONENTS)[number], Percentiles>;
  /** Pictures whose primary frame is an I-frame (whichever stream's version was shown). */
  iFrameE2e: Percentiles;
  pFrameE2e: Percentiles;
  /** Gaps longer than FREEZE_MS between consecutive rendered pictures. */
  freezes: number;
  /** Bytes handed to the transport per stream (from the sender's frame rows: encoded sizes). */
  bytesByStream: Record<string, number>;
}

/** A freeze: more than 200 ms between two rendered pictures (the definition). */
export const FREEZE_MS = 200;

/** The freezes among render times in order: each gap of more than `thresholdMs` between consecutive pictures. */
export function freezeGaps(renderMs: readonly number[], thresholdMs = FREEZE_MS): { fromMs: number; toMs: number }[] {
  const out: { fromMs: number; toMs: number }[] = [];
  for (let i = 1; i < renderMs.length; i++) {
    if (renderMs[i] - renderMs[i - 1] > thresholdMs) out.push({ fromMs: renderMs[i - 1], toMs: renderMs[i] });
  }
  return out;
}

export function summarizeFrames(rows: Record<string, string>[]): RunSummary {
  const rendered = rows.filter((r) => r.rendered === '1');
  const iPictures = new Set(rows.filter((r) => r.stream !== 'backup' && r.frame_type === 'I').map((r) => r.frame_id));
  const renderTimes = rendered.map((r) => Number(r.render_ms)).sort((a, b) => a - b);
  const freezes = freezeGaps(renderTimes).length;
  const bytesByStream: Record<string, number> = {};
  for (const r of rows) bytesByStream[r.stream] = (bytesByStream[r.stream] ?? 0) + (Number(r.size_bytes) || 0);
  const notRendered: Record<string, number> = {};
  for (const r of rows) {
    if (r.rendered === '1') continue;
    const why = r.dropped ? `dropped:${r.dropped}` : r.not_rendered_reason || 'unknown';
    notRendered[why] = (notRendered[why] ?? 0) + 1;
  }
  const col = (rs: Record<string, string>[], c: string) => rs.map((r) => Number(r[c]));
  const components = Object.fromEntries(COMPONENTS.map((c) => [c, percentiles(col(rendered, c))])) as RunSummary['components'];
  return {
    frames: rows.length,
    rendered: rendered.length,
    notRendered,
    components,
    iFrameE2e: percentiles(col(rendered.filter((r) => iPictures.has(r.frame_id)), 'e2e_ms')),
    pFrameE2e: percentiles(col(rendered.filter((r) => !iPictures.has(r.frame_id)), 'e2e_ms')),
    freezes,
    bytesByStream,
  };
}

export function summarizeRun(framesCsv: string): RunSummary {
  return summarizeFrames(readCsv(framesCsv));
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');

/** A fixed-width table for terminals and the README. */
export function formatSummary(s: RunSummary): string {
  const lines = [
    `frames ${s.frames}, rendered ${s.rendered}` +
      (Object.keys(s.notRendered).length ? `, not rendered: ${JSON.stringify(s.notRendered)}` : ''),
    `${'component (ms)'.padEnd(16)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'p99'.padStart(8)}${'mean'.padStart(8)}${'max'.padStart(8)}`,
  ];
  const row = (name: string, p: Percentiles) =>
    `${name.padEnd(16)}${f1(p.p50).padStart(8)}${f1(p.p95).padStart(8)}${f1(p.p99).padStart(8)}${f1(p.mean).padStart(8)}${f1(p.max).padStart(8)}`;
  for (const c of COMPONENTS) lines.push(row(c.replace(/_ms$/, ''), s.components[c]));
  lines.push(row('e2e I-pictures', s.iFrameE2e));
  lines.push(row('e2e P-pictures', s.pFrameE2e));
  lines.push(`freezes (> ${FREEZE_MS} ms) ${s.freezes}; bytes per stream ${JSON.stringify(s.bytesByStream)}`);
  return lines.join('\n');
}
