/**
 * Fixed colours, passed to every chart as explicit scale domain/range so an arm or a
 * stream has the same colour in every chart and every dashboard of an experiment.
 */

export interface ColourScale {
  domain: string[];
  range: string[];
}

/** Okabe–Ito (colour-blind safe), black last; cycled beyond eight arms. */
const ARM_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** Arms sorted by name, so adding a cell never recolours the others. */
export function armScale(arms: Iterable<string>): ColourScale {
  const domain = [...new Set(arms)].sort();
  return { domain, range: domain.map((_, i) => ARM_COLOURS[i % ARM_COLOURS.length]) };
}

/** Streams: colours outside the arm palette, so a stream is never mistaken for an arm. */
export const STREAM_SCALE: ColourScale = { domain: ['primary', 'backup'], range: ['#332288', '#EE3377'] };

/** Backup episodes: the backup stream's colour, faint. */
export const EPISODE_COLOUR = '#EE3377';
export const FREEZE_COLOUR = '#D62728';

/** Latency components in path order (labels as componentLabel() makes them). */
export const COMPONENT_SCALE: ColourScale = {
  domain: ['encode', 'pacer', 'network', 'jitter', 'decode', 'render wait'],
  range: ['#4E79A7', '#F28E2B', '#59A14F', '#E15759', '#76B7B2', '#B07AA1'],
};

export const RATE_SCALE: ColourScale = {
  domain: ['target', 'sent', 'received', 'capacity', 'link throughput'],
  range: ['#4E79A7', '#F28E2B', '#59A14F', '#000000', '#9C755F'],
};

/** The jitter buffer's delays (VCMTiming): estimate, the playout delay applied, and its target. */
export const DELAY_SCALE: ColourScale = {
  domain: ['jitter estimate', 'current delay', 'target delay'],
  range: ['#E15759', '#4E79A7', '#000000'],
};

export const PICTURE_SHAPES = { domain: ['I', 'P'], range: ['triangle-up', 'circle'] };

/** One font for the browser and the headless renderer (resvg loads DejaVu explicitly). */
export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
