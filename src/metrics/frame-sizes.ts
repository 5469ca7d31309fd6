/**
 * The I/P size ratio, the quantity the dual stream exists for (DESIGN.md §1): how much
 * bigger an I-frame is than the P-frames around it. Used on the encoder's output when a
 * clip is analysed and on a run's primary stream in its summary, so both say the same.
 *
 * Ratio = mean size of the I-frames / mean size of the P-frames immediately before and
 * after each of them (its neighbours: what the same picture content costs as a P-frame).
 * The first I-frame is left out: the encoder's rate control has no history there, and an
 * I-frame forced by a loss (PLI) is kept — it is what the link had to carry.
 */
import { meanOrNaN as mean } from './summary';

export interface SizedFrame {
  type: 'I' | 'P' | '';
  bytes: number;
}

export interface IpSizes {
  iFrames: number;
  pFrames: number;
  iMeanBytes: number;
  pMeanBytes: number;
  /** Mean size of the P-frames next to the counted I-frames. */
  neighbourPMeanBytes: number;
  /** iMeanBytes / neighbourPMeanBytes; NaN when no I-frame after the first has a P neighbour. */
  ratio: number;
}

/** `frames` in coding order, one stream. */
export function ipSizes(frames: readonly SizedFrame[]): IpSizes {
  const iSizes: number[] = [];
  const neighbours: number[] = [];
  const pSizes = frames.filter((f) => f.type === 'P').map((f) => f.bytes);
  const firstI = frames.findIndex((f) => f.type === 'I');
  frames.forEach((f, i) => {
    if (f.type !== 'I' || i === firstI) return;
    const around = [frames[i - 1], frames[i + 1]].filter((n): n is SizedFrame => n !== undefined && n.type === 'P');
    if (around.length === 0) return;
    iSizes.push(f.bytes);
    for (const n of around) neighbours.push(n.bytes);
  });
  const iMean = mean(iSizes);
  const nMean = mean(neighbours);
  return {
    iFrames: iSizes.length,
    pFrames: pSizes.length,
    iMeanBytes: iMean,
    pMeanBytes: mean(pSizes),
    neighbourPMeanBytes: nMean,
    ratio: iMean / nMean,
  };
}
