/**
 * The trace a cell replays: the spec's trace with its transforms, fitted to the run.
 *
 * Order: offset (pick where to start) → fit to the run's length (a looping trace is
 * repeated, a longer one cut; a shorter non-looping one keeps its last sample, as its
 * replay would) → scale to the mean (over what is actually played, so the run sees the
 * asked-for mean) → clip → whole kbit/s (tc's unit; a positive capacity never rounds to an
 * outage) → merge equal neighbours (fewer tc changes). The result is written into the
 * cell as `trace.trace`, and is exactly what the link and the oracle replay.
 */
import { loadTrace } from '../emulation/traces/files';
import { clip, cut, mergeRuns, offset, repeatTo, scaleToMean } from '../emulation/traces/transforms';
import type { LinkState, Trace } from '../emulation/traces/types';
import { UsageError } from '../errors';
import type { TraceEntry, TraceTransforms } from './spec';

export function prepareTrace(entry: Extract<TraceEntry, { kind: 'trace' }>, runS: number, specFile: string, index: number): Trace {
  try {
    return transformTrace(loadTrace(entry.trace), entry.transforms, runS);
  } catch (e) {
    throw new UsageError(`${specFile}: traces[${index}]: ${(e as Error).message}`);
  }
}

export function transformTrace(original: Trace, tf: TraceTransforms, runS: number): Trace {
  let t = original;
  const steps: string[] = [];
  if (tf.offsetS !== undefined) {
    t = offset(t, tf.offsetS);
    steps.push(`offset ${tf.offsetS} s`);
  }
  if (t.loop) {
    t = repeatTo(t, runS);
    steps.push(`repeated to ${runS} s`);
  } else if (t.durationS > runS) {
    t = cut(t, runS);
    steps.push(`cut to ${runS} s`);
  }
  if (tf.scaleMeanKbit !== undefined) {
    t = scaleToMean(t, tf.scaleMeanKbit);
    steps.push(`scaled to a mean of ${tf.scaleMeanKbit} kbit/s`);
  }
  if (tf.clipKbit) {
    t = clip(t, tf.clipKbit[0], tf.clipKbit[1]);
    steps.push(`clipped to [${tf.clipKbit[0]}, ${tf.clipKbit[1]}] kbit/s`);
  }
  const whole = (s: LinkState): LinkState => ({ ...s, kbit: s.kbit === 0 ? 0 : Math.max(1, Math.round(s.kbit)) });
  t = mergeRuns({ ...t, samples: t.samples.map((s) => ({ timeS: s.timeS, up: whole(s.up), down: whole(s.down) })) });
  return {
    ...t,
    // What was replayed is this file alone; after its end its last sample holds.
    loop: false,
    source: `${original.source} | ${original.name}${steps.length ? ': ' + steps.join(', ') : ''}`,
  };
}

/** What a trace asks of the kernel beyond capacity (netem: delay, loss). */
export function traceNeeds(t: Trace): { delay: boolean; loss: boolean } {
  const dirs = t.samples.flatMap((s) => [s.up, s.down]);
  return {
    delay: dirs.some((d) => d.delayMs !== undefined && d.delayMs > 0),
    loss: dirs.some((d) => d.lossPct !== undefined && d.lossPct > 0),
  };
}
