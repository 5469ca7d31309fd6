/**
 * The table `testbed run` prints when it ends: one line per cell of summary.csv, the
 * figures a reader compares first (end-to-end latency percentiles, I- vs P-picture p95,
 * freezes, rate, backup overhead, utilisation, I/P size ratio), so arms can be read side
 * by side — and how many pictures the machine's own CPU starved (metrics/starvation.ts),
 * so a figure the testbed itself bent is never read as the network's.
 */
import type { CellSummaryRow } from './results';

const COLUMNS: { head: string; of: (r: CellSummaryRow) => string }[] = [
  { head: 'e2e p50', of: (r) => ms(r.e2e_p50_ms) },
  { head: 'p95', of: (r) => ms(r.e2e_p95_ms) },
  { head: 'p99', of: (r) => ms(r.e2e_p99_ms) },
  { head: 'I-pic p95', of: (r) => ms(r.iframe_picture_p95_ms) },
  { head: 'P-pic p95', of: (r) => ms(r.pframe_picture_p95_ms) },
  { head: 'freezes', of: (r) => String(r.freezes) },
  { head: 'fps', of: (r) => num(r.fps, 1) },
  { head: 'kbit/s', of: (r) => num(r.bitrate_kbps, 0) },
  { head: 'backup %', of: (r) => num(r.backup_bytes_pct, 1) },
  { head: 'util %', of: (r) => num(r.utilisation_pct, 0) },
  { head: 'PSNR dB', of: (r) => num(r.psnr_db, 1) },
  { head: 'I/P', of: (r) => num(r.i_to_p, 1) },
  { head: 'starved', of: (r) => starved(r) },
];

/** Late captures + encoder-busy drops + decoder backlog; '-' when the cell did not record them. */
function starved(r: CellSummaryRow): string {
  const counts = [r.late_captures, r.encoder_busy_drops, r.decoder_backlog];
  return counts.every((c) => c === '') ? '-' : String(counts.reduce<number>((a, c) => a + (c === '' ? 0 : Number(c)), 0));
}

function num(v: number | '', digits: number): string {
  return v === '' || !Number.isFinite(Number(v)) ? '-' : Number(v).toFixed(digits);
}

function ms(v: number | ''): string {
  return num(v, 0);
}

/** Fixed-width text; a failed cell shows its reason instead of figures. */
export function formatCellTable(rows: CellSummaryRow[]): string {
  if (rows.length === 0) return 'no finished cells\n';
  const idWidth = Math.max(4, ...rows.map((r) => r.cell.length));
  const widths = COLUMNS.map((c) => Math.max(c.head.length, 6));
  const head = 'cell'.padEnd(idWidth) + COLUMNS.map((c, i) => c.head.padStart(widths[i]! + 2)).join('');
  const lines = rows.map((r) =>
    r.complete
      ? r.cell.padEnd(idWidth) + COLUMNS.map((c, i) => c.of(r).padStart(widths[i]! + 2)).join('')
      : `${r.cell.padEnd(idWidth)}  failed: ${r.incomplete_reason}`,
  );
  return [`${head}    (latency in ms)`, ...lines].join('\n') + '\n';
}
