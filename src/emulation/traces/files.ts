/**
 * Trace files on disk: the bundled set in `traces/` at the repository root, and any
 * `.trace` file by path.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TraceError } from './errors';
import { formatTrace, parseTrace } from './format';
import type { Trace } from './types';

/**
 * The repository's `traces/` folder, found upwards from this file (works from src/ and
 * dist/src/). The folder must sit beside package.json: dist/src/emulation/traces is this
 * module's own build output, not the bundled set.
 */
export function bundledDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'traces');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new TraceError(`the bundled traces/ folder was not found above ${__dirname}`);
    dir = parent;
  }
}

/** Names of the bundled traces (file names without `.trace`), sorted. */
export function listBundled(): string[] {
  return readdirSync(bundledDir())
    .filter((f) => f.endsWith('.trace'))
    .map((f) => f.slice(0, -'.trace'.length))
    .sort();
}

/**
 * Where a trace reference points: a bare name (`4g-1`, no slash, no `.trace`, not a file
 * here) is a bundled trace; anything else is a path.
 */
export function resolveTrace(ref: string): string {
  const isPath = ref.includes('/') || ref.includes('\\') || ref.endsWith('.trace') || existsSync(ref);
  if (isPath) return ref;
  const p = join(bundledDir(), `${ref}.trace`);
  if (!existsSync(p)) {
    throw new TraceError(`no bundled trace '${ref}' (bundled: ${listBundled().join(', ')}; or give a path to a .trace file)`);
  }
  return p;
}

/** Reads a trace by bundled name or path. */
export function loadTrace(pathOrBundledName: string): Trace {
  const path = resolveTrace(pathOrBundledName);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TraceError(`cannot read trace ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseTrace(text, path);
}

/** Writes a trace in the canonical format. */
export function writeTrace(path: string, trace: Trace): void {
  const text = formatTrace(trace);
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new TraceError(`cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
