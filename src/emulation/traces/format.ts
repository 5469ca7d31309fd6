/**
 * The canonical `.trace` file (traces/README.md): a magic first line, `# key: value`
 * header lines, a column line, then one comma-separated row per sample. Text, so a
 * trace reads and diffs like source; every error names the file and the line.
 */
import { basename } from 'node:path';
import { TraceError } from './errors';
import { checkTrace } from './limits';
import { medianStep, parseNumber } from './numbers';
import type { LinkState, Trace, TraceSample } from './types';

export const MAGIC = '# testbed-trace v1';

/** Every column, in the order formatTrace writes them. */
export const COLUMNS = ['time_s', 'up_kbit', 'down_kbit', 'up_delay_ms', 'down_delay_ms', 'up_loss_pct', 'down_loss_pct'] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED_COLUMNS: readonly Column[] = ['time_s', 'up_kbit'];

const HEADER_KEYS = ['name', 'family', 'source', 'duration_s', 'loop'] as const;
type HeaderKey = (typeof HEADER_KEYS)[number];

const HEADER_RE = /^#\s*([A-Za-z_][\w-]*)\s*:(.*)$/;

/** What the parser knows about the file, for its messages. */
interface Where {
  file: string;
  line: number;
}

function fail(w: Where, what: string): never {
  throw new TraceError(`${w.file} line ${w.line}: ${what}`);
}

/** The default trace name for a file: its base name without `.trace`. */
export function nameOf(file: string): string {
  return basename(file).replace(/\.trace$/, '');
}

/**
 * Parses a canonical trace. `file` names the text in error messages (a path) and gives the
 * trace its name when the header has none.
 */
export function parseTrace(text: string, file: string): Trace {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (text.trim() === '') fail({ file, line: 1 }, `empty file (expected '${MAGIC}' on the first line)`);
  checkMagic(lines[0], { file, line: 1 });

  const header = new Map<HeaderKey, { value: string; line: number }>();
  let i = 1;
  for (; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    if (!raw.startsWith('#')) break;
    const m = HEADER_RE.exec(raw);
    if (!m) continue; // a free comment
    const key = m[1] as HeaderKey;
    if (!HEADER_KEYS.includes(key)) fail({ file, line: i + 1 }, `unknown header '${m[1]}' (known: ${HEADER_KEYS.join(', ')})`);
    if (header.has(key)) fail({ file, line: i + 1 }, `header '${key}' given twice (also on line ${header.get(key)!.line})`);
    header.set(key, { value: m[2].trim(), line: i + 1 });
  }
  if (i >= lines.length) fail({ file, line: lines.length }, `missing the column line (${COLUMNS.join(',')})`);
  const columns = parseColumnLine(lines[i], { file, line: i + 1 });

  const samples: TraceSample[] = [];
  for (i++; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    const w = { file, line: i + 1 };
    if (raw.startsWith('#')) fail(w, 'comments and headers belong before the column line');
    const s = parseRow(raw, columns, w);
    const prev = samples[samples.length - 1];
    if (!prev && s.timeS !== 0) fail(w, `the first sample must be at time 0, got ${s.timeS}`);
    if (prev && s.timeS <= prev.timeS) fail(w, `times must increase (${s.timeS} after ${prev.timeS})`);
    samples.push(s);
  }
  if (samples.length === 0) fail({ file, line: lines.length }, 'no samples after the column line');

  return checkTrace({
    name: header.get('name')?.value ?? nameOf(file),
    family: header.get('family')?.value ?? 'other',
    source: header.get('source')?.value ?? 'unknown',
    durationS: durationOf(header.get('duration_s'), samples, file),
    loop: loopOf(header.get('loop'), file),
    samples,
  }, file);
}

function checkMagic(first: string, w: Where): void {
  const line = first.trim();
  if (line === MAGIC) return;
  const v = /^#\s*testbed-trace\s+(\S+)/.exec(line);
  if (v) fail(w, `unsupported format version '${v[1]}' (this testbed reads v1)`);
  fail(w, `not a testbed trace: the first line must be '${MAGIC}' (convert other formats with 'testbed traces import')`);
}

