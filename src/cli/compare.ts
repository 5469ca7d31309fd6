/** `testbed compare DIR --baseline ARM`: each arm against the baseline, paired by scene, trace and repetition, with bootstrap 95 % intervals. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { compareArms, formatComparison } from '../metrics/compare';
import { readCsv } from '../metrics/csv';
import { parseIntOption, UsageError } from './session';

export function addCompareCommand(program: Command): void {
  program
    .command('compare')
    .description("each arm of an experiment against a baseline arm: mean paired difference and ratio with bootstrap 95 % intervals (cells of one scene, trace and repetition are paired: they share a seed)")
    .argument('<dir>', 'experiment directory (holding summary.csv)')
    .requiredOption('--baseline <arm>', 'the arm the others are compared with')
    .option('--trace <label>', 'only the cells of this trace (default: every trace, pairs pooled)')
    .option('--scene <label>', 'only the cells of this clip (default: every clip, pairs pooled)')
    .option('--resamples <n>', 'bootstrap resamples', parseIntOption('--resamples', 100, 1_000_000), 10_000)
    .option('--json', 'print JSON instead of a table', false)
    .action((dir: string, o: { baseline: string; trace?: string; scene?: string; resamples: number; json: boolean }) => {
      const csv = join(dir, 'summary.csv');
      if (!existsSync(csv)) throw new UsageError(`no summary.csv in ${dir} (an experiment directory written by 'testbed run')`);
      const all = readCsv(csv).filter((r) => r.complete !== '0');
      let rows = all;
      for (const [field, want] of [['trace', o.trace], ['scene', o.scene]] as const) {
        if (want === undefined) continue;
        rows = rows.filter((r) => r[field] === want);
        const known = [...new Set(all.map((r) => r[field] ?? ''))].join(', ');
        if (rows.length === 0) throw new UsageError(`no finished cell of ${field} '${want}'${o.trace !== undefined && o.scene !== undefined ? ' with the other filter' : ''} in ${csv} (${field}s: ${known || 'none recorded'})`);
      }
      const results = compareArms(rows, o.baseline, { resamples: o.resamples });
      process.stdout.write(o.json ? JSON.stringify(results, null, 2) + '\n' : formatComparison(results, o.baseline) + '\n');
    });
}
