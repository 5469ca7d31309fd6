import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { experimentDashboard, runDashboard } from '../../src/report/dashboard';
import { loadExperiment, loadRun } from '../../src/report/load';
import { renderSvg, svgToPng } from '../../src/report/render';
import { fpsChart } from '../../src/report/run-charts';
import { fpsPerSecond, freezes } from '../../src/report/transforms';
import { ROOT, tempDir } from '../helpers/cli';
import { cpSync, writeFileSync } from 'node:fs';
import { readCsv } from '../../src/metrics/csv';
import { QUALITY_COLUMNS } from '../../src/metrics/rows';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'loopback-experiment');
const SCALE = 2;

const RUN_CHARTS = ['latency', 'components', 'components-distribution', 'playout-delay', 'bitrate', 'rtt-loss', 'fps'];
const EXPERIMENT_CHARTS = ['e2e-cdf', 'tail-latency', 'iframe-pframe', 'i-to-p', 'backup-bytes'];

/** Width and height from a PNG's signature and IHDR chunk (the first chunk, by the spec). */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.readUInt32BE(8), 13, 'IHDR length');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  assert.ok(m, 'the SVG has a width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

test('every chart of the fixture renders headless to SVG and to a PNG of the SVG size × scale', async (t) => {
  const exp = loadExperiment(FIXTURE);
  const pages = [experimentDashboard(exp, new Map()), ...exp.runs.map(runDashboard)];
  assert.deepEqual(pages[0].charts.map((c) => c.id), EXPERIMENT_CHARTS);
  for (const page of pages.slice(1)) assert.deepEqual(page.charts.map((c) => c.id), RUN_CHARTS, page.title);

  for (const page of pages) {
    for (const chart of page.charts) {
      const { svg, warnings } = await renderSvg(chart.spec);
      assert.deepEqual(warnings, [], `${page.title} ${chart.id}: vega-lite warnings`);
      // Marks drawn, and the title as text.
      assert.match(svg, /class="mark-(symbol|line|area|rect)[^"]*role-mark/, `${chart.id}: marks`);
      assert.ok(svg.includes(chart.title.replace(/&/g, '&amp;')), `${chart.id}: title in the SVG`);
      const size = svgSize(svg);
      const png = svgToPng(svg, SCALE);
      const got = pngSize(png);
      assert.equal(got.width, Math.round(size.width * SCALE), `${chart.id}: PNG width`);
      assert.equal(got.height, Math.round(size.height * SCALE), `${chart.id}: PNG height`);
      assert.ok(png.length > 10_000, `${chart.id}: ${png.length} bytes is too small for a drawn chart`);
    }
  }
  t.diagnostic(`${pages.reduce((a, p) => a + p.charts.length, 0)} charts rendered`);
});

test('the latency chart of a dual cell draws one point per rendered picture and one band per backup episode', async () => {
  const exp = loadExperiment(FIXTURE);
  const run = exp.runs.find((r) => r.name.startsWith('dual__'))!;
  const chart = runDashboard(run).charts.find((c) => c.id === 'latency')!;
  const { svg } = await renderSvg(chart.spec);
  const group = (cls: string) => {
    const m = new RegExp(`<g class="${cls} role-mark[^"]*"[^>]*>(.*?)</g>`).exec(svg);
    assert.ok(m, `${cls} group`);
    return (m[1].match(/<path /g) ?? []).length;
  };
  const rendered = run.frames.filter((f) => f.rendered && f.e2eMs !== null).length;
  const episodes = run.events!.filter((e) => e.event === 'transition' && e.toState === 'BACKUP').length;
  assert.equal(group('mark-symbol'), rendered);
  assert.equal(group('mark-rect'), episodes);
  assert.ok(episodes >= 3, `${episodes} episodes in the fixture's dual cell`);
});

