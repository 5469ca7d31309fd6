/**
 * Per-second CSV logs (drive-test style): a header row, one row per second, the capacity
 * in a named column in kbit/s (e.g. `DL_bitrate`), `-` or an empty cell where the logger
 * had no value. Without `timeColumn` row k is second k; with it, that column's numbers
 * (seconds) are the times, shifted so the first is 0.
 *
 * Missing values hold the previous value (a logger that skipped a second did not see
 * the link stop; an outage is logged as 0), and leading ones take the first value
 * logged; they are counted in a warning. Anything else that is not a number is an error
 * naming the line.
 */
import { parse } from 'csv-parse/sync';
import { TraceError } from '../errors';
import { linkState } from '../format';
import { medianStep, parseNumber, roundTo } from '../numbers';
import { mergeRuns } from '../transforms';
import type { TraceSample } from '../types';
import { fileLabel, lineError, type ImportMeta, type ImportResult } from './common';

export interface CsvImportOptions {
  /** The capacity column, kbit/s. */
  column: string;
  /** A column of times in seconds (default: one row per second). */
  timeColumn?: string;
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
  const rows = readRows(text, file);
  if (rows.length === 0) throw new TraceError(`${file} line 1: empty file (expected a header row)`);
  const [header, ...data] = rows;
  const col = (name: string): number => {
    const k = header.cells.indexOf(name);
    if (k < 0) throw lineError(file, header.line, `no column '${name}' (columns: ${header.cells.join(', ')})`);
    return k;
  };
  const valueCol = col(opts.column);
  const timeCol = opts.timeColumn === undefined ? -1 : col(opts.timeColumn);
  if (data.length === 0) throw lineError(file, header.line, 'a header row but no data rows');

  const values: (number | null)[] = [];
  const times: number[] = [];
  for (const r of data) {
    if (r.cells.length !== header.cells.length) throw lineError(file, r.line, `${r.cells.length} fields, the header has ${header.cells.length}`);
    const cell = r.cells[valueCol];
    if (MISSING.has(cell)) values.push(null);
    else {
      const v = parseNumber(cell);
      if (v === null) throw lineError(file, r.line, `${opts.column} '${cell}' is not a number (missing values are '-' or empty)`);
      if (v < 0) throw lineError(file, r.line, `${opts.column} must not be negative, got ${cell}`);
      values.push(v);
    }
    if (timeCol >= 0) {
      const t = parseNumber(r.cells[timeCol]);
      if (t === null) throw lineError(file, r.line, `${opts.timeColumn} '${r.cells[timeCol]}' is not a number of seconds`);
      if (times.length && t <= times[times.length - 1]) throw lineError(file, r.line, `${opts.timeColumn} must increase (${t} after ${times[times.length - 1]})`);
      times.push(t);
    }
  }
  const first = values.find((v) => v !== null);
  if (first === undefined || first === null) throw new TraceError(`${file}: no value in column ${opts.column} (all '-' or empty)`);

  const t0 = timeCol >= 0 ? times[0] : 0;
  const rel = timeCol >= 0 ? times.map((t) => roundTo(t - t0, 6)) : values.map((_, i) => i);
  // One row per second without a time column; with one, the last row lasts a median step.
  const lastLen = timeCol >= 0 ? (rel.length > 1 ? medianStep(rel) : 1) : 1;
  let held = first;
  const samples: TraceSample[] = values.map((v, i) => {
    if (v !== null) held = v;
    return { timeS: rel[i], up: linkState(held), down: linkState(held) };
  });

  const missing = values.filter((v) => v === null).length;
  const warnings = missing
    ? [`${file}: ${missing} of ${values.length} rows had no ${opts.column} ('-' or empty): each held the previous value (leading ones the first value logged)`]
    : [];
  const timing = timeCol >= 0 ? `times from ${opts.timeColumn}${t0 ? ` shifted by ${-t0} s to start at 0` : ''}` : 'one row per second';
  const trace = mergeRuns({
    name: meta.name,
    family: meta.family,
    source: `csv ${fileLabel(file)}: column ${opts.column} (kbit/s), ${values.length} rows, ${timing}${missing ? `, ${missing} missing held` : ''}`,
    durationS: roundTo(rel[rel.length - 1] + lastLen, 6),
    loop: false,
    samples,
  });
  return { trace, warnings };
}
