/**
 * The charts of one run (a cell directory): data rows in, vega-lite spec out. Data sets
 * travel in the spec's top-level `datasets`, so one array shared by several layers (or
 * charts) is written once into a dashboard.
 */
import type { Chart, TopLevelSpec } from './chart';
import { CONFIG, SCHEMA, TIME_TITLE, WIDTH } from './chart';
import { FREEZE_MS } from '../metrics/summary';
import { COMPONENT_SCALE, DELAY_SCALE, EPISODE_COLOUR, FREEZE_COLOUR, PICTURE_SHAPES, RATE_SCALE, STREAM_SCALE } from './palette';
import type { ComponentPoint, DelayPoint, Episode, FpsBin, Freeze, PicturePoint, RatePoint, RttLossPoint } from './transforms';

/** One time axis for every chart of a run (0 … its last moment), so charts line up when stacked. */
const timeAxis = (spanS: number) => ({ field: 't_s', type: 'quantitative' as const, title: TIME_TITLE, scale: { domain: [0, spanS], nice: false } });

/** The subtitle line that says what the shaded bands are, when there are any. */
const episodeNote = (episodes: Episode[]) => (episodes.length ? ['shaded: dual-stream backup episodes (sender state BACKUP)'] : []);

/** Shaded backup episodes spanning the plot height (a rect with x/x2 and no y), from the `episodes` dataset. */
const episodeBands = {
  data: { name: 'episodes' },
  mark: { type: 'rect' as const, color: EPISODE_COLOUR, opacity: 0.15 },
  encoding: {
    x: { field: 'start_s', type: 'quantitative' as const },
    x2: { field: 'end_s' },
    tooltip: [
      { field: 'frame_id', title: 'backup episode of I-frame' },
      { field: 'start_s', title: 'start (s)', format: '.3f' },
      { field: 'end_s', title: 'end (s)', format: '.3f' },
      { field: 'end_cause', title: 'ended by' },
    ],
  },
};

export function latencyChart(pictures: PicturePoint[], episodes: Episode[], spanS: number): Chart {
  const title = 'End-to-end latency per picture';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: title,
      subtitle: [
        'capture → render of each rendered picture; triangles: I-pictures; colour: the stream it was rendered from',
        ...episodeNote(episodes),
      ],
    },
    width: WIDTH,
    height: 260,
    datasets: { pictures, episodes },
    layer: [
      episodeBands,
      {
        data: { name: 'pictures' },
        mark: { type: 'point', filled: true, opacity: 0.85 },
        encoding: {
          x: timeAxis(spanS),
          y: { field: 'e2e_ms', type: 'quantitative', title: 'end-to-end latency (ms)' },
          color: { field: 'rendered_from', type: 'nominal', title: 'rendered from', scale: STREAM_SCALE },
          shape: { field: 'picture', type: 'nominal', title: 'picture', scale: PICTURE_SHAPES },
          size: { condition: { test: "datum.picture === 'I'", value: 90 }, value: 22 },
          tooltip: [
            { field: 'frame_id', title: 'frame' },
            { field: 'picture', title: 'picture type' },
            { field: 'rendered_from', title: 'rendered from' },
            { field: 'e2e_ms', title: 'e2e (ms)', format: '.1f' },
            { field: 't_s', title: 'capture (s)', format: '.3f' },
          ],
        },
      },
    ],
  };
  return { id: 'latency', title, spec };
}

export function componentsChart(points: ComponentPoint[], spanS: number): Chart {
  const title = 'Latency components per picture';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'stacked in path order; their sum is the end-to-end latency of the rendered version' },
    width: WIDTH,
    height: 240,
    datasets: { components: points },
    data: { name: 'components' },
    mark: { type: 'area', interpolate: 'step-after' },
    encoding: {
      x: timeAxis(spanS),
      y: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'latency (ms)' },
      color: { field: 'component', type: 'nominal', title: 'component', scale: COMPONENT_SCALE, sort: COMPONENT_SCALE.domain },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [
        { field: 'frame_id', title: 'frame' },
        { field: 'component' },
        { field: 'ms', title: 'ms', format: '.2f' },
      ],
    },
  };
  return { id: 'components', title, spec };
}

export function componentDistributionChart(points: ComponentPoint[]): Chart {
  const title = 'Distribution of each latency component';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'rendered pictures; box: quartiles, whiskers: 1.5 × IQR, points: beyond' },
    width: WIDTH,
    height: 220,
    datasets: { components: points },
    data: { name: 'components' },
    mark: { type: 'boxplot', extent: 1.5, size: 40 },
    encoding: {
      x: { field: 'component', type: 'nominal', title: 'component', sort: COMPONENT_SCALE.domain, axis: { labelAngle: 0 } },
      y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
      color: { field: 'component', type: 'nominal', scale: COMPONENT_SCALE, legend: null },
    },
  };
  return { id: 'components-distribution', title, spec };
}

/** The jitter buffer's estimate, current and target delay over the run, backup episodes shaded. */
export function playoutDelayChart(points: DelayPoint[], episodes: Episode[], spanS: number): Chart {
  const title = 'Jitter buffer: estimate, current and target playout delay';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: title,
      subtitle: [
        'per rendered picture, when it was scheduled for decoding (VCMTiming); a delay that rises after a burst and stays up costs every later picture',
        ...episodeNote(episodes),
      ],
    },
    width: WIDTH,
    height: 200,
    datasets: { delays: points, episodes },
    layer: [
      episodeBands,
      {
        data: { name: 'delays' },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.4 },
        encoding: {
          x: timeAxis(spanS),
          y: { field: 'ms', type: 'quantitative', title: 'delay (ms)' },
          color: { field: 'series', type: 'nominal', title: 'series', scale: DELAY_SCALE, sort: DELAY_SCALE.domain },
          tooltip: [
            { field: 'series' },
            { field: 'frame_id', title: 'frame' },
            { field: 'ms', title: 'ms', format: '.1f' },
            { field: 't_s', title: 'capture (s)', format: '.3f' },
          ],
        },
      },
    ],
  };
  return { id: 'playout-delay', title, spec };
}

