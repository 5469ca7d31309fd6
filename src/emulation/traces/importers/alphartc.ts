/**
 * AlphaRTC / OpenNetLab gym traces (the bandwidth-estimation challenge's format):
 * `{"type": "video", "uplink": {"trace_pattern": [{"duration": ms, "capacity": kbit/s,
 * "loss": %, "rtt": ms, "jitter": ms}, ...]}, "downlink": {...}}`. Entries follow each
 * other. The media direction is `uplink` (the gym's sender sends on it); `downlink` gives
 * the feedback direction when it has a pattern, otherwise the link is symmetric, as the
 * gym's own replay uses one pattern. `rtt` becomes a one-way delay of rtt/2 in each
 * direction and `loss` a random loss (both need netem to replay; the simulated link
 * applies them); `jitter` has no counterpart in the canonical format and is reported
 * when non-zero.
 */
import { TraceError } from '../errors';
import { linkState } from '../format';
import { shown } from '../limits';
import { roundTo } from '../numbers';
import { mergeRuns } from '../transforms';
import type { LinkState, TraceSample } from '../types';
import { fileLabel, isObject, parseJsonFile, type ImportMeta, type ImportResult } from './common';

interface Span {
  fromMs: number;
  toMs: number;
  state: LinkState;
}

function pattern(doc: Record<string, unknown>, dir: 'uplink' | 'downlink', file: string, jitter: { n: number }): Span[] | null {
  const link = doc[dir];
  if (link === undefined || (isObject(link) && link.trace_pattern === undefined)) return null;
  if (!isObject(link) || !Array.isArray(link.trace_pattern)) throw new TraceError(`${file}: ${dir} must be {"trace_pattern": [...]}, got ${shown(link)}`);
  if (link.trace_pattern.length === 0) return null;
  const spans: Span[] = [];
  let t = 0;
  link.trace_pattern.forEach((e: unknown, i: number) => {
    const at = `${file}: ${dir}.trace_pattern[${i}]`;
    if (!isObject(e)) throw new TraceError(`${at} must be an object, got ${shown(e)}`);
    const num = (k: string, ok: (v: number) => boolean, what: string, optional: boolean): number | undefined => {
      const v = e[k];
      if (v === undefined && optional) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new TraceError(`${at}.${k} must be ${what}, got ${shown(v)}`);
      return v;
    };
    const duration = num('duration', (v) => v > 0, 'a positive number of ms', false)!;
    const capacity = num('capacity', (v) => v >= 0, 'a number of kbit/s >= 0', false)!;
    const loss = num('loss', (v) => v >= 0 && v <= 100, 'a percentage 0–100', true);
    const rtt = num('rtt', (v) => v >= 0, 'a number of ms >= 0', true);
    if ((num('jitter', (v) => v >= 0, 'a number of ms >= 0', true) ?? 0) > 0) jitter.n++;
    spans.push({ fromMs: t, toMs: t + duration, state: linkState(capacity, rtt ? rtt / 2 : undefined, loss ? loss : undefined) });
    t += duration;
  });
  return spans;
}

/** The state of `spans` at `ms` (the last span holds past its end). */
function at(spans: readonly Span[], ms: number): LinkState {
  return (spans.find((s) => ms < s.toMs) ?? spans[spans.length - 1]).state;
}

export function importAlphaRtc(text: string, file: string, meta: ImportMeta): ImportResult {
  const doc = parseJsonFile(text, file);
  if (!isObject(doc)) throw new TraceError(`${file}: expected {"uplink": {"trace_pattern": [...]}, ...}, got ${shown(doc)}`);
  const jitter = { n: 0 };
  const up = pattern(doc, 'uplink', file, jitter);
  if (!up) throw new TraceError(`${file}: no uplink.trace_pattern entries (the media direction)`);
  const down = pattern(doc, 'downlink', file, jitter);
  const endMs = up[up.length - 1].toMs;
  // Every boundary of either direction within the uplink's length.
  const bounds = [...new Set([...up, ...(down ?? [])].map((s) => s.fromMs).filter((ms) => ms < endMs))].sort((a, b) => a - b);
  const samples: TraceSample[] = bounds.map((ms) => ({ timeS: roundTo(ms / 1000, 6), up: at(up, ms), down: down ? at(down, ms) : at(up, ms) }));
  const warnings: string[] = [];
  if (jitter.n) warnings.push(`${file}: ${jitter.n} entries give a jitter, which the canonical format has no column for: ignored`);
  if (down && down[down.length - 1].toMs !== endMs) warnings.push(`${file}: the downlink pattern is not as long as the uplink's: cut or held to the uplink's ${endMs / 1000} s`);
  const trace = mergeRuns({
    name: meta.name,
    family: meta.family,
    source: `alphartc ${fileLabel(file)}: uplink pattern of ${up.length} entries, ${down ? `downlink of ${down.length}` : 'symmetric'}; rtt/2 as one-way delay`,
    durationS: roundTo(endMs / 1000, 6),
    loop: false,
    samples,
  });
  return { trace, warnings };
}