test('resvg draws text: the fonts are found (without them text vanishes silently)', () => {
  const svg = (text: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="10" y="28" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="20">${text}</text></svg>`;
  const blank = svgToPng(svg(''));
  assert.notDeepEqual(svgToPng(svg('latency (ms)')), blank);
  assert.notDeepEqual(svgToPng(svg('latency (ms)')), svgToPng(svg('fps')), 'different words, different pixels');
});

test('the fps chart draws a bar per second and a red band per freeze', async () => {
  // 30 fps for 2 s with a 400 ms hole (one freeze) in the second second.
  const renders = Array.from({ length: 61 }, (_, i) => (i * 1000) / 30).filter((t) => t < 1200 || t > 1600);
  const stalls = freezes(renders, 0);
  assert.equal(stalls.length, 1);
  const { svg, warnings } = await renderSvg(fpsChart(fpsPerSecond(renders, 0), stalls, 2).spec);
  assert.deepEqual(warnings, []);
  const rects = [...svg.matchAll(/<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].map((m) => (m[1].match(/<path /g) ?? []).length);
  assert.deepEqual(rects, [2, 1], 'two seconds of bars, one freeze band');
});

test('a run with quality.csv gets a PSNR chart: one point per measured picture, on the render-time axis', async () => {
  const dir = join(tempDir('report-psnr'), 'cell');
  cpSync(join(FIXTURE, 'single__fixed-1.5__r0'), dir, { recursive: true });
  // A quality.csv as the runner writes it, for the rendered pictures in render order.
  const rendered = readCsv(join(dir, 'frames.csv'))
    .filter((r) => r.rendered === '1')
    .sort((a, b) => Number(a.render_ms) - Number(b.render_ms));
  const lines = rendered.map((r, i) => [r.frame_id, r.source_index, r.render_ms, (38 + (i % 7) * 0.5).toFixed(3), (37 + (i % 5) * 0.5).toFixed(3)].join(','));
  writeFileSync(join(dir, 'quality.csv'), [QUALITY_COLUMNS.join(','), ...lines].join('\n') + '\n');

  const page = runDashboard(loadRun(dir));
  assert.deepEqual(page.charts.map((c) => c.id), [...RUN_CHARTS, 'psnr']);
  assert.ok(!page.notes.some((n) => n.startsWith('PSNR:')), 'no "PSNR not per picture" note when quality.csv exists');
  const chart = page.charts.find((c) => c.id === 'psnr')!;
  const { svg, warnings } = await renderSvg(chart.spec);
  assert.deepEqual(warnings, []);
  assert.equal((svg.match(/class="mark-line role-mark/g) ?? []).length, 2, 'two series: all planes and Y');
  const png = svgToPng(svg, SCALE);
  assert.equal(pngSize(png).width, Math.round(svgSize(svg).width * SCALE));
});

test('with several clips the experiment charts compare arms within a scene: facets are scene · trace', () => {
  const exp = loadExperiment(FIXTURE);
  const twoScenes = { ...exp, rows: exp.rows.map((r, i) => ({ ...r, scene: i % 2 ? 'screen' : 'talking-head' })) };
  const page = experimentDashboard(twoScenes, new Map());
  assert.deepEqual(page.facts.find(([k]) => k === 'scenes'), ['scenes', 'talking-head, screen']);
  const tails = page.charts.find((c) => c.id === 'tail-latency')!.spec as unknown as { datasets: { tails: { trace: string }[] } };
  const facets = new Set(tails.datasets.tails.map((p) => p.trace));
  assert.ok(facets.size > 0 && [...facets].every((f) => /^(talking-head|screen) · /.test(f)), [...facets].join(', '));
  // One scene (or a summary from before scenes): facets stay the plain trace labels.
  const one = experimentDashboard(exp, new Map()).charts.find((c) => c.id === 'tail-latency')!.spec as unknown as { datasets: { tails: { trace: string }[] } };
  assert.ok(one.datasets.tails.every((p) => !p.trace.includes(' · ')));
});
