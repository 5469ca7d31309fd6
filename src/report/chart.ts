/** What every chart shares: its identity in a dashboard and the common look. */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import { FONT } from './palette';

export type { TopLevelSpec };

export interface Chart {
  /** File name (charts/<id>.svg) and HTML element id (chart-<id>). */
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** Plot area width of full-width charts, px (axes and legends come on top). */
export const WIDTH = 760;

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Shared look: white background (PNG and SVG stand alone), one font, readable sizes. */
export const CONFIG = {
  background: 'white',
  font: FONT,
  padding: 8,
  title: { fontSize: 14, anchor: 'start' as const, subtitleFontSize: 11, subtitleColor: '#555555' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: '#cccccc' },
};

export const TIME_TITLE = 'time since first capture (s)';
