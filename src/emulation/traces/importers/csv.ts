/**
 * CSV logs of measured throughput (drive-test style and long-format data sets): a header
 * row (or none, with `header: false`: columns are then 1-based indices), the rate in one
 * column in the given unit per second, `-` or an empty cell where the logger had no
 * value. `where` keeps only rows whose columns hold given values — one run of a
 * multi-run file (`run_num=3`), one carrier, one direction; several runs read as one
 * trace would be separate measurements glued together.
 *
 * Times: without `timeColumn` row k is second k; with it, that column's seconds or
 * date-times (times.ts), shifted so the first is 0. Rows with the same time (a logger
 * writing twice in one second) are averaged into one sample; a gap longer than twice the
 * median step holds the previous value through it (a sample holds until the next one);
 * both are counted in a warning. Missing values hold the previous value (a logger that
 * skipped a second did not see the link stop; an outage is logged as 0), leading ones take
 * the first value logged; counted in a warning too. Anything else that is not a number
 * is an error naming the line.
 */
import { parse } from 'csv-parse/sync';
import { TraceError } from '../errors';
import { linkState } from '../format';
import { medianStep, parseNumber, roundTo } from '../numbers';
import { mergeRuns } from '../transforms';
import type { TraceSample } from '../types';
import { fileLabel, lineError, type ImportMeta, type ImportResult } from './common';
import { parseTimeCell } from './times';
import { toKbit, type RateUnit } from './units';

export interface CsvImportOptions {
  /** The rate column: a name, or a 1-based index without a header. */
  column: string;
  /** Unit of the rate column, per second. */
  unit: RateUnit;
  /** A column of times: seconds or date-times (default: one row per second). */
  timeColumn?: string;
  /** The first row names the columns (default true). */
  header?: boolean;
  /** Keep only rows where each column holds the value. */
  where?: readonly { column: string; value: string }[];
}

const MISSING = new Set(['', '-']);

interface Row {
  line: number;
  cells: string[];
}

