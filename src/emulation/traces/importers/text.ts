/**
 * Two-column text traces: `time_s rate` per line (the rate in `unit` per second: such
 * logs are usually Mbit/s, but nothing in the file says so), whitespace- or comma-separated,
 * `#` comments, irregular steps (200 ms–3 s) and a start time that is rarely 0. Each rate
 * holds until the next line; the times are shifted so the first is 0 (the shift is kept
 * in `source`); the last rate holds for one median step.
 *
 * Gaps: such logs write a line when a measurement interval ends, so a silence much longer
 * than the usual step means the measurement delivered nothing. By default a step longer
 * than `maxGapS` is therefore an outage: the rate before it holds for one median step,
 * then capacity is 0 until the next line. `gap: 'hold'` keeps the rate through the gap
 * instead (for logs known to have recording gaps). Either way the gaps are counted in a
 * warning, since both are guesses about data that is not there.
 */
import { TraceError } from '../errors';
import { linkState } from '../format';
import { medianStep, parseNumber, roundTo } from '../numbers';
import { mergeRuns } from '../transforms';
import type { TraceSample } from '../types';
import { fileLabel, lineError, numberedLines, type ImportMeta, type ImportResult } from './common';
import { toKbit, type RateUnit } from './units';

export type GapPolicy = 'outage' | 'hold';

export interface TextImportOptions {
  /** Unit of the rate column, per second. */
  unit: RateUnit;
  /** A step longer than this (s) is a gap (default 5). */
  maxGapS?: number;
  gap?: GapPolicy;
}

export function importText(text: string, file: string, meta: ImportMeta, opts: TextImportOptions): ImportResult {
  const maxGapS = opts.maxGapS ?? 5;
  const policy = opts.gap ?? 'outage';
  if (!(maxGapS > 0)) throw new TraceError(`--max-gap-s must be > 0, got ${maxGapS}`);
  const rows: { t: number; kbit: number }[] = [];
  for (const l of numberedLines(text.replace(/#[^\n]*/g, ''))) {
    const fields = l.text.split(/[\s,]+/);
    const t = parseNumber(fields[0]);
    const rate = fields.length === 2 ? parseNumber(fields[1]) : null;
    if (fields.length !== 2 || t === null || rate === null) throw lineError(file, l.line, `expected 'time_s rate', got '${l.text.slice(0, 60)}'`);
    if (rate < 0) throw lineError(file, l.line, `the rate must not be negative, got ${fields[1]}`);
    const prev = rows[rows.length - 1];
    if (prev && t <= prev.t) throw lineError(file, l.line, `times must increase (${fields[0]} after ${prev.t})`);
    rows.push({ t, kbit: roundTo(toKbit(rate, opts.unit), 3) });
  }
  if (rows.length < 2) throw new TraceError(`${file}: needs at least two 'time_s rate' lines (found ${rows.length})`);

  const t0 = rows[0].t;
  const times = rows.map((r) => roundTo(r.t - t0, 6));
  const step = medianStep(times);
  if (step >= maxGapS) throw new TraceError(`${file}: the median step ${step} s is not shorter than --max-gap-s ${maxGapS}: every step would be a gap`);

  const samples: TraceSample[] = [];
  let gaps = 0;
  let gapS = 0;
  rows.forEach((r, i) => {
    samples.push({ timeS: times[i], up: linkState(r.kbit), down: linkState(r.kbit) });
    const next = times[i + 1];
    if (next !== undefined && next - times[i] > maxGapS) {
      gaps++;
      gapS += next - times[i] - step;
      if (policy === 'outage') samples.push({ timeS: roundTo(times[i] + step, 6), up: linkState(0), down: linkState(0) });
    }
  });

  const warnings: string[] = [];
  if (gaps > 0) {
    warnings.push(
      `${file}: ${gaps} gap(s) longer than ${maxGapS} s (${gapS.toFixed(1)} s in all) ` +
        (policy === 'outage' ? 'replayed as outages (--gap hold keeps the last rate instead)' : 'bridged by holding the last rate'),
    );
  }
  const shift = t0 === 0 ? '' : `, times shifted by ${-t0} s to start at 0`;
  const trace = mergeRuns({
    name: meta.name,
    family: meta.family,
    source: `text ${fileLabel(file)}: ${rows.length} 'time_s rate' lines (${opts.unit}/s), median step ${roundTo(step, 3)} s${shift}${gaps ? `, ${gaps} gap(s) as ${policy === 'outage' ? 'outages' : 'held rate'}` : ''}`,
    durationS: roundTo(times[times.length - 1] + step, 6),
    loop: false,
    samples,
  });
  return { trace, warnings };
}
