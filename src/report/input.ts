/**
 * Reading the result files a dashboard plots, with errors a user can act on: a missing
 * column, a value that is not a number, or a CSV that does not parse is one line naming
 * the file (and the line). The CLI turns ReportInputError into a UsageError.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readCsv } from '../metrics/csv';

export class ReportInputError extends Error {
  override name = 'ReportInputError';
}

export type Row = Record<string, string>;

export interface ColumnSpec {
  /** Columns the header must have. */
  required: readonly string[];
  /** Columns that must hold a number or be empty. */
  numeric?: readonly string[];
  /** Columns that must hold a number (never empty). */
  present?: readonly string[];
  /** A header without rows is valid (e.g. no events happened). */
  allowEmpty?: boolean;
}

/** A CSV's rows after checking its header and numeric columns. */
export function readTable(path: string, spec: ColumnSpec): Row[] {
  let rows: Row[];
  try {
    rows = readCsv(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ReportInputError(code && !code.startsWith('CSV_') ? `cannot read ${path} (${code})` : `${path}: ${(e as Error).message}`);
  }
  if (rows.length === 0 && !spec.allowEmpty) throw new ReportInputError(`${path}: no data rows`);
  const header = rows.length ? Object.keys(rows[0]) : readFileSync(path, 'utf8').split(/\r?\n/, 1)[0].split(',');
  const missing = spec.required.filter((c) => !header.includes(c));
  if (missing.length) throw new ReportInputError(`${path}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  rows.forEach((r, i) => {
    // Line numbers as an editor shows them: the header is line 1.
    const line = i + 2;
    for (const c of spec.present ?? []) {
      if (r[c] === '' || !Number.isFinite(Number(r[c]))) throw new ReportInputError(`${path} line ${line}: ${c} must be a number, got '${r[c]}'`);
    }
    for (const c of spec.numeric ?? []) {
      if (r[c] !== undefined && r[c] !== '' && !Number.isFinite(Number(r[c]))) throw new ReportInputError(`${path} line ${line}: ${c} must be a number or empty, got '${r[c]}'`);
    }
  });
  return rows;
}

/** The same for a file that may be absent (a run without shaping has no link.csv). */
export function readOptionalTable(path: string, spec: ColumnSpec): Row[] | null {
  return existsSync(path) ? readTable(path, spec) : null;
}

/** A numeric cell: null when empty (readTable has checked it parses). */
export function numOrNull(v: string | undefined): number | null {
  return v === undefined || v === '' ? null : Number(v);
}
