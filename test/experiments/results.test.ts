/**
 * Resume and summary.csv: which cells run again, and summary.csv rebuilt from the cell
 * directories alone (as after a Slurm array whose tasks each finished one cell).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli } from '../../src/cli/main';
import { commanderArgChecker } from '../../src/experiments/arg-check';
import { summarizeCell } from '../../src/experiments/cell-summary';
import { cellFingerprint, expandMatrix, type Cell } from '../../src/experiments/matrix';
import {
  CELL_SUMMARY_COLUMNS,
  cellDir,
  cellIdentity,
  cellStatus,
  collectSummaryRows,
  rebuildSummaryCsv,
  shouldRun,
  type CellMeta,
  type CellSummaryFile,
} from '../../src/experiments/results';
import { parseSpec, type ExperimentSpec } from '../../src/experiments/spec';
import { readCsv } from '../../src/metrics/csv';
import { EXPERIMENT_SUMMARY_COLUMNS } from '../../src/metrics/rows';
import { removeTempDirs, tempDir } from '../helpers/cli';

after(removeTempDirs);

const spec: ExperimentSpec = parseSpec(
  JSON.stringify({
    name: 'r',
    duration_s: 5,
    arms: { single: { offer: ['--mode', 'single'] }, dual: { offer: ['--mode', 'dual'] } },
    traces: ['4g-1', 'step-2.5-1.0-2.5'],
  }),
  'experiments/r.json',
  commanderArgChecker(buildCli),
);
const cells = expandMatrix(spec);

function meta(cell: Cell, o: Partial<CellMeta>): CellMeta {
  return {
    ...cellIdentity(spec, cell),
    clip_analysis: null,
    starvation: null,
    trace: null,
    commands: { offer: [], answer: [] },
    versions: {},
    link: null,
    replay: null,
    timing: { started_ms: 0, peers_started_ms: null, trace_start_ms: null, stream_start_ms: null, ended_ms: null },
    peers: { offer: { exit_code: 0, signal: null, last_line: '' }, answer: { exit_code: 0, signal: null, last_line: '' } },
    started_at: '2026-01-01T00:00:00.000Z',
    ended_at: '2026-01-01T00:00:10.000Z',
    complete: true,
    incomplete_reason: null,
    ...o,
  };
}

/** A finished cell's directory: meta.json and (unless `noSummary`) a summary.json computed from a few frames. */
function writeCell(out: string, cell: Cell, o: Partial<CellMeta> = {}, noSummary = false): void {
  const dir = cellDir(out, cell);
  mkdirSync(dir, { recursive: true });
  const m = meta(cell, o);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(m));
  if (noSummary) return;
  const frames = Array.from({ length: 60 }, (_, i) => ({
    frame_id: String(i),
    stream: 'primary',
    frame_type: i % 30 ? 'P' : 'I',
    size_bytes: '1000',
    capture_ms: String(i * 33.3),
    render_ms: String(i * 33.3 + 50 + cell.index),
    rendered: '1',
    e2e_ms: String(50 + cell.index),
  }));
  const f = summarizeCell(
    { cell: cell.id, arm: cell.arm.name, scene: cell.clip.label, trace: cell.trace.label, trace_family: 'x', repetition: cell.repetition, seed: cell.seed },
    { frames, network: [], link: null, warmupS: 0, psnrByPicture: null },
  );
  const file: CellSummaryFile = { cell: cell.id, complete: m.complete, row: { ...f.row, complete: m.complete ? 1 : 0, incomplete_reason: m.incomplete_reason ?? '' } };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(file));
}

