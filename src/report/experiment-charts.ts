/**
 * The charts of an experiment: arms compared across traces. Every chart colours by arm
 * with one explicit scale (armScale), so an arm keeps its colour across charts.
 */
import type { Chart, TopLevelSpec } from './chart';
import { CONFIG, SCHEMA } from './chart';
import type { ExperimentRecord } from './load';
import type { ColourScale } from './palette';
import { ecdf } from './transforms';

export interface ArmCdfPoint {
  arm: string;
  trace_family: string;
  e2e_ms: number;
  p: number;
}

/** The e2e ECDF of each arm × trace family, pooling the rendered pictures of its cells. */
export function armCdfPoints(cells: { arm: string; traceFamily: string; e2e: number[] }[], maxPoints = 400): ArmCdfPoint[] {
  const pooled = new Map<string, { arm: string; family: string; values: number[] }>();
  for (const c of cells) {
    const key = JSON.stringify([c.arm, c.traceFamily]);
    const g = pooled.get(key) ?? { arm: c.arm, family: c.traceFamily, values: [] };
    for (const v of c.e2e) g.values.push(v);
    pooled.set(key, g);
  }
  const out: ArmCdfPoint[] = [];
  for (const g of pooled.values()) for (const pt of ecdf(g.values, maxPoints)) out.push({ arm: g.arm, trace_family: g.family, e2e_ms: pt.value, p: pt.p });
  return out;
}

const armColour = (arms: ColourScale) => ({ field: 'arm', type: 'nominal' as const, title: 'arm', scale: arms });
const armAxis = { field: 'arm', type: 'nominal' as const, title: 'arm', axis: { labelAngle: 0 } };

export function cdfChart(points: ArmCdfPoint[], arms: ColourScale): Chart {
  const title = 'End-to-end latency distribution per arm (CDF)';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'rendered pictures of all cells of an arm, pooled per trace family' },
    datasets: { cdf: points },
    data: { name: 'cdf' },
    facet: { column: { field: 'trace_family', type: 'nominal', title: 'trace family' } },
    spec: {
      width: 340,
      height: 240,
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.8 },
      encoding: {
        x: { field: 'e2e_ms', type: 'quantitative', title: 'end-to-end latency (ms)' },
        y: { field: 'p', type: 'quantitative', title: 'fraction of pictures ≤ x', scale: { domain: [0, 1] } },
        color: armColour(arms),
        tooltip: [
          { field: 'arm' },
          { field: 'e2e_ms', title: 'e2e (ms)', format: '.1f' },
          { field: 'p', title: 'fraction', format: '.3f' },
        ],
      },
    },
  };
  return { id: 'e2e-cdf', title, spec };
}

export interface TailPoint {
  cell: string;
  arm: string;
  trace: string;
  percentile: 'p95' | 'p99';
  ms: number;
}

export function tailPoints(rows: readonly ExperimentRecord[]): TailPoint[] {
  const out: TailPoint[] = [];
  for (const r of rows) {
    for (const [percentile, col] of [['p95', 'e2e_p95_ms'], ['p99', 'e2e_p99_ms']] as const) {
      const ms = r.values[col];
      if (ms !== null) out.push({ cell: r.cell, arm: r.arm, trace: r.trace, percentile, ms });
    }
  }
  return out;
}

export function tailChart(points: TailPoint[], arms: ColourScale): Chart {
  const title = 'Tail latency per cell: p95 and p99 of end-to-end latency';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'one value per cell (repetition); boxes over repetitions, per arm × trace' },
    datasets: { tails: points },
    data: { name: 'tails' },
    facet: {
      row: { field: 'percentile', type: 'nominal', title: null },
      column: { field: 'trace', type: 'nominal', title: 'trace' },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 220,
      height: 150,
      layer: [
        { mark: { type: 'boxplot', extent: 'min-max', size: 26, opacity: 0.6 }, encoding: { x: armAxis, y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' }, color: { ...armColour(arms), legend: null } } },
        {
          mark: { type: 'point', filled: true, size: 36, stroke: 'black', strokeWidth: 0.5 },
          encoding: {
            x: armAxis,
            y: { field: 'ms', type: 'quantitative' },
            color: armColour(arms),
            tooltip: [{ field: 'cell' }, { field: 'percentile' }, { field: 'ms', title: 'ms', format: '.1f' }],
          },
        },
      ],
    },
  };
  return { id: 'tail-latency', title, spec };
}

export interface PicturePoint95 {
  cell: string;
  arm: string;
  trace: string;
  picture: 'I-pictures' | 'P-pictures';
  p95_ms: number;
}

