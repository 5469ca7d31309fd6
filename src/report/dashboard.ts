/**
 * `testbed plot`'s work: the charts of a run or an experiment, written as one
 * self-contained dashboard.html plus charts/<id>.svg and .png rendered headless.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FREEZE_MS, percentiles } from '../metrics/summary';
import type { Chart } from './chart';
import { backupChart, backupPoints, armCdfPoints, cdfChart, ipChart, ipPoints, pictureChart, picturePoints, tailChart, tailPoints } from './experiment-charts';
import { dashboardHtml, type DashboardPage } from './html';
import { detectKind, loadExperiment, loadRun, type ExperimentData, type RunData } from './load';
import { armScale } from './palette';
import { renderSvg, svgToPng } from './render';
import { componentDistributionChart, componentsChart, fpsChart, latencyChart, playoutDelayChart, rateChart, psnrChart, rttLossChart } from './run-charts';
import { compareArms } from '../metrics/compare';
import { comparisonTableHtml, escapeHtml, summaryTableHtml } from './table';
import {
  backupEpisodes,
  componentPoints,
  fpsPerSecond,
  playoutDelayPoints,
  freezes,
  ratePoints,
  renderedE2e,
  renderedPictures,
  renderTimes,
  rttLossPoints,
  timeEnd,
  timeOrigin,
} from './transforms';

export interface PlotOptions {
  /** Also write charts/<id>.png (the SVGs are always written). */
  png: boolean;
  /** PNG pixels per SVG pixel. */
  scale?: number;
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** Mean PSNR from summary.json: the runner's `psnr.meanDb` or `testbed summary --json`'s `quality.meanPsnr`. */
export function meanPsnr(summary: Record<string, unknown> | null): number | null {
  const pick = (obj: unknown, key: string): unknown => (obj !== null && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined);
  for (const v of [pick(pick(summary, 'psnr'), 'meanDb'), pick(pick(summary, 'quality'), 'meanPsnr')]) {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

const metaText = (meta: Record<string, unknown> | null, key: string): string | null => {
  const v = meta?.[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
};

/** The charts of one run, and notes on what its directory lacked. */
export function runDashboard(run: RunData): DashboardPage {
  const origin = timeOrigin(run.frames);
  const end = timeEnd(run.frames);
  const spanS = Math.ceil((end - origin) / 100) / 10;
  const notes: string[] = [];
  const pictures = renderedPictures(run.frames, origin);
  const components = componentPoints(run.frames, origin);
  const episodes = run.events ? backupEpisodes(run.events, origin, end) : [];
  if (!run.events) notes.push('No events.csv: dual-stream backup episodes are not shown.');
  const renders = renderTimes(run.frames);
  const stalls = freezes(renders, origin);

  const charts: Chart[] = [];
  if (pictures.length) {
    charts.push(latencyChart(pictures, episodes, spanS), componentsChart(components, spanS), componentDistributionChart(components));
    const delays = playoutDelayPoints(run.frames, origin);
    if (delays.length) charts.push(playoutDelayChart(delays, episodes, spanS));
    else notes.push('frames.csv records no jitter-buffer delays: no playout-delay chart.');
  } else {
    notes.push('No rendered picture with an end-to-end latency: latency charts omitted.');
  }
  const rates = ratePoints(run.network, run.link, origin);
  if (rates.length) charts.push(rateChart(rates, spanS));
  if (!run.network) notes.push('No network.csv: controller rates, RTT and loss are not shown.');
  if (!run.link) notes.push('No link.csv (an unshaped run): no link capacity to compare with.');
  const rttLoss = rttLossPoints(run.network, origin);
  if (rttLoss.length) charts.push(rttLossChart(rttLoss, spanS));
  else if (run.network) notes.push('network.csv holds no RTT or loss sample (no RTCP receiver report arrived).');
  const fps = fpsPerSecond(renders, origin);
  if (fps.length) charts.push(fpsChart(fps, stalls, spanS));
  else notes.push('Less than one second of rendered pictures: no frame-rate chart.');

  const psnr = meanPsnr(run.summary);
  if (run.quality?.length) {
    charts.push(psnrChart(run.quality.map((q) => ({ frame_id: q.frameId, t_s: (q.renderMs - origin) / 1000, psnr_db: q.psnrDb, psnr_y_db: q.psnrYDb })), spanS));
  } else {
    notes.push(
      psnr === null
        ? 'PSNR: not measured for this run.'
        : 'PSNR: only the run’s mean is recorded (summary.json, no quality.csv), so it is shown above rather than as a per-picture series.',
    );
  }
  const e2e = percentiles(pictures.map((p) => p.e2e_ms));
  const facts: [string, string][] = [
    ['directory', run.dir],
    ...(['arm', 'trace'] as const).flatMap((k): [string, string][] => {
      const v = metaText(run.meta, k) ?? (k === 'trace' ? metaText(run.meta?.trace as Record<string, unknown> | null, 'label') : null);
      return v ? [[k, v]] : [];
    }),
    ['duration', `${f1((end - origin) / 1000)} s from first capture to last render`],
    ['frames', `${run.frames.length} rows, ${pictures.length} pictures rendered`],
    ['end-to-end latency', `p50 ${f1(e2e.p50)} ms, p95 ${f1(e2e.p95)} ms, p99 ${f1(e2e.p99)} ms`],
    ['freezes', `${stalls.length} over the whole run (> ${FREEZE_MS} ms without a new picture)`],
    ['backup episodes', String(episodes.length)],
    ['mean PSNR', psnr === null ? 'not measured' : `${psnr.toFixed(2)} dB`],
  ];
  return { title: `Run ${run.name}`, facts, notes, charts };
}

/** The experiment's comparison charts and table; `cellLinks`: cell → its dashboard, relative. */
export function experimentDashboard(whole: ExperimentData, cellLinks: ReadonlyMap<string, string>): DashboardPage {
  const scenes = [...new Set(whole.rows.map((r) => r.scene))];
  // With several clips every chart's trace facet becomes "scene · trace": arms are compared within a scene.
  const exp: ExperimentData =
    scenes.length > 1
      ? { ...whole, rows: whole.rows.map((r) => ({ ...r, trace: `${r.scene} · ${r.trace}`, traceFamily: `${r.scene} · ${r.traceFamily}` })) }
      : whole;
  const arms = armScale(exp.rows.map((r) => r.arm));
  const familyOf = new Map(exp.rows.map((r) => [r.cell, { arm: r.arm, family: r.traceFamily }]));
  const cdf = armCdfPoints(
    exp.runs.flatMap((run) => {
      const id = familyOf.get(run.name);
      return id ? [{ arm: id.arm, traceFamily: id.family, e2e: renderedE2e(run.frames) }] : [];
    }),
  );
  const charts: Chart[] = [];
  const notes: string[] = [];
  if (cdf.length) charts.push(cdfChart(cdf, arms));
  const tails = tailPoints(exp.rows);
  if (tails.length) charts.push(tailChart(tails, arms));
  const pics = picturePoints(exp.rows);
  if (pics.length) charts.push(pictureChart(pics, arms));
  const ip = ipPoints(exp.rows);
  if (ip.length) charts.push(ipChart(ip, arms));
  const backup = backupPoints(exp.rows);
  if (backup.length) charts.push(backupChart(backup, arms));
  if (exp.missing.length) notes.push(`No frames.csv (failed or not run): ${exp.missing.join(', ')} — left out of the latency distribution.`);
  const psnrKnown = exp.rows.some((r) => r.values.psnr_db !== null);
  notes.push(psnrKnown ? 'PSNR: per-cell means are psnr_db in the table; each cell’s dashboard has its per-picture series (quality.csv).' : 'PSNR: not measured in this experiment.');
  const sections = [
    { title: 'Summary (summary.csv)', html: summaryTableHtml(exp.rows, cellLinks) },
    { title: 'Cell dashboards', html: `<ul>${[...cellLinks].map(([cell, href]) => `<li><a href="${escapeHtml(href)}">${escapeHtml(cell)}</a></li>`).join('')}</ul>` },
  ];
  // Against a baseline with intervals (`testbed compare`): 'single' when the experiment has it, else the first arm.
  if (arms.domain.length > 1) {
    const baseline = arms.domain.includes('single') ? 'single' : arms.domain[0];
    const records = exp.rows.map((r) => ({
      ...Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, v === null ? '' : String(v)])),
      arm: r.arm,
      scene: r.scene,
      trace: r.trace,
    }));
    sections.unshift({ title: `Against ${baseline} (paired, bootstrap 95 % intervals)`, html: comparisonTableHtml(compareArms(records, baseline, { resamples: 2000 }), baseline) });
  }
  return {
    title: `Experiment ${exp.name}`,
    facts: [
      ['directory', exp.dir],
      ['cells', `${exp.rows.length} (${exp.runs.length} with frames.csv)`],
      ['arms', arms.domain.join(', ')],
      ['traces', [...new Set(whole.rows.map((r) => r.trace))].join(', ')],
      ...(scenes.some((s) => s !== '') ? [['scenes', scenes.join(', ')] as [string, string]] : []),
    ],
    notes,
    charts,
    sections,
  };
}

