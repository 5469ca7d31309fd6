/**
 * `testbed run SPEC`: run an experiment (src/experiments/). The CLI factory is passed in
 * rather than imported: the run command checks arm options with a fresh copy of the very
 * CLI it belongs to, and main.ts importing this file while this file imported main.ts
 * would be a cycle.
 */
import { Option, type Command } from 'commander';
import { commanderArgChecker } from '../experiments/arg-check';
import { dryRunText, exportSlurm, loadExperiment, runCells, selectCell } from '../experiments/runner';
import { collectSummaryRows, rebuildSummaryCsv } from '../experiments/results';
import { formatCellTable } from '../experiments/table';
import { SIGNAL_EXIT } from '../errors';
import { parseIntOption, UsageError } from './session';

interface RunOpts {
  out?: string;
  force: boolean;
  dryRun: boolean;
  cell?: number;
  export?: 'slurm';
  summarize: boolean;
}

export function addRunCommand(program: Command, buildCli: () => Command): void {
  program
    .command('run')
    .description('run an experiment spec: every cell (arm × trace × repetition) in turn, skipping cells already done')
    .argument('<spec>', 'experiment spec, JSON (see experiments/README.md)')
    .option('--out <dir>', 'results directory of the experiment (default: results/<name>)')
    .option('--force', 'run cells again even when they are done', false)
    .option('--dry-run', 'list the cells (id, arm, trace, repetition, seed, command lines) without running them', false)
    .option('--cell <n>', 'run only cell N (0-based, in the order --dry-run lists)', parseIntOption('--cell', 0))
    .addOption(new Option('--export <kind>', 'write a job script that runs one cell per task instead of running').choices(['slurm']))
    .option('--summarize', 'only rebuild summary.csv from the cell directories (e.g. after a Slurm array)', false)
    .action(async (specFile: string, o: RunOpts) => {
      const modes = [o.dryRun && '--dry-run', o.export && '--export', o.summarize && '--summarize'].filter(Boolean);
      if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be combined`);
      const exp = loadExperiment(specFile, commanderArgChecker(buildCli), o.out);
      const selected = selectCell(exp, o.cell ?? null);
      if (o.dryRun) {
        process.stdout.write(dryRunText(exp, selected));
        return;
      }
      if (o.export === 'slurm') {
        process.stdout.write(`${exportSlurm(exp)}\n`);
        return;
      }
      if (o.summarize) {
        const s = await rebuildSummaryCsv(exp.outDir, exp.cells);
        process.stdout.write(`${s.path} (${s.rows} of ${exp.cells.length} cells)\n`);
        return;
      }
      const code = await runCells(exp, selected, o.force);
      process.stdout.write(`\n${formatCellTable(collectSummaryRows(exp.outDir, selected))}results: ${exp.outDir}\n`);
      if (code === SIGNAL_EXIT.SIGINT || code === SIGNAL_EXIT.SIGTERM) throw new UsageError('interrupted: finished cells are kept; run the same command again to resume', code);
      if (code !== 0) throw new UsageError(`some cells failed (their reasons are in summary.csv and each cell's meta.json)`, code);
    });
}
