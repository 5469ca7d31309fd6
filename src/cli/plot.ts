/** `testbed plot DIR`: dashboards (HTML, SVG, PNG) of a run or an experiment directory. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { plot } from '../report/dashboard';
import { detectKind } from '../report/load';
import { ReportInputError } from '../report/input';
import { prepareOutDir, UsageError } from './session';

export function addPlotCommand(program: Command): void {
  program
    .command('plot')
    .description('write dashboard.html and charts/*.svg|png for a run directory (frames.csv) or an experiment directory (summary.csv + cells)')
    .argument('<dir>', 'run or experiment directory')
    .option('--out <dir>', 'where to write (default: DIR itself)')
    .option('--no-png', 'write SVGs only (faster)')
    .action(async (dir: string, o: { out?: string; png: boolean }) => {
      try {
        // The input is checked before the output directory is made: a mistyped DIR must not be created.
        detectKind(dir);
        const out = await plot(dir, prepareOutDir(o.out ?? dir), { png: o.png });
        process.stdout.write(`${resolve(out.dashboard)}\n`);
      } catch (e) {
        if (e instanceof ReportInputError) throw new UsageError(e.message);
        throw e;
      }
    });
}
