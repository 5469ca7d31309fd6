/**
 * Mahimahi link traces (mm-link): one integer millisecond timestamp per line, each a
 * delivery opportunity for one 1500-byte packet; several packets in one ms repeat the
 * timestamp. The file loops with period = the last timestamp, so every line is one
 * opportunity per period (a line at exactly the period is the next pass's time 0).
 *
 * Capacity per bin = opportunities × 1500 × 8 bit / bin length. Default bin 200 ms: one
 * packet per bin is then 60 kbit/s, 1–3 % of the rates these traces carry before they
 * are scaled (2–20 Mbit/s), the quantum scales along with the trace, and five tc changes
 * a second are cheap to replay; 1000 ms would hide the sub-second swings a video
 * call's I-frame sees, 100 ms makes the one-packet quantum 120 kbit/s. A first
 * timestamp late in the file is an outage at the start (that is what mm-link replays).
 */
import { TraceError } from '../errors';
import { linkState } from '../format';
import { MAX_TRACE_S } from '../limits';
import { roundTo } from '../numbers';
import { mergeRuns } from '../transforms';
import { segments } from '../stats';
import type { Trace, TraceSample } from '../types';
import { fileLabel, lineError, numberedLines, type ImportMeta, type ImportResult } from './common';

export const MAHIMAHI_PACKET_BYTES = 1500;
export const MAHIMAHI_DEFAULT_BIN_MS = 200;

export function importMahimahi(text: string, file: string, meta: ImportMeta, binMs = MAHIMAHI_DEFAULT_BIN_MS): ImportResult {
  if (!Number.isInteger(binMs) || binMs < 1) throw new TraceError(`--bin-ms must be a whole number of ms >= 1, got ${binMs}`);
  const stamps: number[] = [];
  for (const l of numberedLines(text)) {
    if (!/^\d+$/.test(l.text)) throw lineError(file, l.line, `expected one integer millisecond timestamp, got '${l.text}'`);
    const t = Number(l.text);
    const prev = stamps[stamps.length - 1];
    if (prev !== undefined && t < prev) throw lineError(file, l.line, `timestamps must not decrease (${t} after ${prev})`);
    stamps.push(t);
  }
  if (stamps.length === 0) throw new TraceError(`${file} line 1: no timestamps (empty file)`);
  const periodMs = stamps[stamps.length - 1];
  if (periodMs === 0) throw new TraceError(`${file}: the last timestamp is the loop period and must be > 0 ms`);
  // Checked before the bins are made: one per binMs of the period.
  if (periodMs > MAX_TRACE_S * 1000) throw new TraceError(`${file}: the last timestamp ${periodMs} ms (the loop period) is longer than a week`);

  // Bins that hold opportunities, in order; the empty ones between them are one outage
  // sample each (mergeRuns would fold a run of zeros anyway), so the work follows the
  // file's size, not its period (a 4-byte file may span a week).
  const counts = new Map<number, number>();
  for (const t of stamps) {
    const b = t === periodMs ? 0 : Math.floor(t / binMs);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const bins = Math.ceil(periodMs / binMs);
  const kbitOf = (b: number, n: number) => roundTo((n * MAHIMAHI_PACKET_BYTES * 8) / Math.min(binMs, periodMs - b * binMs), 3); // bit per ms = kbit/s
  const samples: TraceSample[] = [];
  const at = (b: number, kbit: number) => samples.push({ timeS: (b * binMs) / 1000, up: linkState(kbit), down: linkState(kbit) });
  let next = 0;
  for (const b of [...counts.keys()].sort((x, y) => x - y)) {
    if (b > next) at(next, 0);
    at(b, kbitOf(b, counts.get(b)!));
    next = b + 1;
  }
  if (next < bins) at(next, 0);

  const warnings: string[] = [];
  if (stamps[0] >= 1000) warnings.push(`${file}: the first delivery opportunity is at ${stamps[0]} ms: the trace starts with an outage (as mm-link replays it)`);
  if (periodMs % binMs !== 0) warnings.push(`${file}: the period ${periodMs} ms is not a multiple of ${binMs} ms: the last bin is ${periodMs % binMs} ms long`);
  const meanKbit = (stamps.length * MAHIMAHI_PACKET_BYTES * 8) / periodMs;
  const trace = mergeRuns({
    name: meta.name,
    family: meta.family,
    source: `mahimahi ${fileLabel(file)}: ${stamps.length} delivery opportunities of ${MAHIMAHI_PACKET_BYTES} B in ${periodMs} ms (mean ${meanKbit.toFixed(0)} kbit/s), ${binMs} ms bins`,
    durationS: periodMs / 1000,
    loop: true,
    samples,
  });
  return { trace, warnings };
}

/**
 * The reverse: one pass of the trace's `direction` as an mm-link file, so a canonical
 * trace replays in mahimahi too. A 1500-byte delivery opportunity is written in the ms
 * during which the capacity integrated since time 0 completes another packet (a packet
 * completed at exactly 10.0 ms is written at 9: the ms [9, 10) carried its last bit),
 * the capacity spread evenly within each sample — the convention the importer reads
 * back (a line at t counts for the ms from t). mm-link takes the last line as the loop
 * period, so the file ends with a line at exactly the trace's duration; that line is an
 * opportunity too (the next pass's first), one packet per period more than the trace
 * holds, which the returned note states with its share.
 */
export function exportMahimahi(t: Trace, direction: 'up' | 'down' = 'up'): { text: string; note: string } {
  const periodMs = Math.round(t.durationS * 1000);
  if (periodMs < 1) throw new TraceError(`${t.name}: a mahimahi trace needs a period of at least 1 ms`);
  const bitsPerPacket = MAHIMAHI_PACKET_BYTES * 8;
  const out: number[] = [];
  let bits = 0; // capacity integrated since time 0, bit
  let next = bitsPerPacket;
  for (const g of segments(t)) {
    const rate = g.sample[direction].kbit; // bit per ms
    const fromMs = g.fromS * 1000;
    const toMs = Math.min(g.toS * 1000, periodMs);
    if (rate > 0) {
      while (bits + rate * (toMs - fromMs) >= next) {
        out.push(Math.ceil(fromMs + (next - bits) / rate) - 1);
        next += bitsPerPacket;
      }
    }
    bits += rate * (toMs - fromMs);
  }
  out.push(periodMs);
  const note =
    `${out.length} delivery opportunities of ${MAHIMAHI_PACKET_BYTES} B in ${periodMs} ms, ` +
    `the last marking the loop period (1 more than the trace's capacity: ${(100 / out.length).toFixed(2)} %)`;
  return { text: out.join('\n') + '\n', note };
}
