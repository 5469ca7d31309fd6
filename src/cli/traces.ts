/**
 * `testbed traces list|show|import|export|generate`: the bundled bandwidth traces, what one
 * looks like, converting other formats to the canonical one and back to mahimahi's, and
 * making model, fixed and step traces (traces/README.md lists the commands behind every bundled file).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Argument, Option, type Command } from 'commander';
import {
  applyPipeline,
  binMeans,
  constantTrace,
  exportMahimahi,
  generateModel,
  IMPORT_FORMATS,
  importTrace,
  isModelFamily,
  listBundled,
  loadTrace,
  parseSteps,
  RATE_UNITS,
  secondStats,
  stepTrace,
  TraceError,
  traceStats,
  writeTrace,
  type ImportFormat,
  type ImportOptions,
  type PipelineOptions,
  type ModelParams,
  type Trace,
} from '../emulation/traces';
import { nameOf } from '../emulation/traces/format';
import type { GapPolicy } from '../emulation/traces/importers/text';
import { parseFloatOption, parseIntOption, UsageError } from './session';
import { textTable } from './text-table';

/** A trace error is the user's to fix: one line, exit 2. */
function asUsage<A extends unknown[]>(f: (...a: A) => void): (...a: A) => void {
  return (...a: A) => {
    try {
      f(...a);
    } catch (e) {
      if (e instanceof TraceError) throw new UsageError(e.message);
      throw e;
    }
  };
}

function warn(lines: string[]): void {
  for (const l of lines) process.stderr.write(`testbed: warning: ${l}\n`);
}

function checkOut(out: string): void {
  if (!out.endsWith('.trace')) throw new UsageError(`--out ${out}: a canonical trace file must end in .trace`);
}

function parseClip(v: string): { minKbit: number; maxKbit: number } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
  if (!m || Number(m[1]) > Number(m[2])) throw new UsageError(`--clip must be MIN,MAX in kbit/s with MIN <= MAX, got '${v}'`);
  return { minKbit: Number(m[1]), maxKbit: Number(m[2]) };
}

const k0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '-');

function list(): void {
  const rows = [['name', 'family', 'duration_s', 'loop', 'mean_kbit', 'min_kbit', 'max_kbit', 'cv']];
  for (const name of listBundled()) {
    const t = loadTrace(name);
    const s = traceStats(t);
    rows.push([name, t.family, String(t.durationS), t.loop ? 'yes' : 'no', k0(s.meanKbit), k0(s.minKbit), k0(s.maxKbit), f2(s.cv)]);
  }
  process.stdout.write(textTable(rows) + '\n');
}

function directionLines(t: Trace, d: 'up' | 'down'): string[] {
  const s = traceStats(t, d);
  const sec = secondStats(t, d);
  return [
    `${d.padEnd(6)}mean ${k0(s.meanKbit)} kbit/s, cv ${f2(s.cv)}; min ${k0(s.minKbit)}, p5 ${k0(s.p5Kbit)}, p50 ${k0(s.p50Kbit)}, p95 ${k0(s.p95Kbit)}, max ${k0(s.maxKbit)} kbit/s; below 10 % of the mean ${pct(s.belowTenthShare)} of the time`,
    `      per 1-s bin: cv ${f2(sec.cv)}, lag-1 autocorrelation ${f2(sec.lag1)}, change between seconds p50 ${pct(sec.changeP50)} / p95 ${pct(sec.changeP95)} of the mean`,
  ];
}