function readRows(text: string, file: string): Row[] {
  try {
    const records = parse(text, { info: true, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
    return records.map((r) => ({ line: r.info.lines, cells: r.record }));
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new TraceError(`${file} line ${err.lines ?? '?'}: ${err.message.replace(/ (at|on) line \d+.*$/, '')}`);
  }
}

export function importCsv(text: string, file: string, meta: ImportMeta, opts: CsvImportOptions): ImportResult {
  const header = opts.header ?? true;
  const rows = readRows(text, file);
  if (rows.length === 0) throw new TraceError(`${file} line 1: empty file${header ? ' (expected a header row)' : ''}`);
  const width = rows[0].cells.length;
  const names = header ? rows[0].cells : rows[0].cells.map((_, k) => String(k + 1));
  const col = (ref: string): number => {
    if (!header) {
      const k = Number(ref);
      if (!Number.isInteger(k) || k < 1 || k > width) throw new TraceError(`${file}: without a header, columns are numbers 1–${width}, got '${ref}'`);
      return k - 1;
    }
    const k = names.indexOf(ref);
    if (k < 0) throw lineError(file, rows[0].line, `no column '${ref}' (columns: ${names.join(', ').slice(0, 200)})`);
    return k;
  };
  const valueCol = col(opts.column);
  const timeCol = opts.timeColumn === undefined ? -1 : col(opts.timeColumn);
  const where = (opts.where ?? []).map((w) => ({ k: col(w.column), ...w }));
  const label = (k: number) => (header ? names[k] : `column ${k + 1}`);
  const body = header ? rows.slice(1) : rows;
  if (body.length === 0) throw lineError(file, rows[0].line, 'a header row but no data rows');

  // Read the kept rows: value (kbit/s or null when missing) and time.
  const kept: { line: number; value: number | null; t: number }[] = [];
  for (const r of body) {
    if (r.cells.length !== width) throw lineError(file, r.line, `${r.cells.length} fields, ${header ? 'the header has' : 'the first row has'} ${width}`);
    if (!where.every((w) => r.cells[w.k] === w.value)) continue;
    const cell = r.cells[valueCol];
    let value: number | null = null;
    if (!MISSING.has(cell)) {
      const v = parseNumber(cell);
      if (v === null) throw lineError(file, r.line, `${label(valueCol)} '${cell.slice(0, 40)}' is not a number (missing values are '-' or empty)`);
      if (v < 0) throw lineError(file, r.line, `${label(valueCol)} must not be negative, got ${cell}`);
      value = toKbit(v, opts.unit);
    }
    let t = kept.length;
    if (timeCol >= 0) {
      const parsed = parseTimeCell(r.cells[timeCol]);
      if (parsed === null) throw lineError(file, r.line, `${label(timeCol)} '${r.cells[timeCol].slice(0, 40)}' is neither seconds nor a date-time (YYYY.MM.DD_HH.MM.SS, ISO 8601)`);
      const prev = kept[kept.length - 1];
      if (prev && parsed < prev.t) throw lineError(file, r.line, `${label(timeCol)} must not decrease (${r.cells[timeCol]} after an earlier row's later time)`);
      t = parsed;
    }
    kept.push({ line: r.line, value, t });
  }
  const filter = where.map((w) => `${w.column}=${w.value}`).join(', ');
  if (kept.length === 0) throw new TraceError(`${file}: no row has ${filter}`);

  // Rows of one time become one sample: the mean of their values.
  const merged: { t: number; value: number | null }[] = [];
  let repeated = 0;
  for (let i = 0; i < kept.length; ) {
    let j = i;
    while (j < kept.length && kept[j].t === kept[i].t) j++;
    const values = kept.slice(i, j).flatMap((k) => (k.value === null ? [] : [k.value]));
    repeated += j - i - 1;
    merged.push({ t: kept[i].t, value: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null });
    i = j;
  }
  const first = merged.find((m) => m.value !== null)?.value;
  if (first === undefined || first === null) throw new TraceError(`${file}: no value in ${label(valueCol)} (all '-' or empty)${filter ? ` among the rows with ${filter}` : ''}`);

  const t0 = merged[0].t;
  const rel = merged.map((m) => roundTo(m.t - t0, 6));
  const step = rel.length > 1 ? medianStep(rel) : 1;
  let held = first;
  const samples: TraceSample[] = merged.map((m, i) => {
    if (m.value !== null) held = roundTo(m.value, 3);
    return { timeS: rel[i], up: linkState(held), down: linkState(held) };
  });
  let gaps = 0;
  let gapS = 0;
  for (let i = 1; i < rel.length; i++) {
    if (rel[i] - rel[i - 1] > 2 * step) {
      gaps++;
      gapS += rel[i] - rel[i - 1] - step;
    }
  }

  const missing = merged.filter((m) => m.value === null).length;
  const warnings: string[] = [];
  if (missing) warnings.push(`${file}: ${missing} of ${merged.length} samples had no ${label(valueCol)} ('-' or empty): each held the previous value (leading ones the first value logged)`);
  if (repeated) warnings.push(`${file}: ${repeated} rows repeated an earlier row's time: rows of one time were averaged into one sample`);
  if (gaps) warnings.push(`${file}: ${gaps} gap(s) longer than twice the median step ${roundTo(step, 3)} s (${roundTo(gapS, 1)} s in all): the previous value held through them`);
  const timing = timeCol >= 0 ? `times from ${label(timeCol)}${t0 ? ` shifted by ${-t0} s to start at 0` : ''}` : 'one row per second';
  const trace = mergeRuns({
    name: meta.name,
    family: meta.family,
    source:
      `csv ${fileLabel(file)}: ${label(valueCol)} (${opts.unit}/s), ${kept.length} rows${filter ? ` with ${filter}` : ''}, ${timing}` +
      `${repeated ? `, ${repeated} repeated averaged` : ''}${missing ? `, ${missing} missing held` : ''}`,
    durationS: roundTo(rel[rel.length - 1] + step, 6),
    loop: false,
    samples,
  });
  return { trace, warnings };
}
