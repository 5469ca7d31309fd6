import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatCellTable } from '../../src/experiments/table';
import type { CellSummaryRow } from '../../src/experiments/results';

function row(over: Partial<CellSummaryRow>): CellSummaryRow {
  return {
    cell: 'single__4g-1__r0', arm: 'single', scene: 'default', trace: '4g-1', trace_family: '4g', repetition: 0, seed: 1, duration_s: 30,
    frames: 900, rendered: 890, e2e_p50_ms: 97.8, e2e_p95_ms: 204.6, e2e_p99_ms: 346.2, encode_mean_ms: 5, pacer_mean_ms: 10,
    network_mean_ms: 20, jitter_mean_ms: 40, decode_mean_ms: 3, render_wait_mean_ms: 12, iframe_picture_p95_ms: 341,
    pframe_picture_p95_ms: 200, freezes: 4, fps: 29.93, bitrate_kbps: 920.4, backup_bytes_pct: 0, iframe_bytes_mean: 40000, pframe_bytes_mean: 3000, i_to_p: 13.3, psnr_db: '', late_captures: 0, encoder_busy_drops: 0, decoder_backlog: 0,
    utilisation_pct: 44.2, complete: 1, incomplete_reason: '', ...over,
  };
}

describe('formatCellTable', () => {
  it('one aligned line per cell, arms side by side, missing figures as -', () => {
    const text = formatCellTable([row({}), row({ cell: 'dual__4g-1__r0', arm: 'dual', e2e_p50_ms: 86.4, psnr_db: 33.27, late_captures: 3, encoder_busy_drops: 4, decoder_backlog: '' })]);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^cell\s+e2e p50\s+p95\s+p99\s+I-pic p95\s+P-pic p95\s+freezes\s+fps\s+kbit\/s\s+backup %\s+util %\s+PSNR dB\s+I\/P\s+starved/);
    assert.match(lines[1]!, /^single__4g-1__r0\s+98\s+205\s+346\s+341\s+200\s+4\s+29\.9\s+920\s+0\.0\s+44\s+-\s+13\.3\s+0$/);
    assert.match(lines[2]!, /^dual__4g-1__r0\s+86\s+205\s+346\s+341\s+200\s+4\s+29\.9\s+920\s+0\.0\s+44\s+33\.3\s+13\.3\s+7$/);
    assert.equal(lines[1]!.length, lines[2]!.length, 'columns line up');
  });

  it('a failed cell shows its reason', () => {
    const text = formatCellTable([row({ complete: 0, incomplete_reason: 'answer exited 3' })]);
    assert.match(text, /single__4g-1__r0\s+failed: answer exited 3/);
  });

  it('no rows', () => {
    assert.equal(formatCellTable([]), 'no finished cells\n');
  });
});
