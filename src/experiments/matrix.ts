/**
 * The cells of an experiment: arms × clips × traces × repetitions, in a stable order with
 * stable ids, each with its own seed.
 *
 * Order: repetition outermost, then trace, then clip, then arm. A run cut short (or a Slurm array
 * half done) then holds every arm on the same traces, and slow drifts of the machine
 * (other load, thermal state) fall on all arms alike instead of on the last arm.
 *
 * Seeds: seed = FNV-1a 32-bit of "<spec seed>/<trace label>/<repetition>". Arms of the
 * same trace and repetition share it on purpose (common random numbers): whatever is
 * random in a run is then the same for every arm, so arms differ only by what they are.
 * The clip is not part of the seed either: every scene meets the same trace slice.
 */
import { createHash } from 'node:crypto';
import type { ClipRef } from '../media/scenes';
import { SEED_PLACEHOLDER, type ArmSpec, type ExperimentSpec, type TraceEntry } from './spec';

export interface Cell {
  /** Position in the stable order (what `--cell N` and a Slurm array task select). */
  index: number;
  /** `<arm>__<clip label>__<trace label>__r<k>` (`<arm>__<trace label>__r<k>` for a spec with one `clip`): the cell's directory name. */
  id: string;
  arm: ArmSpec;
  clip: ClipRef;
  trace: TraceEntry;
  /** 0-based. */
  repetition: number;
  seed: number;
}

/** `clipLabel` null: ids without the clip (specs with one `clip`, as before clips were a dimension). */
export function cellId(arm: string, clipLabel: string | null, traceLabel: string, repetition: number): string {
  return clipLabel === null ? `${arm}__${traceLabel}__r${repetition}` : `${arm}__${clipLabel}__${traceLabel}__r${repetition}`;
}

/** FNV-1a, 32 bit: tiny, stable across platforms and versions, good enough to spread seeds. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function deriveSeed(specSeed: number, traceLabel: string, repetition: number): number {
  return fnv1a32(`${specSeed}/${traceLabel}/${repetition}`);
}

export function expandMatrix(spec: Pick<ExperimentSpec, 'arms' | 'clips' | 'clipInCellId' | 'traces' | 'repetitions' | 'seed'>): Cell[] {
  const cells: Cell[] = [];
  for (let repetition = 0; repetition < spec.repetitions; repetition++) {
    for (const trace of spec.traces) {
      for (const clip of spec.clips) {
        for (const arm of spec.arms) {
          cells.push({
            index: cells.length,
            id: cellId(arm.name, spec.clipInCellId ? clip.label : null, trace.label, repetition),
            arm,
            clip,
            trace,
            repetition,
            seed: deriveSeed(spec.seed, trace.label, repetition),
          });
        }
      }
    }
  }
  return cells;
}

/**
 * What a cell's results depend on, hashed: a finished cell whose fingerprint differs
 * from the spec's was run under another definition and is run again, not kept.
 */
export function cellFingerprint(spec: ExperimentSpec, cell: Cell): string {
  const what = {
    offer: cell.arm.offer,
    answer: cell.arm.answer,
    trace: cell.trace,
    seed: cell.seed,
    clip: cell.clip.file,
    duration_s: spec.durationS,
    warmup_s: spec.warmupS,
    link: cell.trace.kind === 'none' ? null : spec.link,
    psnr: spec.psnr,
  };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

/** Arm arguments with `{seed}` replaced by the cell's seed. */
export function withSeed(args: string[], seed: number): string[] {
  return args.map((a) => a.split(SEED_PLACEHOLDER).join(String(seed)));
}
