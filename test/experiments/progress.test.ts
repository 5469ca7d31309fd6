/** Progress on simulated time: the ETA before and after cells have run, and the plain log lines. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ManualClock } from '../../src/clock';
import { BarSink, estimateRemainingMs, formatDuration, PlainSink, Progress, type ProgressSink } from '../../src/experiments/progress';

function recording(): { sink: ProgressSink; lines: string[]; updates: { value: number; total: number; cell: string; elapsed: string; eta: string }[] } {
  const lines: string[] = [];
  const updates: { value: number; total: number; cell: string; elapsed: string; eta: string }[] = [];
  return {
    lines,
    updates,
    sink: { log: (l) => lines.push(l), update: (value, total, f) => updates.push({ value, total, ...f }), stop: () => {} },
  };
}

describe('experiment progress', () => {
  it('formats durations', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(59_400), '59s');
    assert.equal(formatDuration(61_000), '1m01s');
    assert.equal(formatDuration(3_725_000), '1h02m');
    assert.equal(formatDuration(Number.NaN), '?');
  });

  it('ETA: the estimate per cell until one ran, then the mean of those run, less the current cell so far', () => {
    assert.equal(estimateRemainingMs({ remaining: 4, durationsMs: [], estimateCellMs: 30_000, currentElapsedMs: 0 }), 120_000);
    assert.equal(estimateRemainingMs({ remaining: 3, durationsMs: [20_000, 40_000], estimateCellMs: 99_000, currentElapsedMs: 10_000 }), 80_000);
    assert.equal(estimateRemainingMs({ remaining: 1, durationsMs: [20_000], estimateCellMs: 0, currentElapsedMs: 50_000 }), 0, 'never negative');
    assert.equal(estimateRemainingMs({ remaining: 0, durationsMs: [], estimateCellMs: 1, currentElapsedMs: 0 }), 0);
  });

  it('counts done / total, names the current cell, skipped cells cost nothing', () => {
    const clock = new ManualClock(1000);
    const r = recording();
    const p = new Progress(3, 30_000, () => clock.now(), r.sink);
    p.skip('a__t__r0', 'already done');
    p.begin('b__t__r0');
    clock.advance(5_000);
    p.refresh();
    assert.deepEqual(r.updates.at(-1), { value: 1, total: 3, cell: 'b__t__r0', elapsed: '5s', eta: '55s' });
    clock.advance(15_000);
    p.end('b__t__r0', true, 'e2e p50 80 ms');
    p.begin('c__t__r0');
    clock.advance(4_000);
    p.refresh();
    assert.deepEqual(r.updates.at(-1), { value: 2, total: 3, cell: 'c__t__r0', elapsed: '24s', eta: '16s' }, 'one cell took 20 s: 16 s left of the last');
    p.end('c__t__r0', false, 'offer exited with 1');
    assert.deepEqual(r.lines, [
      '[1/3] a__t__r0: skipped (already done)',
      '[2/3] b__t__r0: running (elapsed 0s, ETA 1m00s)',
      '[2/3] b__t__r0: done in 20s: e2e p50 80 ms',
      '[3/3] c__t__r0: running (elapsed 20s, ETA 20s)',
      '[3/3] c__t__r0: FAILED in 4s: offer exited with 1',
    ]);
    assert.equal(r.updates.at(-1)!.value, 3);
  });

  it('plain sink: one line per event, prefixed for logs', () => {
    const out: string[] = [];
    const s = new PlainSink((t) => out.push(t));
    s.update();
    s.log('[1/2] x: running');
    assert.deepEqual(out, ['run [1/2] x: running\n']);
  });

  it('bar sink: draws a cli-progress bar with the fields, lines above it', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d) => (text += d));
    Object.assign(stream, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const s = new BarSink(stream);
    s.update(1, 4, { cell: 'dual__4g-1__r0', elapsed: '1m00s', eta: '3m00s' });
    s.log('[2/4] dual__4g-1__r0: running');
    s.update(2, 4, { cell: 'dual__4g-1__r0', elapsed: '1m30s', eta: '1m30s' });
    s.stop();
    await new Promise((r) => setImmediate(r));
    assert.match(text, /2\/4 cells \| dual__4g-1__r0 \| elapsed 1m30s \| ETA 1m30s/);
    assert.match(text, /\[2\/4\] dual__4g-1__r0: running/);
  });
});