export function rateChart(points: RatePoint[], spanS: number): Chart {
  const title = 'Bitrate: controller target, sent, received, link capacity';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'network.csv (all streams, as IP packets: RTP + SRTP tag + UDP/IP) and link.csv (media direction)' },
    width: WIDTH,
    height: 220,
    datasets: { rates: points },
    data: { name: 'rates' },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
    encoding: {
      x: timeAxis(spanS),
      y: { field: 'kbps', type: 'quantitative', title: 'rate (kbit/s)' },
      color: { field: 'series', type: 'nominal', title: 'series', scale: RATE_SCALE, sort: RATE_SCALE.domain },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        scale: { domain: RATE_SCALE.domain, range: [[1, 0], [1, 0], [1, 0], [6, 3], [2, 2]] },
      },
      tooltip: [
        { field: 'series' },
        { field: 'kbps', title: 'kbit/s', format: '.0f' },
        { field: 't_s', title: 'time (s)', format: '.1f' },
      ],
    },
  };
  return { id: 'bitrate', title, spec };
}

export function rttLossChart(points: RttLossPoint[], spanS: number): Chart {
  const title = 'Round-trip time and loss';
  // A loss-free run would otherwise get a zero-height axis.
  const lossMax = Math.max(1, ...points.map((p) => p.loss_pct ?? 0));
  const panel = (field: 'rtt_ms' | 'loss_pct', label: string, colour: string, domainMax?: number) => ({
    width: WIDTH,
    height: 110,
    mark: { type: 'line' as const, interpolate: 'step-after' as const, color: colour, point: { size: 10, color: colour } },
    transform: [{ filter: `datum.${field} !== null` }],
    encoding: {
      x: timeAxis(spanS),
      y: { field, type: 'quantitative' as const, title: label, scale: domainMax === undefined ? { zero: true } : { domain: [0, domainMax] } },
      tooltip: [
        { field, title: label, format: '.2f' },
        { field: 't_s', title: 'time (s)', format: '.1f' },
      ],
    },
  });
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'from RTCP receiver reports (network.csv)' },
    datasets: { rttloss: points },
    data: { name: 'rttloss' },
    resolve: { scale: { x: 'shared' } },
    vconcat: [panel('rtt_ms', 'RTT (ms)', '#4E79A7'), panel('loss_pct', 'loss (%)', '#E15759', lossMax)],
  };
  return { id: 'rtt-loss', title, spec };
}

export function fpsChart(bins: FpsBin[], stalls: Freeze[], spanS: number): Chart {
  const title = 'Rendered frames per second and freezes';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: title,
      subtitle: ['pictures rendered in each full second from the first render', `red: freezes (> ${FREEZE_MS} ms without a new picture), ${stalls.length} in this run`],
    },
    width: WIDTH,
    height: 180,
    datasets: { fps: bins, freezes: stalls },
    layer: [
      {
        data: { name: 'fps' },
        mark: { type: 'rect', color: '#4E79A7', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'start_s', type: 'quantitative', title: 'render time since first capture (s)', scale: { domain: [0, spanS], nice: false } },
          x2: { field: 'end_s' },
          y: { field: 'fps', type: 'quantitative', title: 'rendered pictures / s' },
          tooltip: [
            { field: 'start_s', title: 'second' },
            { field: 'fps', title: 'fps' },
          ],
        },
      },
      {
        data: { name: 'freezes' },
        mark: { type: 'rect', color: FREEZE_COLOUR, opacity: 0.35 },
        encoding: {
          x: { field: 'start_s', type: 'quantitative' },
          x2: { field: 'end_s' },
          tooltip: [
            { field: 'gap_ms', title: 'freeze (ms)', format: '.0f' },
            { field: 'start_s', title: 'from (s)', format: '.3f' },
          ],
        },
      },
    ],
  };
  return { id: 'fps', title, spec };
}

export interface PsnrPoint {
  frame_id: number;
  t_s: number;
  psnr_db: number;
  psnr_y_db: number;
}

/** PSNR of each rendered picture against the source picture it stood for, over render time. */
export function psnrChart(points: PsnrPoint[], spanS: number): Chart {
  const title = 'PSNR per rendered picture';
  const series = (field: 'psnr_db' | 'psnr_y_db', label: string) => ({
    mark: { type: 'line' as const, strokeWidth: 1 },
    transform: [{ calculate: `'${label}'`, as: 'series' }],
    encoding: {
      x: { field: 't_s', type: 'quantitative' as const, title: 'render time since first capture (s)', scale: { domain: [0, spanS], nice: false } },
      y: { field, type: 'quantitative' as const, title: 'PSNR (dB)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal' as const, title: 'plane', scale: { domain: ['Y, U, V (4:1:1)', 'Y only'], range: ['#4E79A7', '#F28E2B'] } },
      tooltip: [
        { field: 'frame_id', title: 'frame' },
        { field, title: `${label} (dB)`, format: '.2f' },
        { field: 't_s', title: 'render time (s)', format: '.2f' },
      ],
    },
  });
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'the recording against the source picture each rendered picture stood for (quality.csv); capped at 100 dB' },
    width: WIDTH,
    height: 180,
    datasets: { psnr: points },
    data: { name: 'psnr' },
    layer: [series('psnr_db', 'Y, U, V (4:1:1)'), series('psnr_y_db', 'Y only')],
  };
  return { id: 'psnr', title, spec };
}
