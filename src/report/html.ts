/**
 * The dashboard page: one self-contained HTML file that opens from disk with no network.
 * vega, vega-lite and vega-embed are inlined from node_modules (their UMD builds), and
 * each data set is written once and shared by every chart that uses it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Chart } from './chart';
import { escapeHtml } from './table';

/** UMD builds, in load order: vega-lite needs the global `vega`, vega-embed both. */
const LIBRARIES = ['vega/build/vega.min.js', 'vega-lite/build/vega-lite.min.js', 'vega-embed/build/vega-embed.min.js'];

/** node_modules found upwards from this file (dist/src/report or src/report). */
function libraryPath(rel: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const p = join(dir, 'node_modules', rel);
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new Error(`cannot find node_modules/${rel} (run npm ci)`);
  }
}

/** Script text safe inside <script>: no "</script" can end the element early. */
function inlineScript(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1');
}

/** JSON safe inside <script type="application/json">. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export interface DashboardPage {
  title: string;
  /** Key figures shown in the header, label → value. */
  facts: [string, string][];
  /** Things the reader must know (missing files, what could not be plotted). */
  notes: string[];
  charts: Chart[];
  /** Extra HTML (the summary table, links to cell dashboards) after the charts. */
  sections?: { title: string; html: string }[];
}

/**
 * Each chart's `datasets` replaced by indexes into one shared list: arrays that are the
 * same object (one data set used by two charts) are stored once.
 */
export function hoistDatasets(charts: Chart[]): { data: unknown[][]; charts: { id: string; spec: object; datasets: Record<string, number> }[] } {
  const data: unknown[][] = [];
  const index = new Map<unknown[], number>();
  const out = charts.map((c) => {
    const { datasets = {}, ...rest } = c.spec as { datasets?: Record<string, unknown[]> };
    const refs: Record<string, number> = {};
    for (const [name, values] of Object.entries(datasets)) {
      let i = index.get(values);
      if (i === undefined) {
        i = data.push(values) - 1;
        index.set(values, i);
      }
      refs[name] = i;
    }
    return { id: c.id, spec: rest, datasets: refs };
  });
  return { data, charts: out };
}

const STYLE = `
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 16px; margin: 28px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; font-size: 13px; }
dl.facts dt { color: #666; }
dl.facts dd { margin: 0; }
.notes { background: #fff6e0; border-left: 4px solid #e6a700; padding: 6px 12px; font-size: 13px; }
.vega.chart { min-height: 120px; margin: 22px 0; }
.vega.chart .error { color: #b00020; font-family: monospace; }
nav.contents { font-size: 13px; margin: 12px 0; line-height: 1.6; }
.table-wrap { overflow-x: auto; }
table.summary td:nth-child(-n+4) { white-space: nowrap; }
table.summary { border-collapse: collapse; font-size: 12px; }
p.table-rule { font-size: 12px; color: #555; margin: 4px 0 8px; }
table.summary th, table.summary td { border: 1px solid #ddd; padding: 3px 6px; }
table.summary th { background: #f3f3f3; vertical-align: bottom; }
table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary td.best { background: #d9f2d9; font-weight: bold; }
table.summary .rule { font-weight: normal; color: #777; font-size: 10px; }
`;

/** Renders every chart with vega-embed (SVG renderer, export actions only: no network). */
const BOOT = `
(function () {
  var payload = JSON.parse(document.getElementById('dashboard-data').textContent);
  var jobs = payload.charts.map(function (c) {
    var datasets = {};
    Object.keys(c.datasets).forEach(function (name) { datasets[name] = payload.data[c.datasets[name]]; });
    var spec = Object.assign({}, c.spec, { datasets: datasets });
    return vegaEmbed('#chart-' + c.id, spec, {
      renderer: 'svg',
      actions: { export: true, source: false, compiled: false, editor: false },
    }).catch(function (e) {
      var el = document.getElementById('chart-' + c.id);
      el.innerHTML = '<p class="error"></p>';
      el.firstChild.textContent = 'cannot render this chart: ' + e.message;
      console.error(e);
    });
  });
  window.dashboardRendered = Promise.all(jobs).then(function () { document.body.setAttribute('data-rendered', 'true'); });
})();
`;

export function dashboardHtml(page: DashboardPage): string {
  const libs = LIBRARIES.map((rel) => `<script>${inlineScript(readFileSync(libraryPath(rel), 'utf8'))}</script>`).join('\n');
  const facts = page.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const notes = page.notes.length ? `<div class="notes">${page.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join('')}</div>` : '';
  // The chart draws its own title (so its SVG/PNG stands alone); the container carries it
  // as its label, and the contents list links to it.
  const charts = page.charts
    .map((c) => `<div id="chart-${escapeHtml(c.id)}" class="vega chart" role="figure" aria-label="${escapeHtml(c.title)}" data-title="${escapeHtml(c.title)}"></div>`)
    .join('\n');
  const contents = page.charts.length
    ? `<nav class="contents">${page.charts.map((c) => `<a href="#chart-${escapeHtml(c.id)}">${escapeHtml(c.title)}</a>`).join(' · ')}</nav>`
    : '';
  const sections = (page.sections ?? []).map((s) => `<section><h2>${escapeHtml(s.title)}</h2>\n<div class="table-wrap">${s.html}</div>\n</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
${libs}
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
<dl class="facts">${facts}</dl>
${notes}
${contents}
${charts}
${sections}
<script type="application/json" id="dashboard-data">${inlineJson(hoistDatasets(page.charts))}</script>
<script>${BOOT}</script>
</body>
</html>
`;
}
