/**
 * `testbed run SPEC`: loads and checks everything first (spec, arm options, traces, what
 * the kernel can emulate), then runs the cells one at a time — skipping those already
 * done — rebuilding summary.csv after each. A failing cell is recorded and the run goes
 * on; SIGINT/SIGTERM stops the current cell cleanly and runs no more.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monotonicClock, type Clock } from '../clock';
import { SIGNAL_EXIT, UsageError, type StopSignal } from '../errors';
import { CellRun, describeCommands, estimateCellSeconds, traceRunSeconds, type PreparedTrace } from './cell-run';
import { peerCommands, RECORDING_FILE, traceFileOf } from './commands';
import { checkLinkSupport } from './link';
import { cellFingerprint, expandMatrix, type Cell } from './matrix';
import { BarSink, PlainSink, Progress } from './progress';
import { cellDir, cellStatus, defaultOutDir, rebuildSummaryCsv, shouldRun } from './results';
import { slurmScript } from './slurm';
import { loadSpec, projectRoot, type ArgChecker, type ExperimentSpec } from './spec';
import { prepareTrace, traceNeeds } from './traces';
import type { Trace } from '../emulation/traces/types';
import { analyseClip, ANALYSIS_RATES_BPS, type ClipAnalysis } from '../media/clip-analysis';
import { ensureClip } from '../media/scenes';
import { buildRawClip, rawDir } from '../media/raw-cache';

export interface Experiment {
  spec: ExperimentSpec;
  cells: Cell[];
  outDir: string;
  /** Transformed trace per trace label. */
  traces: Map<string, Trace>;
}

/** Spec, arm options and traces, all checked: any error is one line before anything runs. */
export function loadExperiment(specFile: string, check: ArgChecker, out?: string): Experiment {
  const spec = loadSpec(specFile, check);
  const traces = new Map<string, Trace>();
  spec.traces.forEach((entry, i) => {
    if (entry.kind === 'trace') traces.set(entry.label, prepareTrace(entry, traceRunSeconds(spec), spec.file, i));
  });
  return { spec, cells: expandMatrix(spec), outDir: resolve(out ?? defaultOutDir(spec.name)), traces };
}

