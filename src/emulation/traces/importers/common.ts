/** What every importer returns, and the helpers they share. */
import { basename } from 'node:path';
import { clipText } from '../../../errors';
import { TraceError } from '../errors';
import type { Trace } from '../types';

export interface ImportResult {
  trace: Trace;
  /** Things the user should know that did not stop the import (one line each). */
  warnings: string[];
}

/** Name and family of the imported trace; `source` is the importer's to write. */
export interface ImportMeta {
  name: string;
  family: string;
}

export function lineError(file: string, line: number, what: string): TraceError {
  return new TraceError(`${file} line ${line}: ${clipText(what, 250)}`);
}

/** The input lines with their 1-based numbers, without CR, skipping blank ones. */
export function numberedLines(text: string): { line: number; text: string }[] {
  return text
    .split('\n')
    .map((t, i) => ({ line: i + 1, text: t.replace(/\r$/, '').trim() }))
    .filter((l) => l.text !== '');
}

export function fileLabel(file: string): string {
  return basename(file);
}

/** The JSON document in `text`, or a TraceError of one line naming the file. */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TraceError(`${file}: not valid JSON (${clipText((e as Error).message)})`);
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
