import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadRun } from '../../src/report/load';
import { removeTempDirs, ROOT, runCli, tempDir } from '../helpers/cli';
import { chromiumMissing, inspectDashboard } from './browser';

after(removeTempDirs);

const FIXTURE = join(ROOT, 'test', 'fixtures', 'loopback-experiment');
/** Screenshots stay here for a look after the run (dist/ is not committed). */
const OUTPUT = join(ROOT, 'dist', 'test-output', 'report');

test('the dashboards `testbed plot` writes render every chart in chromium, offline, without errors', { skip: chromiumMissing() }, async (t) => {
  const out = tempDir('plot-browser');
  const r = await runCli(['plot', FIXTURE, '--out', out, '--no-png'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  mkdirSync(OUTPUT, { recursive: true });

  const cell = 'dual__step-2.5-1.0-2.5__r0';
  const pages = [
    { html: join(out, 'dashboard.html'), shot: join(OUTPUT, 'experiment.png'), ids: ['e2e-cdf', 'tail-latency', 'iframe-pframe', 'i-to-p', 'backup-bytes'] },
    { html: join(out, cell, 'dashboard.html'), shot: join(OUTPUT, `${cell}.png`), ids: ['latency', 'components', 'components-distribution', 'playout-delay', 'bitrate', 'rtt-loss', 'fps'] },
  ];
  for (const p of pages) {
    const report = await inspectDashboard(p.html, p.shot);
    t.diagnostic(`${p.html}: drawn in ${report.renderMs} ms; screenshot ${p.shot}`);
    assert.deepEqual(report.errors, [], 'console errors');
    assert.deepEqual(report.warnings, [], 'console warnings');
    assert.deepEqual(report.foreignRequests, [], 'the page loads nothing from the network');
    assert.deepEqual(report.charts.map((c) => c.id), p.ids.map((id) => `chart-${id}`));
    for (const c of report.charts) {
      assert.ok(c.title.length > 0, `${c.id} carries its title`);
      assert.ok(c.vegaSvgs >= 1, `${c.id}: vega drew an SVG`);
      assert.ok(c.markItems > 0, `${c.id}: ${c.markItems} mark items`);
    }
  }

  // The latency chart in the browser: one point per rendered picture, as in frames.csv.
  const run = loadRun(join(FIXTURE, cell));
  const report = await inspectDashboard(join(out, cell, 'dashboard.html'), null);
  const latency = report.charts.find((c) => c.id === 'chart-latency')!;
  assert.equal(latency.symbols, run.frames.filter((f) => f.rendered && f.e2eMs !== null).length);
});
