/**
 * docs/dashboard.png (a cell dashboard) and docs/dashboard-experiment.png, from an experiment
 * directory, through `testbed plot` and chromium:
 *
 *   npx tsc -p tsconfig.json && node dist/test/report/make-docs-screenshot.js [EXPERIMENT_DIR CELL]
 *
 * Default: the results fixture and its dual-stream cell on the step trace. The README's
 * screenshots come from the demo: `... make-docs-screenshot.js results/demo dual__4g-1__r0`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeTempDirs, ROOT, runCli, tempDir } from '../helpers/cli';
import { chromiumMissing, inspectDashboard } from './browser';

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const out = tempDir('docs-shot');
  try {
    // A relative path (the CLI runs in ROOT), so the page shows no machine-specific path.
    const [dir = join('test', 'fixtures', 'loopback-experiment'), cell = 'dual__step-2.5-1.0-2.5__r0'] = process.argv.slice(2);
    const r = await runCli(['plot', dir, '--out', out, '--no-png']);
    if (r.code !== 0) throw new Error(r.stderr.trim());
    const docs = join(ROOT, 'docs');
    mkdirSync(docs, { recursive: true });
    for (const [page, shot] of [
      [join(out, cell, 'dashboard.html'), join(docs, 'dashboard.png')],
      [join(out, 'dashboard.html'), join(docs, 'dashboard-experiment.png')],
    ]) {
      const report = await inspectDashboard(page, shot);
      if (report.errors.length) throw new Error(`${page}: ${report.errors.join('; ')}`);
      process.stdout.write(`${shot}\n`);
    }
  } finally {
    removeTempDirs();
  }
}

main().catch((e) => {
  process.stderr.write(`make-docs-screenshot: ${(e as Error).message}\n`);
  process.exit(1);
});
