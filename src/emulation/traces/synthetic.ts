/** Hand-made traces: a constant link, and capacity steps (for controller benchmarks). */
import { TraceError } from './errors';
import { linkState } from './format';
import { parseNumber, roundTo } from './numbers';
import type { Trace } from './types';

/** One capacity held for the whole duration (loops by default: a fixed link has no end). */
export function constantTrace(name: string, kbit: number, durationS: number, loop = true): Trace {
  if (!(kbit >= 0) || !(durationS > 0)) throw new TraceError(`constant trace: need kbit >= 0 and duration > 0, got ${kbit} kbit/s for ${durationS} s`);
  return {
    name,
    family: 'fixed',
    source: `constant ${kbit} kbit/s`,
    durationS,
    loop,
    samples: [{ timeS: 0, up: linkState(kbit), down: linkState(kbit) }],
  };
}

export interface Step {
  kbit: number;
  seconds: number;
}

/** `KBIT:SECONDS,KBIT:SECONDS,...` (e.g. `2500:20,1000:20,2500:20`). */
export function parseSteps(spec: string): Step[] {
  const steps = spec.split(',').map((part, i) => {
    const [k, s, ...rest] = part.split(':');
    const kbit = parseNumber(k ?? '');
    const seconds = parseNumber(s ?? '');
    if (rest.length || kbit === null || seconds === null || kbit < 0 || seconds <= 0) {
      throw new TraceError(`--steps: step ${i + 1} '${part}' must be KBIT:SECONDS with KBIT >= 0 and SECONDS > 0`);
    }
    return { kbit, seconds };
  });
  return steps;
}

/** Each step's capacity for its seconds, in order; does not loop by default (a benchmark runs it once). */
export function stepTrace(name: string, steps: Step[], loop = false): Trace {
  if (steps.length === 0) throw new TraceError('step trace: no steps');
  let t = 0;
  const samples = steps.map((s) => {
    const sample = { timeS: roundTo(t, 6), up: linkState(s.kbit), down: linkState(s.kbit) };
    t += s.seconds;
    return sample;
  });
  return {
    name,
    family: 'step',
    source: `steps ${steps.map((s) => `${s.kbit} kbit/s for ${s.seconds} s`).join(', then ')}`,
    durationS: roundTo(t, 6),
    loop,
    samples,
  };
}