function show(ref: string, binS: number): void {
  const t = loadTrace(ref);
  const symmetric = t.samples.every((s) => s.up.kbit === s.down.kbit);
  const hasDelay = t.samples.some((s) => s.up.delayMs !== undefined || s.down.delayMs !== undefined);
  const hasLoss = t.samples.some((s) => s.up.lossPct !== undefined || s.down.lossPct !== undefined);
  const out = [
    `name    ${t.name}`,
    `family  ${t.family}`,
    `source  ${t.source}`,
    `length  ${t.durationS} s, ${t.loop ? 'loops' : 'plays once (the last sample then holds)'}; ${t.samples.length} samples`,
    ...directionLines(t, 'up'),
    ...(symmetric ? ['down  same capacity as up'] : directionLines(t, 'down')),
    `delay/loss: ${hasDelay || hasLoss ? [hasDelay && 'delay', hasLoss && 'loss'].filter(Boolean).join(' and ') + ' given (need netem to replay)' : 'none'}`,
    '',
  ];
  const means = binMeans(t, binS);
  const top = Math.max(...means, 1);
  const rows = [['from_s', 'up_mean_kbit', '']];
  means.forEach((m, i) => rows.push([String(+(i * binS).toFixed(3)), k0(m), '#'.repeat(Math.round((40 * m) / top)).padEnd(40)]));
  out.push(textTable(rows));
  process.stdout.write(out.join('\n') + '\n');
}

/** The command's options: the importer's, the pipeline's (`--duration` is its durationS), and the output. */
interface ImportOpts extends Omit<ImportOptions, 'where'>, Omit<PipelineOptions, 'durationS'> {
  out: string;
  where?: string[];
  name?: string;
  family: string;
  duration?: number;
}

function runImport(format: ImportFormat, file: string, o: ImportOpts): void {
  checkOut(o.out);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const { trace, warnings } = importTrace(format, text, file, { name: o.name ?? nameOf(o.out), family: o.family }, {
    binMs: o.binMs,
    maxGapS: o.maxGapS,
    gap: o.gap,
    column: o.column,
    timeColumn: o.timeColumn,
    unit: o.unit,
    // commander sets header true unless --no-header: only its absence is an option.
    header: o.header === false ? false : undefined,
    where: o.where?.map(parseWhere),
  });
  warn(warnings);
  const t = applyPipeline(trace, { ...o, durationS: o.duration });
  writeTrace(o.out, t);
  report(o.out, t);
}

function parseWhere(v: string): { column: string; value: string } {
  const k = v.indexOf('=');
  if (k < 1) throw new UsageError(`--where must be COLUMN=VALUE, got '${v}'`);
  return { column: v.slice(0, k), value: v.slice(k + 1) };
}