/** dashboard.html and charts/<id>.svg (+ .png) into `outDir`. Returns the dashboard's path. */
export async function writeDashboard(page: DashboardPage, outDir: string, opts: PlotOptions): Promise<string> {
  const chartsDir = join(outDir, 'charts');
  mkdirSync(chartsDir, { recursive: true });
  for (const chart of page.charts) {
    const { svg, warnings } = await renderSvg(chart.spec);
    if (warnings.length) throw new Error(`chart ${chart.id}: vega-lite warned: ${warnings.join('; ')}`);
    writeFileSync(join(chartsDir, `${chart.id}.svg`), svg);
    if (opts.png) writeFileSync(join(chartsDir, `${chart.id}.png`), svgToPng(svg, opts.scale));
  }
  const html = join(outDir, 'dashboard.html');
  writeFileSync(html, dashboardHtml(page));
  return html;
}

/** Plots a run or an experiment directory (an experiment: every cell's dashboard too). */
export async function plot(dir: string, outDir: string, opts: PlotOptions): Promise<{ dashboard: string; cells: string[] }> {
  if (detectKind(dir) === 'run') return { dashboard: await writeDashboard(runDashboard(loadRun(dir)), outDir, opts), cells: [] };
  const exp = loadExperiment(dir);
  const cells: string[] = [];
  const links = new Map<string, string>();
  for (const run of exp.runs) {
    const cellOut = join(outDir, run.name);
    const page = await writeDashboard(runDashboard(run), cellOut, opts);
    cells.push(page);
    links.set(run.name, relative(outDir, page).split('\\').join('/'));
  }
  return { dashboard: await writeDashboard(experimentDashboard(exp, links), outDir, opts), cells };
}
