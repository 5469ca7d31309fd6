/** The importers by format name, with the options each one takes. */
import { TraceError } from '../errors';
import { checkTrace } from '../limits';
import { timeWeightedMean } from '../stats';
import { importAlphaRtc } from './alphartc';
import type { ImportMeta, ImportResult } from './common';
import { importCsv } from './csv';
import { importJson } from './json';
import { exportMahimahi, importMahimahi } from './mahimahi';
import { importText, type GapPolicy } from './text';
import { PLAUSIBLE_MEAN_KBIT, RATE_UNITS, type RateUnit } from './units';

export type { ImportMeta, ImportResult } from './common';
export { RATE_UNITS, isRateUnit, type RateUnit } from './units';
export { exportMahimahi, importAlphaRtc, importCsv, importJson, importMahimahi, importText };

export const IMPORT_FORMATS = ['mahimahi', 'text', 'csv', 'json', 'alphartc'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportOptions {
  binMs?: number;
  maxGapS?: number;
  gap?: GapPolicy;
  column?: string;
  timeColumn?: string;
  unit?: RateUnit;
  /** csv: false when the file has no header row (columns are then 1-based numbers). */
  header?: boolean;
  where?: { column: string; value: string }[];
}

/** Which formats each option belongs to, and its CLI spelling (for the error when misused). */
const OPTION_FORMAT: Record<keyof ImportOptions, [readonly ImportFormat[], string]> = {
  binMs: [['mahimahi'], '--bin-ms'],
  maxGapS: [['text'], '--max-gap-s'],
  gap: [['text'], '--gap'],
  column: [['csv'], '--column'],
  timeColumn: [['csv'], '--time-column'],
  unit: [['csv', 'text'], '--unit'],
  header: [['csv'], '--no-header'],
  where: [['csv'], '--where'],
};

export function isImportFormat(f: string): f is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(f);
}

/**
 * Imports `text` in `format`. Whatever the importer built is checked against the trace
 * limits (limits.ts), and a mean outside 10 kbit/s–10 Gbit/s adds a warning: almost surely
 * a unit mistake.
 */
export function importTrace(format: ImportFormat, text: string, file: string, meta: ImportMeta, opts: ImportOptions = {}): ImportResult {
  for (const [k, v] of Object.entries(opts)) {
    const [formats, flag] = OPTION_FORMAT[k as keyof ImportOptions];
    if (v !== undefined && !formats.includes(format)) throw new TraceError(`${flag} applies to the ${formats.join(' and ')} format${formats.length > 1 ? 's' : ''}, not ${format}`);
  }
  const r = runImporter(format, text, file, meta, opts);
  checkTrace(r.trace, file);
  const mean = timeWeightedMean(r.trace);
  const [lo, hi] = PLAUSIBLE_MEAN_KBIT;
  if (mean < lo || mean > hi) {
    const unit = format === 'csv' || format === 'text' ? ` (read as ${opts.unit}/s: check --unit)` : '';
    r.warnings.push(`${file}: the mean capacity is ${mean.toPrecision(3)} kbit/s${unit}, outside the 10 kbit/s–10 Gbit/s of real links`);
  }
  return r;
}

function needUnit(format: ImportFormat, unit: RateUnit | undefined): RateUnit {
  if (unit === undefined) throw new TraceError(`the ${format} format needs --unit (${RATE_UNITS.join(', ')}; per second): the file does not say its unit`);
  return unit;
}

function runImporter(format: ImportFormat, text: string, file: string, meta: ImportMeta, opts: ImportOptions): ImportResult {
  switch (format) {
    case 'mahimahi':
      return importMahimahi(text, file, meta, opts.binMs);
    case 'text':
      return importText(text, file, meta, { unit: needUnit(format, opts.unit), maxGapS: opts.maxGapS, gap: opts.gap });
    case 'csv':
      if (opts.column === undefined) throw new TraceError('the csv format needs --column NAME (the rate column; a number from 1 with --no-header)');
      return importCsv(text, file, meta, { column: opts.column, unit: needUnit(format, opts.unit), timeColumn: opts.timeColumn, header: opts.header, where: opts.where });
    case 'json':
      return importJson(text, file, meta);
    case 'alphartc':
      return importAlphaRtc(text, file, meta);
  }
}
