/**
 * The transforms an import applies, in a fixed order, with what was done appended to the
 * trace's `source` so a canonical file says how it was made. The order: resample
 * (a grid first), offset and duration (choose the part that is replayed), scale (so
 * the mean is that of the replayed part), clip (bounds in the scaled units), then whole
 * kbit/s and merged runs (what tc replays).
 */
import { TraceError } from './errors';
import { checkTrace } from './limits';
import { roundTo } from './numbers';
import { timeWeightedMean } from './stats';
import { clip, mergeRuns, offset, repeatTo, resample, roundKbit, scaleBy, scaleToMean } from './transforms';
import type { Trace } from './types';

export interface PipelineOptions {
  resampleMs?: number;
  offsetS?: number;
  /** Cut to, or repeat up to, this many seconds. */
  durationS?: number;
  scale?: number;
  scaleMeanKbit?: number;
  clip?: { minKbit: number; maxKbit: number };
  loop?: boolean;
}

export function applyPipeline(input: Trace, o: PipelineOptions): Trace {
  if (o.scale !== undefined && o.scaleMeanKbit !== undefined) throw new TraceError('give --scale or --scale-mean-kbit, not both');
  let t = input;
  const notes: string[] = [];
  if (o.resampleMs !== undefined) {
    t = resample(t, o.resampleMs / 1000);
    notes.push(`resampled to ${o.resampleMs} ms`);
  }
  if (o.offsetS !== undefined && o.offsetS !== 0) {
    t = offset(t, o.offsetS);
    notes.push(`from ${o.offsetS} s in`);
  }
  if (o.durationS !== undefined && o.durationS !== t.durationS) {
    notes.push(o.durationS < t.durationS ? `cut to ${o.durationS} s` : `repeated to ${o.durationS} s`);
    t = repeatTo(t, o.durationS);
  }
  if (o.scaleMeanKbit !== undefined) {
    const factor = o.scaleMeanKbit / timeWeightedMean(t);
    t = scaleToMean(t, o.scaleMeanKbit);
    notes.push(`scaled x${roundTo(factor, 4)} to mean ${o.scaleMeanKbit} kbit/s`);
  }
  if (o.scale !== undefined) {
    t = scaleBy(t, o.scale);
    notes.push(`scaled x${o.scale}`);
  }
  if (o.clip) {
    t = clip(t, o.clip.minKbit, o.clip.maxKbit);
    notes.push(`clipped to [${o.clip.minKbit}, ${o.clip.maxKbit}] kbit/s (outages kept)`);
  }
  if (o.loop !== undefined) t = { ...t, loop: o.loop };
  t = mergeRuns(roundKbit(t));
  return checkTrace(notes.length ? { ...t, source: `${t.source}; ${notes.join(', ')}` } : t, t.name);
}
