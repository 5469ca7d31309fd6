/**
 * `testbed run` end to end through the real CLI: experiments/smoke.json (4 cells × 20 s
 * over shaped links between network namespaces), read back — every file of every cell,
 * every CSV's columns, summary.csv, the link following the trace, resume; an oracle arm
 * following the same trace as the link, interrupted by SIGINT mid-cell; over loopback, a
 * failing cell among good ones, and PSNR.
 *
 * Shaped cells need root and tc (skipped with detectFeatures' reason otherwise).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chromiumMissing, inspectDashboard } from '../report/browser';
import { join } from 'node:path';
import { buildCli } from '../../src/cli/main';
import { checkRequested, detectFeatures, listNamespaces, ShapedLink } from '../../src/emulation/netns';
import { loadTrace } from '../../src/emulation/traces/files';
import { capacityAt } from '../../src/emulation/traces/lookup';
import { commanderArgChecker } from '../../src/experiments/arg-check';
import { expandMatrix } from '../../src/experiments/matrix';
import { CELL_SUMMARY_COLUMNS, type CellMeta } from '../../src/experiments/results';
import { loadSpec } from '../../src/experiments/spec';
import { readCsv } from '../../src/metrics/csv';
import {
  QUALITY_COLUMNS,
  JOINED_COLUMNS,
  LINK_COLUMNS,
  NETWORK_COLUMNS,
  RECEIVER_COLUMNS,
  RECEIVER_EVENT_COLUMNS,
  SENDER_COLUMNS,
  SENDER_EVENT_COLUMNS,
} from '../../src/metrics/rows';
import { ORACLE_SHARE } from '../../src/sender/congestion/oracle';
import { assertClosedCsv, csvLinesSoFar, ensureClip, removeTempDirs, ROOT, runCli, startCli, tempDir, waitFor } from '../helpers/cli';

const SMOKE = join(ROOT, 'experiments', 'smoke.json');
const check = commanderArgChecker(buildCli);

let noShaping: string | false = false;

before(() => {
  ensureClip();
  try {
    checkRequested({ qdisc: 'tbf' }, detectFeatures(), true);
  } catch (e) {
    noShaping = (e as Error).message;
  }
});
after(removeTempDirs);

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const numeric = (v: string) => v !== '' && Number.isFinite(Number(v));

describe('testbed run experiments/smoke.json', { timeout: 240_000 }, () => {
  it('runs every cell over a shaped link and leaves complete, readable results; a second run resumes (skips them all)', async (t) => {
    if (noShaping) return t.skip(noShaping);
    const out = tempDir('smoke');
    const r = await runCli(['run', SMOKE, '--out', out], { timeoutMs: 230_000 });
    t.diagnostic(r.stderr.trim());
    assert.equal(r.code, 0, r.stderr);

    const spec = loadSpec(SMOKE, check);
    const cells = expandMatrix(spec);
    assert.equal(cells.length, 4);
    for (const cell of cells) {
      const dir = join(out, cell.id);
      for (const f of ['frames.csv', 'events.csv', 'network.csv', 'link.csv', 'meta.json', 'summary.json', 'trace.trace', 'sender-frames.csv', 'receiver-frames.csv', 'receiver-events.csv', 'sender-meta.json', 'receiver-meta.json', 'offer.log', 'answer.log']) {
        assert.ok(existsSync(join(dir, f)), `${cell.id}/${f}`);
      }
      const mediaFrames = (spec.warmupS + spec.durationS) * 30;
      assertClosedCsv(join(dir, 'frames.csv'), JOINED_COLUMNS, mediaFrames * 0.9);
      assertClosedCsv(join(dir, 'sender-frames.csv'), SENDER_COLUMNS, mediaFrames * 0.9);
      assertClosedCsv(join(dir, 'receiver-frames.csv'), RECEIVER_COLUMNS, mediaFrames * 0.5);
      assertClosedCsv(join(dir, 'events.csv'), SENDER_EVENT_COLUMNS, 0);
      assertClosedCsv(join(dir, 'receiver-events.csv'), RECEIVER_EVENT_COLUMNS, 0);
      const network = assertClosedCsv(join(dir, 'network.csv'), NETWORK_COLUMNS, (spec.warmupS + spec.durationS) * 10 * 0.9);
      const link = assertClosedCsv(join(dir, 'link.csv'), LINK_COLUMNS, 2 * (spec.warmupS + spec.durationS) * 10 * 0.8);

      const meta = readJson<CellMeta>(join(dir, 'meta.json'));
      assert.equal(meta.complete, true, `${cell.id}: ${meta.incomplete_reason}`);
      assert.equal(meta.cell, cell.id);
      assert.equal(meta.seed, cell.seed);
      assert.deepEqual(Object.keys(meta.versions).sort(), ['ffmpeg', 'iproute2', 'kernel', 'node', 'testbed']);
      for (const v of Object.values(meta.versions)) assert.ok(v && v !== 'unknown', JSON.stringify(meta.versions));
      assert.deepEqual(meta.commands.offer.slice(0, 3), ['ip', 'netns', 'exec']);
      assert.ok(meta.commands.offer.includes('--duration') && meta.commands.answer.includes('--ice-host'));
      assert.deepEqual(meta.link?.not_emulated, []);
      assert.equal(typeof meta.link?.features.netem, 'boolean');
      assert.equal(meta.replay?.end, 'stopped', 'the trace outlasts the run');
      assert.equal(meta.replay?.monitor.error, null);
      assert.ok(meta.timing.trace_start_ms! > meta.timing.peers_started_ms!);
      t.diagnostic(
        `${cell.id}: stream started ${(meta.timing.stream_start_ms! - meta.timing.peers_started_ms!).toFixed(0)} ms after launch, ` +
          `trace ${(meta.timing.trace_start_ms! - meta.timing.peers_started_ms!).toFixed(0)} ms; ${meta.replay!.changes} tc changes, ` +
          `lateness p50 ${meta.replay!.lateness_p50_ms?.toFixed(1)} ms, max ${meta.replay!.lateness_max_ms?.toFixed(1)} ms`,
      );

      // link.csv's capacity is the cell's trace at the row's trace time; the link delivers no more than it.
      const trace = loadTrace(join(dir, 'trace.trace'));
      const up = link.filter((l) => l.direction === 'up');
      for (const l of up) assert.equal(Number(l.capacity_kbit), capacityAt(trace, Number(l.trace_s)), `${cell.id} link.csv at ${l.trace_s} s`);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(mean(up.map((l) => Number(l.throughput_kbit))) <= 1.05 * mean(up.map((l) => Number(l.capacity_kbit))), `${cell.id}: throughput within capacity`);

      assert.ok(network.every((n) => n.controller === 'gcc'));
      assert.ok(!meta.commands.offer.includes('--oracle-trace'), 'the trace goes to oracle arms only');
    }

    const summary = assertClosedCsv(join(out, 'summary.csv'), CELL_SUMMARY_COLUMNS, 4);
    assert.deepEqual(summary.map((s) => s.cell), cells.map((c) => c.id), 'one row per cell, in matrix order');
    for (const s of summary) {
      assert.equal(s.complete, '1');
      for (const c of ['e2e_p50_ms', 'e2e_p95_ms', 'e2e_p99_ms', 'encode_mean_ms', 'network_mean_ms', 'fps', 'bitrate_kbps', 'utilisation_pct']) {
        assert.ok(numeric(s[c]), `${s.cell}: ${c} = '${s[c]}'`);
      }
      assert.ok(Number(s.e2e_p50_ms) > 0 && Number(s.e2e_p50_ms) <= Number(s.e2e_p95_ms) && Number(s.e2e_p95_ms) <= Number(s.e2e_p99_ms), s.cell);
      assert.equal(Number(s.duration_s) > spec.durationS - 1, true, `${s.cell}: measured ${s.duration_s} s`);
      t.diagnostic(`${s.cell}: e2e p50/p95/p99 ${s.e2e_p50_ms}/${s.e2e_p95_ms}/${s.e2e_p99_ms} ms, ${s.rendered}/${s.frames} rendered, utilisation ${s.utilisation_pct} %`);
    }

    // The smoke experiment's own dashboards, opened in chromium: every chart drawn, no console error.
    if (!chromiumMissing()) {
      const plotted = await runCli(['plot', out, '--no-png'], { timeoutMs: 60_000 });
      assert.equal(plotted.code, 0, plotted.stderr);
      const shots = join(ROOT, 'dist', 'test-output', 'experiments');
      mkdirSync(shots, { recursive: true });
      for (const [html, shot] of [
        [join(out, 'dashboard.html'), join(shots, 'smoke-experiment.png')],
        [join(out, cells[1]!.id, 'dashboard.html'), join(shots, `smoke-${cells[1]!.id}.png`)],
      ] as const) {
        const page = await inspectDashboard(html, shot);
        assert.deepEqual(page.errors, [], `${html}: console errors`);
        assert.ok(page.charts.length >= 4, `${html}: ${page.charts.length} charts`);
        for (const c of page.charts) assert.ok(c.vegaSvgs >= 1 && c.markItems > 0, `${html} ${c.id}: ${c.markItems} mark items`);
        t.diagnostic(`${html}: ${page.charts.length} charts drawn in ${page.renderMs} ms; screenshot ${shot}`);
      }
    }

    const before = readFileSync(join(out, 'summary.csv'), 'utf8');
    const again = await runCli(['run', SMOKE, '--out', out], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr.match(/skipped \(already done; --force reruns it\)/g)?.length, 4, again.stderr);
    assert.equal(readFileSync(join(out, 'summary.csv'), 'utf8'), before);
  });

  it('an oracle arm follows the trace the link replays; SIGINT mid-cell: peers flush, the link goes, the cell is recorded as interrupted, exit 130', async (t) => {
    if (noShaping) return t.skip(noShaping);
    const dir = tempDir('run-int');
    const spec = join(dir, 'oracle.json');
    writeFileSync(
      spec,
      JSON.stringify({
        name: 'oracle',
        duration_s: 18,
        warmup_s: 2,
        arms: { oracle: { offer: ['--mode', 'single', '--rate-control', 'oracle'] } },
        traces: [{ trace: '4g-1', offset_s: 60 }],
        link: { queue_ms: 200 },
      }),
    );
    const out = join(dir, 'out');
    const run = startCli(['run', spec, '--out', out], { timeoutMs: 90_000 });
    const cellDir = join(out, 'oracle__4g-1__r0');
    // Past the 2 s warm-up, so that the interrupted cell has figures to summarize.
    await waitFor(() => csvLinesSoFar(join(cellDir, 'sender-frames.csv')) > 150, 60_000, 'five seconds streamed');
    const ns = readJson<CellMeta>(join(cellDir, 'meta.json')).commands.offer[3];
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /^testbed: interrupted: finished cells are kept/);

    const meta = readJson<CellMeta>(join(cellDir, 'meta.json'));
    assert.equal(meta.complete, false);
    assert.equal(meta.incomplete_reason, 'interrupted (SIGINT)');
    // Each peer got one SIGINT; whichever it noticed first — its own SIGINT or the other
    // peer leaving — is its recorded end, and it flushed either way.
    for (const [role, peer] of [['sender', meta.peers.offer], ['receiver', meta.peers.answer]] as const) {
      assert.ok(peer.exit_code === 130 || peer.exit_code === 3, `${role}: ${JSON.stringify(peer)}`);
      const own = readJson<{ complete: boolean; incomplete_reason: string }>(join(cellDir, `${role}-meta.json`));
      assert.equal(own.complete, false);
      assert.match(own.incomplete_reason, /^interrupted \(SIGINT\)$|^the (peer disappeared|receiver left)/);
    }
    assertClosedCsv(join(cellDir, 'frames.csv'), JOINED_COLUMNS, 150);
    assertClosedCsv(join(cellDir, 'link.csv'), LINK_COLUMNS, 2 * 30);
    assert.ok(!listNamespaces().includes(ns), `namespace ${ns} removed`);
    const [row] = readCsv(join(out, 'summary.csv'));
    assert.equal(row.complete, '0');
    assert.equal(row.incomplete_reason, 'interrupted (SIGINT)');
    assert.ok(numeric(row.e2e_p50_ms), 'what was measured is summarized');

    // The oracle follows the very trace the link replays (4G: a change every 200 ms), from the same time 0.
    const trace = loadTrace(join(cellDir, 'trace.trace'));
    const startMs = meta.timing.trace_start_ms!;
    assert.equal(meta.commands.offer[meta.commands.offer.indexOf('--trace-start-ms') + 1], String(startMs));
    assert.equal(meta.commands.offer[meta.commands.offer.indexOf('--oracle-trace') + 1], join(cellDir, 'trace.trace'));
    const network = assertClosedCsv(join(cellDir, 'network.csv'), NETWORK_COLUMNS, 30);
    const targets = new Set<number>();
    for (const n of network) {
      const expected = Math.round(Math.max(1, capacityAt(trace, (Number(n.time_ms) - startMs) / 1000) * 1000 * ORACLE_SHARE));
      assert.equal(Number(n.target_bps), expected, `network.csv at ${n.time_ms}`);
      targets.add(expected);
    }
    assert.ok(targets.size > 10, `the target followed ${targets.size} capacities`);
    for (const l of readCsv(join(cellDir, 'link.csv')).filter((x) => x.direction === 'up')) {
      assert.equal(Number(l.capacity_kbit), capacityAt(trace, Number(l.trace_s)), `link.csv at ${l.trace_s} s`);
    }
  });
});

describe('testbed run killed (SIGKILL) mid-cell', { timeout: 120_000 }, () => {
  it('leaves its link to the next run\'s sweep, which removes the namespaces and ends the orphaned peers (they flush on SIGTERM); the cell is not complete and runs again', async (t) => {
    if (noShaping) return t.skip(noShaping);
    const dir = tempDir('run-kill');
    const spec = join(dir, 'kill.json');
    writeFileSync(spec, JSON.stringify({ name: 'kill', duration_s: 30, warmup_s: 1, arms: { fixed: { offer: ['--mode', 'single', '--rate-control', 'fixed', '--bitrate', 800000] } }, traces: [{ trace: 'fixed-2.0' }], link: { queue_ms: 200 } }));
    const out = join(dir, 'out');
    const run = startCli(['run', spec, '--out', out], { timeoutMs: 90_000 });
    const cellDir = join(out, 'fixed__fixed-2.0__r0');
    await waitFor(() => csvLinesSoFar(join(cellDir, 'sender-frames.csv')) > 60, 60_000, 'two seconds streamed');
    const nsA = readJson<CellMeta>(join(cellDir, 'meta.json')).commands.offer[3];
    run.child.kill('SIGKILL');
    await run.done;
    // Nothing of the runner's ran: its link and peers are still there.
    assert.ok(listNamespaces().includes(nsA), `namespace ${nsA} still there after SIGKILL`);
    const removed = ShapedLink.sweepStale();
    assert.ok(removed.some((n) => nsA.startsWith(n)), `swept ${removed.join(', ')}`);
    assert.ok(!listNamespaces().some((n) => removed.some((r) => n.startsWith(r))), 'no namespace of the killed run left');
    // The orphaned peers got SIGTERM from the sweep: their own files are closed and say why.
    await waitFor(() => existsSync(join(cellDir, 'sender-meta.json')) && existsSync(join(cellDir, 'receiver-meta.json')), 20_000, 'both peers ended');
    for (const role of ['sender', 'receiver'] as const) {
      const own = readJson<{ complete: boolean; incomplete_reason: string }>(join(cellDir, `${role}-meta.json`));
      assert.equal(own.complete, false);
      assert.match(own.incomplete_reason, /^interrupted \(SIGTERM\)$|^the peer disappeared/, role);
    }
    assertClosedCsv(join(cellDir, 'sender-frames.csv'), SENDER_COLUMNS, 60);
    // The cell's own meta.json was written at its start and never completed: a rerun picks it up.
    assert.notEqual(readJson<CellMeta>(join(cellDir, 'meta.json')).complete, true);
    const dry = await runCli(['run', spec, '--out', out, '--dry-run'], { timeoutMs: 30_000 });
    assert.doesNotMatch(dry.stdout + dry.stderr, /already done/);
  });
});

describe('testbed run over loopback (traces "none")', { timeout: 180_000 }, () => {
  it('a failing cell is recorded and the run goes on; exit 1 at the end; the next run retries only it', async () => {
    const dir = tempDir('run-fail');
    const spec = join(dir, 'fail.json');
    writeFileSync(
      spec,
      JSON.stringify({
        name: 'fail',
        duration_s: 2,
        // The external controller exits at once: the offer stops with one line and exit 1.
        arms: { broken: { offer: ['--rate-control', 'external', '--rate-control-cmd', 'false'] }, fixed: { offer: ['--rate-control', 'fixed'] } },
        traces: 'none',
      }),
    );
    const out = join(dir, 'out');
    const r = await runCli(['run', spec, '--out', out], { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\[1\/2\] broken__none__r0: FAILED in \S+: offer exited with 1: testbed: the external rate controller stopped/);
    assert.match(r.stderr, /\[2\/2\] fixed__none__r0: done in /);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /^testbed: some cells failed/);
    const rows = readCsv(join(out, 'summary.csv'));
    assert.deepEqual(rows.map((x) => [x.cell, x.complete]), [['broken__none__r0', '0'], ['fixed__none__r0', '1']]);
    assert.match(rows[0].incomplete_reason, /^offer exited with 1: /);
    const meta = readJson<CellMeta>(join(out, 'broken__none__r0', 'meta.json'));
    assert.equal(meta.complete, false);
    assert.equal(meta.peers.offer.exit_code, 1);

    const again = await runCli(['run', spec, '--out', out], { timeoutMs: 120_000 });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /broken__none__r0: running/);
    assert.match(again.stderr, /fixed__none__r0: skipped/);
  });


  it('records the rendered pictures, reports their PSNR and removes the recording', async () => {
    const dir = tempDir('run-psnr');
    const spec = join(dir, 'psnr.json');
    writeFileSync(
      spec,
      JSON.stringify({ name: 'psnr', duration_s: 4, warmup_s: 1, psnr: true, arms: { fixed: { offer: ['--rate-control', 'fixed', '--bitrate', 1500000] } }, traces: 'none' }),
    );
    const out = join(dir, 'out');
    const r = await runCli(['run', spec, '--out', out], { timeoutMs: 110_000 });
    assert.equal(r.code, 0, r.stderr);
    const cellDir = join(out, 'fixed__none__r0');
    const meta = readJson<CellMeta>(join(cellDir, 'meta.json'));
    assert.equal(meta.complete, true, meta.incomplete_reason ?? '');
    assert.equal(meta.link, null);
    assert.equal(meta.trace, null);
    assert.equal(meta.commands.offer[0], process.execPath, 'no namespace');
    assert.ok(meta.commands.answer.includes('--record-to'));
    assert.equal(existsSync(join(cellDir, 'link.csv')), false);
    assert.equal(existsSync(join(cellDir, 'recording.mp4')), false, 'the recording is removed after measuring');
    const summary = readJson<{ psnr: { meanDb: number; pictures: number } | null; psnr_error: string | null }>(join(cellDir, 'summary.json'));
    assert.equal(summary.psnr_error, null);
    const [row] = readCsv(join(out, 'summary.csv'));
    assert.equal(row.trace_family, 'none');
    assert.ok(Number(row.psnr_db) > 25 && Number(row.psnr_db) < 100, `PSNR ${row.psnr_db} dB`);
    assert.ok(summary.psnr!.pictures >= 100, `${summary.psnr!.pictures} pictures compared`);
    assert.equal(row.utilisation_pct, '');
    // Per picture: every rendered picture (warm-up included), with its frame id and render time.
    const rendered = readCsv(join(cellDir, 'frames.csv')).filter((r) => r.rendered === '1');
    const quality = assertClosedCsv(join(cellDir, 'quality.csv'), QUALITY_COLUMNS, rendered.length);
    assert.equal(quality.length, rendered.length);
    assert.deepEqual(new Set(quality.map((q) => q.frame_id)), new Set(rendered.map((r) => r.frame_id)));
    for (const q of quality) assert.ok(Number(q.psnr_db) > 20 && Number(q.psnr_y_db) > 20, `picture ${q.frame_id}: ${q.psnr_db} dB`);
  });

  it('SIGTERM mid-cell: the cell is recorded as interrupted (SIGTERM), no further cell runs, exit 143', async () => {
    const dir = tempDir('run-term');
    const spec = join(dir, 'term.json');
    writeFileSync(spec, JSON.stringify({ name: 'term', duration_s: 15, warmup_s: 1, arms: { a: { offer: ['--rate-control', 'fixed'] }, b: { offer: ['--rate-control', 'fixed'] } }, traces: 'none' }));
    const out = join(dir, 'out');
    const run = startCli(['run', spec, '--out', out], { timeoutMs: 90_000 });
    const cellDir = join(out, 'a__none__r0');
    await waitFor(() => csvLinesSoFar(join(cellDir, 'sender-frames.csv')) > 60, 60_000, 'two seconds streamed');
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /1 not run \(interrupted \(SIGTERM\)\)/);
    const meta = readJson<CellMeta>(join(cellDir, 'meta.json'));
    assert.equal(meta.complete, false);
    assert.equal(meta.incomplete_reason, 'interrupted (SIGTERM)');
    assertClosedCsv(join(cellDir, 'frames.csv'), JOINED_COLUMNS, 60);
    assert.equal(existsSync(join(out, 'b__none__r0', 'meta.json')), false);
  });
});