export function selectCell(exp: Experiment, index: number | null): Cell[] {
  if (index === null) return exp.cells;
  if (index < 0 || index >= exp.cells.length) {
    throw new UsageError(`--cell ${index}: ${exp.spec.file} has ${exp.cells.length} cells (0–${exp.cells.length - 1}; --dry-run lists them)`);
  }
  return [exp.cells[index]];
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function bin(): string {
  return join(projectRoot(), 'bin', 'testbed.js');
}

/** The cells and their exact command lines (namespace names and addresses are per run). */
export function dryRunText(exp: Experiment, selected: Cell[]): string {
  const { spec } = exp;
  const lines = [
    `experiment ${spec.name}: ${plural(exp.cells.length, 'cell')} (${plural(spec.arms.length, 'arm')} × ${plural(spec.clips.length, 'clip')} × ${plural(spec.traces.length, 'trace')} × ${plural(spec.repetitions, 'repetition')}), ` +
      `${spec.durationS} s each${spec.warmupS ? ` after ${spec.warmupS} s of warm-up` : ''}; results in ${exp.outDir}`,
  ];
  for (const cell of selected) {
    const dir = cellDir(exp.outDir, cell);
    const shaped = cell.trace.kind === 'trace';
    const cmds = peerCommands(
      cell,
      {
        node: process.execPath,
        bin: bin(),
        cellDir: dir,
        clip: cell.clip.file,
        mediaS: spec.warmupS + spec.durationS,
        trace: shaped ? { file: traceFileOf(dir), startMs: '<trace-start-ms>' } : null,
        recordTo: spec.psnr ? join(dir, RECORDING_FILE) : null,
      },
      shaped
        ? { offerAddr: '<addr-a>', answerAddr: '<addr-b>', port: 4000, offerPrefix: ['ip', 'netns', 'exec', '<ns-a>'], answerPrefix: ['ip', 'netns', 'exec', '<ns-b>'] }
        : { offerAddr: '127.0.0.1', answerAddr: '127.0.0.1', port: '<free-port>', offerPrefix: [], answerPrefix: [] },
    );
    const status = cellStatus(dir, cellFingerprint(spec, cell));
    lines.push(
      `[${cell.index}] ${cell.id}  arm ${cell.arm.name}  clip ${cell.clip.label}${cell.clip.scene && !existsSync(cell.clip.file) ? ' (made before the first cell)' : ''}  trace ${cell.trace.label}  rep ${cell.repetition}  seed ${cell.seed}  (${status.state})`,
      ...describeCommands(cmds).map((l) => `    ${l}`),
    );
  }
  return lines.join('\n') + '\n';
}

export function exportSlurm(exp: Experiment): string {
  mkdirSync(join(exp.outDir, 'slurm'), { recursive: true });
  const path = join(exp.outDir, 'slurm.sh');
  writeFileSync(
    path,
    slurmScript({
      experiment: exp.spec.name,
      root: projectRoot(),
      spec: exp.spec.path,
      out: exp.outDir,
      cells: exp.cells.length,
      cellSeconds: estimateCellSeconds(exp.spec),
    }),
    { mode: 0o755 },
  );
  return path;
}

export interface RunIo {
  clock: Clock;
  stderr: NodeJS.WriteStream;
}

/** Runs the selected cells; returns the exit code (0 all done, 1 a cell failed, 130 / 143 interrupted by SIGINT / SIGTERM). */
export async function runCells(exp: Experiment, selected: Cell[], force: boolean, io: RunIo = { clock: monotonicClock, stderr: process.stderr }): Promise<number> {
  const { spec, outDir } = exp;
  const toRun = selected.filter((c) => shouldRun(cellStatus(cellDir(outDir, c), cellFingerprint(spec, c)), force));
  // The kernel check only matters for cells that will run (a finished experiment can be re-summarized anywhere).
  const shapedLabels = [...new Set(toRun.filter((c) => c.trace.kind === 'trace').map((c) => c.trace.label))];
  const support = checkLinkSupport(
    shapedLabels.map((label) => ({ label, needs: traceNeeds(exp.traces.get(label)!) })),
    spec.link,
    spec.file,
  );
  const analyses = await prepareClips(toRun, io.stderr);
  mkdirSync(outDir, { recursive: true });
  writeAtomically(join(outDir, 'spec.json'), JSON.stringify(spec, null, 2) + '\n');

  const sink = io.stderr.isTTY ? new BarSink(io.stderr) : new PlainSink((s) => io.stderr.write(s));
  const progress = new Progress(selected.length, estimateCellSeconds(spec) * 1000, () => io.clock.now(), sink);

  let current: CellRun | null = null;
  let stopSignal: StopSignal | null = null;
  const onSignal = (sig: StopSignal) => {
    if (stopSignal) process.exit(SIGNAL_EXIT[sig]);
    stopSignal = sig;
    current?.interruptNow(`interrupted (${sig})`);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  // Peers run in their own process groups: nothing else ends them if the runner dies.
  const onExit = () => current?.killNow();
  process.on('exit', onExit);
  // First in line: the peers must flush before the link's own handler removes the namespaces.
  process.prependListener('SIGINT', onInt);
  process.prependListener('SIGTERM', onTerm);

  let failed = 0;
  let ran = 0;
  let skipped = 0;
  try {
    for (const cell of selected) {
      if (stopSignal) break;
      const dir = cellDir(outDir, cell);
      const status = cellStatus(dir, cellFingerprint(spec, cell));
      if (!shouldRun(status, force)) {
        progress.skip(cell.id, 'already done; --force reruns it');
        skipped++;
        continue;
      }
      progress.begin(cell.id + (status.state === 'stale' ? ` (rerun: ${status.reason})` : ''));
      const ticker = setInterval(() => progress.refresh(), 1000);
      const prepared: PreparedTrace | null =
        cell.trace.kind === 'trace' ? { trace: exp.traces.get(cell.trace.label)!, notEmulated: support.notEmulated.get(cell.trace.label) ?? [] } : null;
      const clipAnalysis = analyses.get(cell.clip.file) ?? null;
      current = new CellRun({ spec, cell, outDir, prepared, features: support.features, clock: io.clock, node: process.execPath, bin: bin(), clipAnalysis });
      const outcome = await current.run();
      current = null;
      clearInterval(ticker);
      ran++;
      if (!outcome.complete) failed++;
      progress.end(cell.id, outcome.complete, outcome.note);
      await rebuildSummaryCsv(outDir, exp.cells);
    }
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('exit', onExit);
    progress.stop();
  }
  const summary = await rebuildSummaryCsv(outDir, exp.cells);
  io.stderr.write(
    `run: ${plural(ran, 'cell')} run, ${failed} failed, ${skipped} already done` +
      `${stopSignal ? `, ${selected.length - ran - skipped} not run (interrupted (${stopSignal}))` : ''}; ` +
      `${plural(summary.rows, 'row')} in ${summary.path}\n`,
  );
  if (stopSignal) return SIGNAL_EXIT[stopSignal];
  return failed ? 1 : 0;
}

/**
 * Every clip the cells play, ready and measured before the first cell: a bundled scene not
 * made yet is made; each clip is decoded once into the raw source cache (the senders then
 * read pictures instead of decoding while they encode); its SI/TI and I/P sizes (cached by
 * content after the first time) go into its cells' meta.json. A clip that cannot be cached
 * or measured is said so on stderr (its senders decode; its cells record null), rather
 * than the run stopping over something it can do without.
 */
async function prepareClips(cells: Cell[], stderr: NodeJS.WritableStream): Promise<Map<string, ClipAnalysis | null>> {
  const analyses = new Map<string, ClipAnalysis | null>();
  for (const cell of cells) {
    const clip = cell.clip;
    if (analyses.has(clip.file)) continue;
    if (clip.scene && !existsSync(clip.file)) {
      stderr.write(`run: making scene ${clip.label} (${clip.file}), once\n`);
      await ensureClip(clip);
    }
    try {
      await buildRawClip(clip.file, null, (n) => n === 0 && stderr.write(`run: decoding clip ${clip.label} into the raw source cache (${rawDir()}), once\n`));
    } catch (e) {
      stderr.write(`run: warning: clip ${clip.label} could not be cached (${(e as Error).message.split('\n')[0]}); its senders decode it in real time\n`);
    }
    try {
      let said = false;
      const measuring = () => {
        if (!said) stderr.write(`run: measuring clip ${clip.label} (SI/TI, I/P sizes at ${ANALYSIS_RATES_BPS.map((b) => b / 1e6).join('/')} Mbit/s), once\n`);
        said = true;
      };
      analyses.set(clip.file, await analyseClip(clip.file, measuring));
    } catch (e) {
      stderr.write(`run: warning: clip ${clip.label} could not be measured (${(e as Error).message.split('\n')[0]}); its cells record clip_analysis null\n`);
      analyses.set(clip.file, null);
    }
  }
  return analyses;
}

/** Tasks of a Slurm array write the same files: write a private temporary, then rename. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