function parseColumnLine(line: string, w: Where): Column[] {
  const names = line.split(',').map((c) => c.trim());
  const seen = new Set<string>();
  for (const n of names) {
    if (!(COLUMNS as readonly string[]).includes(n)) fail(w, `unknown column '${n}' (known: ${COLUMNS.join(', ')})`);
    if (seen.has(n)) fail(w, `column '${n}' given twice`);
    seen.add(n);
  }
  for (const r of REQUIRED_COLUMNS) if (!seen.has(r)) fail(w, `missing the required column '${r}'`);
  return names as Column[];
}

function parseRow(raw: string, columns: readonly Column[], w: Where): TraceSample {
  const cells = raw.split(',');
  if (cells.length !== columns.length) fail(w, `${cells.length} fields, the column line has ${columns.length}`);
  const v: Partial<Record<Column, number>> = {};
  columns.forEach((c, k) => {
    const cell = cells[k].trim();
    if (cell === '') {
      if (REQUIRED_COLUMNS.includes(c)) fail(w, `${c} is empty`);
      return;
    }
    const n = parseNumber(cell);
    if (n === null) fail(w, `${c} '${cell}' is not a number`);
    if (n < 0) fail(w, `${c} must not be negative, got ${cell}`);
    if (c.endsWith('_loss_pct') && n > 100) fail(w, `${c} must be a percentage 0–100, got ${cell}`);
    v[c] = n;
  });
  return {
    timeS: v.time_s!,
    up: linkState(v.up_kbit!, v.up_delay_ms, v.up_loss_pct),
    // An absent or empty down_kbit means a symmetric link.
    down: linkState(v.down_kbit ?? v.up_kbit!, v.down_delay_ms, v.down_loss_pct),
  };
}

/** A LinkState without keys for what is absent (so traces compare with deepEqual). */
export function linkState(kbit: number, delayMs?: number, lossPct?: number): LinkState {
  const s: LinkState = { kbit };
  if (delayMs !== undefined) s.delayMs = delayMs;
  if (lossPct !== undefined) s.lossPct = lossPct;
  return s;
}

function durationOf(h: { value: string; line: number } | undefined, samples: TraceSample[], file: string): number {
  const last = samples[samples.length - 1].timeS;
  if (!h) {
    // One pass is one median step longer than the last sample: the last sample lasts as long as a typical one.
    if (samples.length < 2) fail({ file, line: 1 }, "missing the header '# duration_s:' (required when the trace has one sample)");
    return last + medianStep(samples.map((s) => s.timeS));
  }
  const d = parseNumber(h.value);
  if (d === null) fail({ file, line: h.line }, `duration_s '${h.value}' is not a number`);
  if (d <= last) fail({ file, line: h.line }, `duration_s ${d} must be greater than the last sample's time ${last}`);
  return d;
}

function loopOf(h: { value: string; line: number } | undefined, file: string): boolean {
  if (!h) return false;
  if (h.value === 'true') return true;
  if (h.value === 'false') return false;
  fail({ file, line: h.line }, `loop must be 'true' or 'false', got '${h.value}'`);
}

/** Writes the canonical text: every header and all seven columns, so bundled files look alike. */
export function formatTrace(t: Trace): string {
  for (const [k, v] of [['name', t.name], ['family', t.family], ['source', t.source]] as const) {
    // The parser trims header values: anything it would change cannot round-trip.
    if (/[\r\n]/.test(v) || v !== v.trim()) throw new TraceError(`trace ${t.name}: the ${k} must be one line without surrounding spaces`);
  }
  const out = [
    MAGIC,
    `# name: ${t.name}`,
    `# family: ${t.family}`,
    `# source: ${t.source}`,
    `# duration_s: ${t.durationS}`,
    `# loop: ${t.loop}`,
    COLUMNS.join(','),
  ];
  for (const s of t.samples) {
    out.push(
      [time(s.timeS), s.up.kbit, s.down.kbit, opt(s.up.delayMs), opt(s.down.delayMs), opt(s.up.lossPct), opt(s.down.lossPct)].join(','),
    );
  }
  return out.join('\n') + '\n';
}

/** Times keep a decimal point (0.0, 1.0) so the column reads as seconds; String() round-trips exactly. */
function time(t: number): string {
  return Number.isInteger(t) ? t.toFixed(1) : String(t);
}

function opt(n: number | undefined): string {
  return n === undefined ? '' : String(n);
}
