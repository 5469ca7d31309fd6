import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExperimentRecord } from '../../src/report/load';
import { bestCells, comparisonTableHtml, summaryTableHtml } from '../../src/report/table';
import { compareArms, COMPARE_METRICS } from '../../src/metrics/compare';
import { hoistDatasets } from '../../src/report/html';
import { armScale, STREAM_SCALE } from '../../src/report/palette';
import type { Chart } from '../../src/report/chart';

const rec = (cell: string, arm: string, trace: string, values: Record<string, number | null>): ExperimentRecord => ({
  cell,
  arm,
  scene: '',
  trace,
  traceFamily: trace.split('-')[0],
  values,
});

test('bestCells: lowest latency and freezes, highest fps/PSNR; compared within a trace; ties all marked', () => {
  const rows = [
    rec('a', 'single', '4g-1', { e2e_p95_ms: 120, fps: 29, freezes: 2, psnr_db: 36, bitrate_kbps: 900 }),
    rec('b', 'dual', '4g-1', { e2e_p95_ms: 90, fps: 30, freezes: 2, psnr_db: 35, bitrate_kbps: 1000 }),
    rec('c', 'single', 'wifi-1', { e2e_p95_ms: 60, fps: 30, freezes: 0, psnr_db: null, bitrate_kbps: 800 }),
    rec('d', 'dual', 'wifi-1', { e2e_p95_ms: 80, fps: 28, freezes: 1, psnr_db: 40, bitrate_kbps: 800 }),
  ];
  const best = [...bestCells(rows)].sort();
  assert.deepEqual(best, [
    '0:psnr_db', // 36 > 35 on 4g-1
    '1:e2e_p95_ms', // 90 < 120 on 4g-1 (c's 60 is another trace)
    '1:fps',
    '2:e2e_p95_ms',
    '2:fps',
    '2:freezes',
    // 4g-1 freezes tie (2, 2): no best. wifi-1 PSNR has one value: no best. bitrate is not ranked.
  ]);
});

test('the summary table marks the best cells, states the rule, links cells, escapes text', () => {
  const rows = [
    rec('x<1>', 'single', 'fixed-1', { e2e_p50_ms: 50, fps: 30 }),
    rec('y', 'dual', 'fixed-1', { e2e_p50_ms: 40.123, fps: 30 }),
  ];
  const html = summaryTableHtml(rows, new Map([['y', 'y/dashboard.html']]));
  assert.match(html, /<td class="num best">40\.12<\/td>/);
  assert.match(html, /<td class="num">50<\/td>/);
  assert.match(html, /x&lt;1&gt;/);
  assert.match(html, /<a href="y\/dashboard.html">y<\/a>/);
  assert.match(html, /Lowest is best for e2e_p50_ms/);
  assert.match(html, /highest is best for fps, psnr_db, utilisation_pct/);
  assert.equal((html.match(/class="num best"/g) ?? []).length, 1, 'equal fps: no best');
});

test('palettes: arms coloured by sorted name, so a new arm never recolours the others', () => {
  const a = armScale(['single', 'dual', 'single']);
  assert.deepEqual(a.domain, ['dual', 'single']);
  const b = armScale(['single', 'dual', 'zz-new']);
  assert.deepEqual(b.range.slice(0, 2), a.range);
  assert.equal(new Set(b.range).size, 3);
  for (const c of STREAM_SCALE.range) assert.ok(!b.range.includes(c), 'stream colours are not arm colours');
});

test('hoistDatasets stores a data set shared by two charts once', () => {
  const shared = [{ x: 1 }];
  const charts = [
    { id: 'a', title: 'A', spec: { datasets: { pts: shared, other: [{ y: 2 }] }, mark: 'point' } },
    { id: 'b', title: 'B', spec: { datasets: { same: shared }, mark: 'line' } },
  ] as unknown as Chart[];
  const h = hoistDatasets(charts);
  assert.equal(h.data.length, 2);
  assert.deepEqual(h.charts[0].datasets, { pts: 0, other: 1 });
  assert.deepEqual(h.charts[1].datasets, { same: 0 });
  assert.ok(!('datasets' in h.charts[0].spec));
});

test('the comparison table: one row per arm, the ratio with its interval and both means per metric, escaped', () => {
  const rows = [0, 1, 2].flatMap((rep) => [
    { arm: 'single', trace: '4g-1', repetition: String(rep), e2e_p50_ms: String(100 + rep) },
    { arm: 'dual<x>', trace: '4g-1', repetition: String(rep), e2e_p50_ms: String(80 + rep) },
  ]);
  const html = comparisonTableHtml(compareArms(rows, 'single', { metrics: [COMPARE_METRICS[0]], resamples: 200 }), 'single');
  assert.match(html, /<td>dual&lt;x&gt;<\/td><td class="num">3<\/td>/);
  assert.match(html, /0\.80× \[0\.80, 0\.80\]<br>81\.0 vs 101\.0/);
  assert.match(html, /Each arm against single/);
});