export function picturePoints(rows: readonly ExperimentRecord[]): PicturePoint95[] {
  const out: PicturePoint95[] = [];
  for (const r of rows) {
    for (const [picture, col] of [['I-pictures', 'iframe_picture_p95_ms'], ['P-pictures', 'pframe_picture_p95_ms']] as const) {
      const ms = r.values[col];
      if (ms !== null) out.push({ cell: r.cell, arm: r.arm, trace: r.trace, picture, p95_ms: ms });
    }
  }
  return out;
}

export function pictureChart(points: PicturePoint95[], arms: ColourScale): Chart {
  const title = 'I-picture vs P-picture latency (p95) per arm';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'mean over repetitions of each cell’s p95; solid: I-pictures, faded: P-pictures' },
    datasets: { pictures: points },
    data: { name: 'pictures' },
    facet: { column: { field: 'trace', type: 'nominal', title: 'trace' } },
    spec: {
      width: 220,
      height: 200,
      mark: { type: 'bar' },
      encoding: {
        x: armAxis,
        xOffset: { field: 'picture', type: 'nominal', sort: ['I-pictures', 'P-pictures'] },
        y: { aggregate: 'mean', field: 'p95_ms', type: 'quantitative', title: 'p95 end-to-end latency (ms)' },
        color: armColour(arms),
        opacity: { field: 'picture', type: 'ordinal', title: 'pictures', scale: { domain: ['I-pictures', 'P-pictures'], range: [1, 0.4] } },
        tooltip: [
          { field: 'arm' },
          { field: 'picture' },
          { aggregate: 'mean', field: 'p95_ms', title: 'mean p95 (ms)', format: '.1f' },
        ],
      },
    },
  };
  return { id: 'iframe-pframe', title, spec };
}

export interface BackupPoint {
  cell: string;
  arm: string;
  trace: string;
  backup_pct: number;
}

export function backupPoints(rows: readonly ExperimentRecord[]): BackupPoint[] {
  return rows
    .filter((r) => r.values.backup_bytes_pct !== null)
    .map((r) => ({ cell: r.cell, arm: r.arm, trace: r.trace, backup_pct: r.values.backup_bytes_pct as number }));
}

export function backupChart(points: BackupPoint[], arms: ColourScale): Chart {
  const title = 'Backup stream overhead per arm';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'backup bytes as % of primary bytes; bar: mean over cells, points: cells' },
    width: 360,
    height: 200,
    datasets: { backup: points },
    data: { name: 'backup' },
    layer: [
      {
        mark: { type: 'bar', opacity: 0.75 },
        encoding: {
          x: armAxis,
          y: { aggregate: 'mean', field: 'backup_pct', type: 'quantitative', title: 'extra bytes (% of primary)' },
          color: armColour(arms),
        },
      },
      {
        mark: { type: 'point', filled: true, size: 40, color: 'black' },
        encoding: {
          x: armAxis,
          y: { field: 'backup_pct', type: 'quantitative' },
          shape: { field: 'trace', type: 'nominal', title: 'trace' },
          tooltip: [{ field: 'cell' }, { field: 'backup_pct', title: '% of primary', format: '.2f' }],
        },
      },
    ],
  };
  return { id: 'backup-bytes', title, spec };
}

export interface IpPoint {
  cell: string;
  arm: string;
  trace: string;
  i_to_p: number;
}

/** The I/P size ratio of each cell's primary stream (summary.csv's i_to_p; absent in summaries written before it). */
export function ipPoints(rows: readonly ExperimentRecord[]): IpPoint[] {
  return rows.filter((r) => r.values.i_to_p != null).map((r) => ({ cell: r.cell, arm: r.arm, trace: r.trace, i_to_p: r.values.i_to_p as number }));
}

export function ipChart(points: IpPoint[], arms: ColourScale): Chart {
  const title = 'I-frame size over the P-frames around it, per arm';
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'primary stream as sent; bar: mean over cells, points: cells (metrics/frame-sizes.ts)' },
    datasets: { ip: points },
    data: { name: 'ip' },
    facet: { column: { field: 'trace', type: 'nominal', title: 'trace' } },
    spec: {
      width: 220,
      height: 200,
      layer: [
        { mark: { type: 'bar', opacity: 0.75 }, encoding: { x: armAxis, y: { aggregate: 'mean', field: 'i_to_p', type: 'quantitative', title: 'I / neighbouring P (×)' }, color: armColour(arms) } },
        {
          mark: { type: 'point', filled: true, size: 36, color: 'black' },
          encoding: { x: armAxis, y: { field: 'i_to_p', type: 'quantitative' }, tooltip: [{ field: 'cell' }, { field: 'i_to_p', title: 'I/P', format: '.2f' }] },
        },
      ],
    },
  };
  return { id: 'i-to-p', title, spec };
}
