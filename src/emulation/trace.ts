/**
 * Capacity traces in the simplest form: one `time_s capacity_kbit` pair per line (`#`
 * comments), capacity holding from its time until the next line's. Used to replay a
 * link with tc (ShapedLink.setRate) and by the `oracle` rate controller. The full
 * canonical trace format, importers and transforms are issue 5.
 */
import { readFileSync } from 'node:fs';

export interface TraceStep {
  timeS: number;
  kbit: number;
}

export class TraceError extends Error {
  override name = 'UsageError';
}

export function parseTrace(text: string, name = 'trace'): TraceStep[] {
  const steps: TraceStep[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const parts = line.split(/[\s,]+/);
    const t = Number(parts[0]);
    const k = Number(parts[1]);
    if (parts.length !== 2 || !Number.isFinite(t) || !Number.isFinite(k) || t < 0 || k < 0) {
      throw new TraceError(`${name} line ${i + 1}: expected 'time_s capacity_kbit', got '${raw.trim()}'`);
    }
    if (steps.length && t <= steps[steps.length - 1].timeS) {
      throw new TraceError(`${name} line ${i + 1}: times must increase (${t} after ${steps[steps.length - 1].timeS})`);
    }
    steps.push({ timeS: t, kbit: k });
  });
  if (steps.length === 0) throw new TraceError(`${name}: no capacity steps`);
  if (steps[0].timeS !== 0) throw new TraceError(`${name}: the first step must be at time 0`);
  return steps;
}

export function loadTrace(path: string): TraceStep[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TraceError(`cannot read trace ${path} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parseTrace(text, path);
}

/** Capacity (kbit/s) in force at `tS` seconds into the trace (the last step holds). */
export function capacityAt(trace: TraceStep[], tS: number): number {
  let k = trace[0].kbit;
  for (const s of trace) {
    if (s.timeS > tS) break;
    k = s.kbit;
  }
  return k;
}
