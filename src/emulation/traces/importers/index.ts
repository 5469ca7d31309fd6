/** The importers by format name, with the options each one takes. */
import { TraceError } from '../errors';
import { checkTrace } from '../limits';
import type { ImportMeta, ImportResult } from './common';
import { importCsv } from './csv';
import { importJson } from './json';
import { importMahimahi } from './mahimahi';
import { importText, type GapPolicy } from './text';

export type { ImportMeta, ImportResult } from './common';
export { importCsv, importJson, importMahimahi, importText };

export const IMPORT_FORMATS = ['mahimahi', 'text', 'csv', 'json'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportOptions {
  binMs?: number;
  maxGapS?: number;
  gap?: GapPolicy;
  column?: string;
  timeColumn?: string;
}

/** Which format each option belongs to, and its CLI spelling (for the error when misused). */
const OPTION_FORMAT: Record<keyof ImportOptions, [ImportFormat, string]> = {
  binMs: ['mahimahi', '--bin-ms'],
  maxGapS: ['text', '--max-gap-s'],
  gap: ['text', '--gap'],
  column: ['csv', '--column'],
  timeColumn: ['csv', '--time-column'],
};

export function isImportFormat(f: string): f is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(f);
}

/** Imports `text` in `format`; whatever the importer built is checked against the trace limits (limits.ts). */
export function importTrace(format: ImportFormat, text: string, file: string, meta: ImportMeta, opts: ImportOptions = {}): ImportResult {
  const r = runImporter(format, text, file, meta, opts);
  checkTrace(r.trace, file);
  return r;
}

function runImporter(format: ImportFormat, text: string, file: string, meta: ImportMeta, opts: ImportOptions): ImportResult {
  for (const [k, v] of Object.entries(opts)) {
    const [f, flag] = OPTION_FORMAT[k as keyof ImportOptions];
    if (v !== undefined && f !== format) throw new TraceError(`${flag} applies to the ${f} format, not ${format}`);
  }
  switch (format) {
    case 'mahimahi':
      return importMahimahi(text, file, meta, opts.binMs);
    case 'text':
      return importText(text, file, meta, { maxGapS: opts.maxGapS, gap: opts.gap });
    case 'csv':
      if (opts.column === undefined) throw new TraceError('the csv format needs --column NAME (the capacity column, kbit/s)');
      return importCsv(text, file, meta, { column: opts.column, timeColumn: opts.timeColumn });
    case 'json':
      return importJson(text, file, meta);
  }
}
