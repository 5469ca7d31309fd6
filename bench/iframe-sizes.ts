/**
 * Experiment 1's table (DESIGN.md §5): I-frame size over the P-frames around it, per scene
 * and encoder rate, as the runs sent it (summary.csv's i_to_p, primary stream) beside the
 * same clip analysed offline (meta.json's clip_analysis: every picture encoded once per
 * rate, `testbed clips show`), and the prototype's street scene for reference.
 *
 *   node bin/testbed.js run experiments/1-iframe-sizes.json --out results/exp1
 *   node dist/bench/iframe-sizes.js results/exp1
 *
 * Arms are read as `fixed-<Mbit/s>`, the spec's names.
 */
import { join } from 'node:path';
import { readCsv } from '../src/metrics/csv';
import { readCellMeta } from '../src/experiments/results';
import { textTable } from '../src/cli/text-table';

/** The prototype's street scene (issue 17): mean I / neighbouring P per Mbit/s. */
const PROTOTYPE: Record<string, number> = { '0.5': 1.8, '1.0': 4.6, '1.5': 7.7, '2.0': 35.5 };

function main(): void {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node dist/bench/iframe-sizes.js RESULTS_DIR (an experiment run of experiments/1-iframe-sizes.json)\n');
    process.exit(2);
  }
  const rows = readCsv(join(dir, 'summary.csv')).filter((r) => r.complete === '1');
  const rates = [...new Set(rows.map((r) => /^fixed-(\d+(?:\.\d+)?)$/.exec(r.arm)?.[1]).filter((x): x is string => x !== undefined))].sort((a, b) => Number(a) - Number(b));
  const scenes = [...new Set(rows.map((r) => r.scene))];
  const lines: string[][] = [['scene', 'SI', 'TI', ...rates.map((r) => `${r} Mbit/s run (offline)`), 'I kB at 0.5 → 2.0', 'P kB at 0.5 → 2.0']];
  for (const scene of scenes) {
    const cells = rates.map((rate) => rows.find((r) => r.scene === scene && r.arm === `fixed-${rate}`));
    const meta = cells.map((c) => (c ? readCellMeta(join(dir, c.cell)) : null)).find((m) => m?.clip_analysis) ?? null;
    const a = meta?.clip_analysis ?? null;
    const offline = (rate: string) => a?.ip.rates.find((x) => Math.abs(x.bitrate_bps / 1e6 - Number(rate)) < 1e-9)?.i_to_p ?? null;
    const kB = (v: string | undefined) => (v === undefined || v === '' ? '-' : (Number(v) / 1000).toFixed(1));
    const first = cells[0];
    const last = cells[cells.length - 1];
    lines.push([
      scene,
      a?.siti.si_max?.toFixed(1) ?? '-',
      a?.siti.ti_max?.toFixed(1) ?? '-',
      ...cells.map((c, i) => `${c && c.i_to_p !== '' ? Number(c.i_to_p).toFixed(1) : '-'} (${offline(rates[i])?.toFixed(1) ?? '-'})`),
      `${kB(first?.iframe_bytes_mean)} → ${kB(last?.iframe_bytes_mean)}`,
      `${kB(first?.pframe_bytes_mean)} → ${kB(last?.pframe_bytes_mean)}`,
    ]);
  }
  lines.push(['prototype street scene', '', '', ...rates.map((r) => (PROTOTYPE[Number(r).toFixed(1)] ?? '-').toString()), '', '']);
  process.stdout.write(textTable(lines) + '\n');
}

main();