function runExport(ref: string, o: { out: string; direction: 'up' | 'down' }): void {
  const t = loadTrace(ref);
  const { text, note } = exportMahimahi(t, o.direction);
  try {
    writeFileSync(o.out, text);
  } catch (e) {
    throw new UsageError(`cannot write ${o.out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  process.stdout.write(`wrote ${o.out}: ${t.name} ${o.direction}, ${note}\n`);
}

function report(out: string, t: Trace): void {
  process.stdout.write(`wrote ${out}: ${t.samples.length} samples, ${t.durationS} s${t.loop ? ', loops' : ''}, mean ${k0(traceStats(t).meanKbit)} kbit/s\n`);
}

interface GenerateOpts extends Partial<ModelParams> {
  family: string;
  out: string;
  name?: string;
  seed?: number;
  duration?: number;
  kbit?: number;
  steps?: string;
  loop?: boolean;
}

const MODEL_FLAGS: [keyof ModelParams, string][] = [
  ['meanKbit', '--mean-kbit'],
  ['cv', '--cv'],
  ['tauS', '--tau-s'],
  ['outagesPerMin', '--outages-per-min'],
  ['outageMeanS', '--outage-mean-s'],
  ['minKbit', '--min-kbit'],
  ['maxKbit', '--max-kbit'],
  ['stepMs', '--step-ms'],
  ['jitterCv', '--jitter-cv'],
];

function runGenerate(o: GenerateOpts): void {
  checkOut(o.out);
  const name = o.name ?? nameOf(o.out);
  const only = (given: boolean, flag: string, families: string) => {
    if (given) throw new UsageError(`${flag} does not apply to --family ${o.family} (only ${families})`);
  };
  only(o.kbit !== undefined && o.family !== 'fixed', '--kbit', 'fixed');
  only(o.steps !== undefined && o.family !== 'step', '--steps', 'step');
  const model = isModelFamily(o.family);
  only(o.seed !== undefined && !model, '--seed', 'wifi, 4g, 5g');
  for (const [k, flag] of MODEL_FLAGS) only(o[k] !== undefined && !model, flag, 'wifi, 4g, 5g');
  let t: Trace;
  if (isModelFamily(o.family)) {
    const overrides = Object.fromEntries(MODEL_FLAGS.map(([k]) => [k, o[k]])) as Partial<ModelParams>;
    t = generateModel({ family: o.family, seed: o.seed ?? 1, durationS: o.duration ?? 300, overrides, name, loop: o.loop }).trace;
  } else if (o.family === 'fixed') {
    if (o.kbit === undefined) throw new UsageError('--family fixed needs --kbit KBIT');
    t = constantTrace(name, o.kbit, o.duration ?? 60, o.loop ?? true);
  } else {
    if (o.steps === undefined) throw new UsageError('--family step needs --steps KBIT:SECONDS,...');
    if (o.duration !== undefined) throw new UsageError('--family step: the steps give the duration; drop --duration');
    t = stepTrace(name, parseSteps(o.steps), o.loop ?? false);
  }
  writeTrace(o.out, t);
  report(o.out, t);
}

export function addTracesCommand(program: Command): void {
  const traces = program.command('traces').description('bandwidth traces: list and show the bundled ones, import other formats, generate model traces (traces/README.md)');

  traces
    .command('list')
    .description('the bundled traces (traces/*.trace): family, length, mean/min/max capacity, cv')
    .action(asUsage(() => list()));

  traces
    .command('show')
    .description('a trace: its header, statistics (time-weighted and per 1-s bin) and its capacity per bin')
    .argument('<trace>', 'bundled name (e.g. 4g-1) or path to a .trace file')
    .option('--bin-s <s>', 'bin of the capacity table, s', parseFloatOption('--bin-s', 0.1), 10)
    .action(asUsage((ref: string, o: { binS: number }) => show(ref, o.binS)));

  traces
    .command('import')
    .description('convert a trace from another format to the canonical one (then resample, offset, cut/repeat, scale, clip, in that order)')
    .addArgument(new Argument('<format>', 'input format').choices(IMPORT_FORMATS))
    .argument('<file>', 'the input file')
    .requiredOption('--out <file>', 'where to write the canonical trace (.trace)')
    .option('--name <name>', 'trace name (default: the --out file name)')
    .option('--family <family>', 'family for grouping results (wifi, 4g, 5g, ...)', 'other')
    .option('--bin-ms <ms>', 'mahimahi: capacity bin, ms (default 200)', parseIntOption('--bin-ms', 1, 60_000))
    .option('--max-gap-s <s>', 'text: a step longer than this is a gap (default 5)', parseFloatOption('--max-gap-s', 0.001))
    .addOption(new Option('--gap <policy>', 'text: a gap is an outage, or holds the last rate (default outage)').choices(['outage', 'hold']))
    .addOption(new Option('--unit <unit>', 'csv, text: the rate column\'s unit, per second (required: the file does not say)').choices(RATE_UNITS))
    .option('--column <name>', 'csv: the rate column (required for csv; a number from 1 with --no-header)')
    .option('--time-column <name>', 'csv: a column of times, seconds or date-times (YYYY.MM.DD_HH.MM.SS, ISO 8601); default: one row per second')
    .option('--no-header', 'csv: the file has no header row (columns are numbers from 1)')
    .option('--where <column=value>', 'csv: keep only rows whose column holds the value (repeatable: one run of a multi-run file)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--resample-ms <ms>', 'resample to fixed steps (time-weighted mean per step)', parseFloatOption('--resample-ms', 1))
    .option('--offset-s <s>', 'start this many seconds into the trace (wrapping if it loops)', parseFloatOption('--offset-s', 0))
    .option('--duration <s>', 'cut to, or repeat up to, this many seconds', parseFloatOption('--duration', 0.001))
    .option('--scale <factor>', 'multiply the capacity', parseFloatOption('--scale', 1e-9))
    .option('--scale-mean-kbit <kbit>', 'scale so the mean up capacity is this (shape kept)', parseFloatOption('--scale-mean-kbit', 1e-6))
    .option('--clip <min,max>', 'bound the capacity to [MIN, MAX] kbit/s (outages stay outages)', parseClip)
    .option('--loop', 'the trace loops')
    .option('--no-loop', 'the trace plays once')
    .action(asUsage((format: ImportFormat, file: string, o: ImportOpts & { gap?: GapPolicy }) => runImport(format, file, o)));

  traces
    .command('export')
    .description("write a trace in another tool's format: mahimahi (mm-link's delivery opportunities, one pass)")
    .addArgument(new Argument('<format>', 'output format').choices(['mahimahi']))
    .argument('<trace>', 'bundled name (e.g. 4g-1) or path to a .trace file')
    .requiredOption('--out <file>', 'where to write it')
    .addOption(new Option('--direction <dir>', 'which direction of the trace').choices(['up', 'down']).default('up'))
    .action(asUsage((_format: string, ref: string, o: { out: string; direction: 'up' | 'down' }) => runExport(ref, o)));

  traces
    .command('generate')
    .description('make a trace: a seeded model of a wifi/4g/5g link, a fixed link, or capacity steps')
    .addOption(new Option('--family <family>', 'wifi, 4g, 5g (model), fixed, step').choices(['wifi', '4g', '5g', 'fixed', 'step']).makeOptionMandatory())
    .requiredOption('--out <file>', 'where to write the trace (.trace)')
    .option('--name <name>', 'trace name (default: the --out file name)')
    .option('--seed <n>', 'model: the seed (draws the parameters in the family ranges, then the process; default 1)', parseIntOption('--seed', 0, 0xffffffff))
    .option('--duration <s>', 'model: length, s (300); fixed: (60)', parseFloatOption('--duration', 0.001))
    .option('--kbit <kbit>', 'fixed: the capacity, kbit/s', parseFloatOption('--kbit', 0))
    .option('--steps <spec>', 'step: KBIT:SECONDS,KBIT:SECONDS,... (e.g. 2500:20,1000:20,2500:20)')
    .option('--mean-kbit <kbit>', 'model: fix the mean instead of drawing it', parseFloatOption('--mean-kbit', 1))
    .option('--cv <x>', 'model: fix the coefficient of variation', parseFloatOption('--cv', 0, 3))
    .option('--tau-s <s>', 'model: fix the decorrelation time (lag-1 s autocorrelation exp(-1/tau))', parseFloatOption('--tau-s', 0.01))
    .option('--outages-per-min <n>', 'model: fix the outage rate', parseFloatOption('--outages-per-min', 0))
    .option('--outage-mean-s <s>', 'model: fix the mean outage length', parseFloatOption('--outage-mean-s', 0.001))
    .option('--min-kbit <kbit>', 'model: lower clip outside outages', parseFloatOption('--min-kbit', 0))
    .option('--max-kbit <kbit>', 'model: upper clip', parseFloatOption('--max-kbit', 0))
    .option('--step-ms <ms>', 'model: sub-second step, ms, dividing 1000 (200)', parseIntOption('--step-ms', 10, 1000))
    .option('--jitter-cv <x>', 'model: sub-second jitter around each second', parseFloatOption('--jitter-cv', 0, 3))
    .option('--loop', 'the trace loops (default for model and fixed)')
    .option('--no-loop', 'the trace plays once (default for step)')
    .action(asUsage((o: GenerateOpts) => runGenerate(o)));
}
