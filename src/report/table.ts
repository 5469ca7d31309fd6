/**
 * The experiment's summary.csv as an HTML table, the best value of each column
 * highlighted among the cells that ran the same trace (comparing arms under equal
 * conditions: a cell on an easy trace would otherwise win every column).
 */
import { formatInterval, type MetricComparison } from '../metrics/compare';
import { EXPERIMENT_SUMMARY_COLUMNS } from '../metrics/rows';
import type { ExperimentRecord } from './load';

export type BestRule = 'lowest' | 'highest';

/**
 * Which value wins per column. Columns absent here have no "best": sizes, seeds, bitrate,
 * and backup_bytes_pct (a cost the dual arm pays by design; single always has 0).
 */
export const BEST_RULES: Readonly<Record<string, BestRule>> = {
  e2e_p50_ms: 'lowest',
  e2e_p95_ms: 'lowest',
  e2e_p99_ms: 'lowest',
  encode_mean_ms: 'lowest',
  pacer_mean_ms: 'lowest',
  network_mean_ms: 'lowest',
  jitter_mean_ms: 'lowest',
  decode_mean_ms: 'lowest',
  render_wait_mean_ms: 'lowest',
  iframe_picture_p95_ms: 'lowest',
  pframe_picture_p95_ms: 'lowest',
  freezes: 'lowest',
  fps: 'highest',
  psnr_db: 'highest',
  utilisation_pct: 'highest',
};

/**
 * `${row index}:${column}` of every best value: per column and per group (trace), ties
 * all marked; a group with fewer than two values, or all equal, has no best.
 */
export function bestCells(rows: readonly ExperimentRecord[], rules: Readonly<Record<string, BestRule>> = BEST_RULES): Set<string> {
  const best = new Set<string>();
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => groups.set(r.trace, [...(groups.get(r.trace) ?? []), i]));
  for (const [col, rule] of Object.entries(rules)) {
    for (const idx of groups.values()) {
      const vals = idx.map((i) => rows[i].values[col]).filter((v): v is number => v !== null && v !== undefined);
      if (vals.length < 2) continue;
      const target = rule === 'lowest' ? Math.min(...vals) : Math.max(...vals);
      if (vals.every((v) => v === target)) continue;
      for (const i of idx) if (rows[i].values[col] === target) best.add(`${i}:${col}`);
    }
  }
  return best;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function formatValue(v: number | null): string {
  if (v === null) return '';
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
}

/** `cellLinks`: cell → relative URL of its dashboard. */
export function summaryTableHtml(rows: readonly ExperimentRecord[], cellLinks: ReadonlyMap<string, string> = new Map()): string {
  const best = bestCells(rows);
  const head = EXPERIMENT_SUMMARY_COLUMNS.map((c) => {
    const rule = BEST_RULES[c];
    return `<th${rule ? ` title="${rule} is best"` : ''}>${escapeHtml(c)}${rule ? `<br><span class="rule">${rule === 'lowest' ? '▼ best' : '▲ best'}</span>` : ''}</th>`;
  }).join('');
  const body = rows
    .map((r, i) => {
      const cells = EXPERIMENT_SUMMARY_COLUMNS.map((c) => {
        if (c === 'cell') {
          const link = cellLinks.get(r.cell);
          return `<td>${link ? `<a href="${escapeHtml(link)}">${escapeHtml(r.cell)}</a>` : escapeHtml(r.cell)}</td>`;
        }
        if (c === 'arm') return `<td>${escapeHtml(r.arm)}</td>`;
        if (c === 'trace') return `<td>${escapeHtml(r.trace)}</td>`;
        if (c === 'trace_family') return `<td>${escapeHtml(r.traceFamily)}</td>`;
        return `<td class="num${best.has(`${i}:${c}`) ? ' best' : ''}">${formatValue(r.values[c] ?? null)}</td>`;
      }).join('');
      return `<tr>${cells}</tr>`;
    })
    .join('\n');
  const rules = (rule: BestRule) =>
    Object.entries(BEST_RULES)
      .filter(([, r]) => r === rule)
      .map(([c]) => c)
      .join(', ');
  const caption =
    `Highlighted: the best value of a column among the cells of the same trace (ties all marked). ` +
    `Lowest is best for ${rules('lowest')}; highest is best for ${rules('highest')}; other columns are not ranked.`;
  // The rule sits above the table, not in a <caption>: a caption is as wide as the table and scrolls away with it.
  return `<p class="table-rule">${escapeHtml(caption)}</p>\n<table class="summary">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** Each arm against the baseline (`testbed compare`'s figures): ratio of means and mean difference with 95 % intervals. */
export function comparisonTableHtml(results: readonly MetricComparison[], baseline: string): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const metrics = [...new Map(results.map((r) => [r.metric.key, r.metric])).values()];
  const arms = [...new Set(results.map((r) => r.arm))];
  const head = `<th>arm</th><th>pairs</th>${metrics.map((m) => `<th>${escapeHtml(m.label)}</th>`).join('')}`;
  const body = arms
    .map((arm) => {
      const rs = results.filter((r) => r.arm === arm);
      const cells = metrics.map((m) => {
        const r = rs.find((x) => x.metric.key === m.key);
        if (!r || r.pairs === 0) return '<td class="num">–</td>';
        return `<td class="num" title="mean difference ${formatInterval(r.difference, 1)}">${formatInterval(r.ratio, 2, '×')}<br>${f(r.armMean)} vs ${f(r.baselineMean)}</td>`;
      });
      return `<tr><td>${escapeHtml(arm)}</td><td class="num">${Math.max(0, ...rs.map((r) => r.pairs))}</td>${cells.join('')}</tr>`;
    })
    .join('\n');
  const rule =
    `Each arm against ${baseline}: cells of one trace and repetition are paired (they share a seed); ` +
    `ratio of the means with its bootstrap 95 % interval, then the two means. Hover a cell for the mean paired difference.`;
  return `<p class="table-rule">${escapeHtml(rule)}</p>\n<table class="summary">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}
