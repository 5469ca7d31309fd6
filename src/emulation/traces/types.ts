/**
 * The canonical trace, in memory: what a bandwidth trace says about the link at each
 * moment, per direction. `up` is the media direction (offer → answer, namespace a → b),
 * `down` the feedback direction (answer → offer, b → a). A sample holds from its time
 * until the next sample's; after the last sample it holds until `durationS`, then the
 * trace ends or, with `loop`, starts again at time 0.
 *
 * The file format, its parser and writer, the importers and transforms live beside this
 * file (see traces/README.md); everything else in the testbed uses only these types.
 */

/** What one direction of the link is at one moment. */
export interface LinkState {
  /** Capacity, kbit/s (1 kbit = 1000 bit), counting IP bytes. 0 = outage (nothing passes). */
  kbit: number;
  /** One-way base delay added to this direction, ms (needs netem); absent = none. */
  delayMs?: number;
  /** Random loss of this direction, percent 0–100 (needs netem); absent = none. */
  lossPct?: number;
}

export interface TraceSample {
  /** Seconds from the trace's start, increasing; the first sample is at 0. */
  timeS: number;
  up: LinkState;
  down: LinkState;
}

export interface Trace {
  /** Short name (the file's base name without extension for bundled traces). */
  name: string;
  /** Family for grouping results: 'wifi' | '4g' | '5g' | 'fixed' | 'step' | other. */
  family: string;
  /** Where the trace comes from (data set, model and parameters, or 'hand-written'). */
  source: string;
  /** Length of one pass, s (> the last sample's time). */
  durationS: number;
  /** Replay from time 0 again after `durationS`. */
  loop: boolean;
  samples: TraceSample[];
}