describe('resume', () => {
  it('a cell is done only with summary.json, a complete meta.json and the same definition', () => {
    const out = tempDir('resume');
    const [c0, c1, c2, c3] = cells;
    const fp = (c: Cell) => cellFingerprint(spec, c);
    assert.deepEqual(cellStatus(cellDir(out, c0), fp(c0)), { state: 'absent' });

    writeCell(out, c0);
    assert.deepEqual(cellStatus(cellDir(out, c0), fp(c0)), { state: 'done' });
    assert.equal(shouldRun(cellStatus(cellDir(out, c0), fp(c0)), false), false, 'done: skipped');
    assert.equal(shouldRun(cellStatus(cellDir(out, c0), fp(c0)), true), true, '--force reruns it');

    writeCell(out, c1, { complete: false, incomplete_reason: 'offer exited with 1: testbed: boom' });
    assert.deepEqual(cellStatus(cellDir(out, c1), fp(c1)), { state: 'failed', reason: 'offer exited with 1: testbed: boom' });
    assert.equal(shouldRun(cellStatus(cellDir(out, c1), fp(c1)), false), true, 'failed cells run again');

    writeCell(out, c2, { ended_at: null, complete: false, incomplete_reason: 'running (or its runner died)' }, true);
    assert.deepEqual(cellStatus(cellDir(out, c2), fp(c2)), { state: 'unfinished' });

    writeCell(out, c3, { fingerprint: 'an older spec' });
    assert.equal(cellStatus(cellDir(out, c3), fp(c3)).state, 'stale');
    assert.equal(shouldRun(cellStatus(cellDir(out, c3), fp(c3)), false), true);

    // Complete meta but summary.json lost: not done.
    writeCell(out, c0, {}, true);
    writeFileSync(join(cellDir(out, c0), 'summary.json'), 'not json');
    assert.deepEqual(cellStatus(cellDir(out, c0), fp(c0)), { state: 'failed', reason: 'summary.json missing' });

    // A directory without meta.json (its runner died before writing it).
    const bare = tempDir('resume-bare');
    assert.deepEqual(cellStatus(bare, fp(c0)), { state: 'unfinished' });
  });
});

describe('summary.csv', () => {
  it('is rebuilt from the cell directories: one row per finished cell, in matrix order, failed cells marked', async () => {
    const out = tempDir('summary');
    // Cells finish out of order, as array tasks do; cell 2 is still running.
    writeCell(out, cells[3]);
    writeCell(out, cells[0]);
    writeCell(out, cells[1], { complete: false, incomplete_reason: 'interrupted (SIGINT)' });
    writeCell(out, cells[2], { ended_at: null, complete: false }, true);

    const { path, rows } = await rebuildSummaryCsv(out, cells);
    assert.equal(rows, 3);
    const text = readFileSync(path, 'utf8');
    assert.equal(text.split('\n')[0], CELL_SUMMARY_COLUMNS.join(','), 'header: the contract columns, then complete and incomplete_reason');
    assert.deepEqual(CELL_SUMMARY_COLUMNS.slice(0, EXPERIMENT_SUMMARY_COLUMNS.length), [...EXPERIMENT_SUMMARY_COLUMNS]);
    const csv = readCsv(path);
    assert.deepEqual(csv.map((r) => r.cell), [cells[0].id, cells[1].id, cells[3].id]);
    assert.deepEqual(csv.map((r) => r.complete), ['1', '0', '1']);
    assert.equal(csv[1].incomplete_reason, 'interrupted (SIGINT)');
    assert.equal(csv[0].e2e_p50_ms, '50');
    assert.equal(csv[2].e2e_p50_ms, '53');
    assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');

    // The last cell finishes: a rebuild picks it up, replacing the file.
    writeCell(out, cells[2]);
    await rebuildSummaryCsv(out, cells);
    assert.deepEqual(readCsv(path).map((r) => r.cell), cells.map((c) => c.id));
  });

  it('a cell that failed before measuring anything still has its row, with empty figures', () => {
    const out = tempDir('summary-empty');
    writeCell(out, cells[0], { complete: false, incomplete_reason: 'netns: link.sh failed' }, true);
    const [row] = collectSummaryRows(out, cells);
    assert.equal(row.cell, cells[0].id);
    assert.equal(row.arm, 'single');
    assert.equal(row.trace, '4g-1');
    assert.equal(row.seed, cells[0].seed);
    assert.equal(row.e2e_p50_ms, '');
    assert.equal(row.complete, 0);
    assert.equal(row.incomplete_reason, 'netns: link.sh failed');
  });

  it('no cell finished: a header-only file', async () => {
    const out = tempDir('summary-none');
    const { path, rows } = await rebuildSummaryCsv(out, cells);
    assert.equal(rows, 0);
    assert.ok(existsSync(path));
    assert.equal(readFileSync(path, 'utf8'), CELL_SUMMARY_COLUMNS.join(',') + '\n');
  });
});
