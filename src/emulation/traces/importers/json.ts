/**
 * JSON capacity patterns: `[{"duration": ms, "capacity": kbit/s}, ...]`, or the same
 * array under `{"pattern": [...]}`. Entries follow each other; the pattern plays once
 * (loop false unless asked). Errors name the entry by index.
 */
import { clipText } from '../../../errors';
import { TraceError } from '../errors';
import { linkState } from '../format';
import { shown } from '../limits';
import { roundTo } from '../numbers';
import { mergeRuns } from '../transforms';
import type { TraceSample } from '../types';
import { fileLabel, isObject, parseJsonFile, type ImportMeta, type ImportResult } from './common';

const KNOWN = new Set(['duration', 'capacity']);

export function importJson(text: string, file: string, meta: ImportMeta): ImportResult {
  const doc = parseJsonFile(text, file);
  const pattern = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.pattern) ? doc.pattern : null;
  const where = Array.isArray(doc) ? '' : 'pattern';
  if (!pattern) throw new TraceError(`${file}: expected an array of {"duration": ms, "capacity": kbit/s} or {"pattern": [...]}`);
  if (pattern.length === 0) throw new TraceError(`${file}: the pattern is empty`);

  const ignored = new Set<string>();
  const samples: TraceSample[] = [];
  let tMs = 0;
  pattern.forEach((e: unknown, i: number) => {
    const at = `${file}: ${where}[${i}]`;
    if (!isObject(e)) throw new TraceError(`${at} must be an object {"duration": ms, "capacity": kbit/s}, got ${shown(e)}`);
    const { duration, capacity } = e;
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
      throw new TraceError(`${at}.duration must be a positive number of ms, got ${shown(duration)}`);
    }
    if (typeof capacity !== 'number' || !Number.isFinite(capacity) || capacity < 0) {
      throw new TraceError(`${at}.capacity must be a number of kbit/s >= 0, got ${shown(capacity)}`);
    }
    for (const k of Object.keys(e)) if (!KNOWN.has(k)) ignored.add(k);
    samples.push({ timeS: roundTo(tMs / 1000, 6), up: linkState(capacity), down: linkState(capacity) });
    tMs += duration;
  });

  const warnings = ignored.size ? [`${file}: ignored field(s) ${clipText([...ignored].join(', '))} (only duration and capacity are read)`] : [];
  const trace = mergeRuns({
    name: meta.name,
    family: meta.family,
    source: `json ${fileLabel(file)}: capacity pattern of ${pattern.length} entries`,
    durationS: roundTo(tMs / 1000, 6),
    loop: false,
    samples,
  });
  return { trace, warnings };
}
