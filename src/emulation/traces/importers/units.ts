/**
 * Rate units of imported logs, per second. A csv or text log does not say its unit; the
 * user must (--unit): a fuzz-like trial read a Mbit/s column as kbit/s and got a 423 kbit/s
 * "trace" without a word. The mean check below catches what is still implausible.
 */
export const RATE_UNITS = ['bit', 'kbit', 'Mbit', 'Gbit', 'byte', 'kbyte', 'Mbyte'] as const;
export type RateUnit = (typeof RATE_UNITS)[number];

/** kbit/s per one of the unit (1 kbit = 1000 bit, 1 kbyte = 1000 byte). */
const KBIT_PER: Record<RateUnit, number> = { bit: 1e-3, kbit: 1, Mbit: 1e3, Gbit: 1e6, byte: 8e-3, kbyte: 8, Mbyte: 8e3 };

export function isRateUnit(u: string): u is RateUnit {
  return (RATE_UNITS as readonly string[]).includes(u);
}

export function toKbit(value: number, unit: RateUnit): number {
  return value * KBIT_PER[unit];
}

/** Means outside this range (kbit/s) are almost surely a unit mistake: one warning line. */
export const PLAUSIBLE_MEAN_KBIT = [10, 1e7] as const;
