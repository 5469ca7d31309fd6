/**
 * Signs that the testbed's own CPU did not keep up — never silent, because a picture lost
 * to the sender's CPU shows up as latency and freezes exactly as one lost to the network
 * would, and confounds every comparison of arms:
 *   late_captures       the source released a picture more than half a frame interval after
 *                       its time (decoding the clip fell behind, or the event loop was held);
 *   encoder_busy_drops  a picture never encoded because the encoders were still busy with
 *                       the previous one and a newer picture replaced it;
 *   decoder_backlog     a picture complete before its render time whose decode started
 *                       after it, straight after the previous decode on its stream ended
 *                       (it waited on the decoder, not on the network).
 * The peers write them in their run metadata; experiments copy them into meta.json and
 * summary.csv; a run where any occurred ends with one warning line.
 */

export const STARVATION_COUNTERS = ['late_captures', 'encoder_busy_drops', 'decoder_backlog'] as const;
export type StarvationCounter = (typeof STARVATION_COUNTERS)[number];
export type Starvation = Record<StarvationCounter, number>;

const WHAT: Record<StarvationCounter, string> = {
  late_captures: 'late captures',
  encoder_busy_drops: 'pictures dropped with the encoder busy',
  decoder_backlog: 'decodes behind their render time',
};

/** The starvation counters found in a peer's counters (absent ones omitted). */
export function starvationOf(counters: Record<string, number> | undefined): Partial<Starvation> {
  const out: Partial<Starvation> = {};
  for (const k of STARVATION_COUNTERS) if (counters && typeof counters[k] === 'number') out[k] = counters[k];
  return out;
}

/** One line saying what starved, or null when nothing did. */
export function starvationWarning(s: Partial<Starvation>): string | null {
  const parts = STARVATION_COUNTERS.filter((k) => (s[k] ?? 0) > 0).map((k) => `${s[k]} ${WHAT[k]}`);
  return parts.length ? `CPU starved: ${parts.join(', ')} (the testbed's own CPU, not the network: these pictures' latency is not the link's)` : null;
}
