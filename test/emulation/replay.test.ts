/**
 * Trace replay: the schedule on simulated time (drift-free, changes only, collapse of
 * overdue samples, loop, end, failure), then the real thing — a step trace replayed on
 * a shaped namespace link under a saturating UDP flow, measured per 1-s bin by the
 * receiver and by the link monitor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monotonicClock } from '../../src/clock';
import { readCsv } from '../../src/metrics/csv';
import { LINK_COLUMNS } from '../../src/metrics/rows';
import { monitorLinkToCsv, replayCapacity } from '../../src/emulation/link-monitor';
import { ShapedLink, detectShaping } from '../../src/emulation/netns';
import { LinkChange, TraceReplayer, linkReplayer } from '../../src/emulation/replay';
import type { Trace, TraceSample } from '../../src/emulation/traces/types';
import { rng } from '../helpers/random';
import { removeTempDirs, tempDir } from '../helpers/cli';
import { SimTime } from './sim-time';
import { SLOT_MS, UdpFlow } from './udp-flow';

const sample = (timeS: number, up: number, down = up, extra: Partial<TraceSample['up']> = {}): TraceSample => ({
  timeS,
  up: { kbit: up, ...extra },
  down: { kbit: down },
});

function traceOf(samples: TraceSample[], durationS: number, loop = false): Trace {
  return { name: 'test', family: 'step', source: 'hand-written', durationS, loop, samples };
}

/** A replayer whose apply takes `applyMs` of simulated time and logs what it was given. */
function simReplayer(trace: Trace, sim: SimTime, applyMs: number, extra: Partial<ConstructorParameters<typeof TraceReplayer>[0]> = {}) {
  const calls: { at: number; change: LinkChange }[] = [];
  const replayer = new TraceReplayer({
    trace,
    clock: sim,
    timer: sim,
    apply: async (change) => {
      calls.push({ at: sim.now(), change });
      await sim.sleep(applyMs);
    },
    ...extra,
  });
  return { replayer, calls };
}

test('replay schedule on simulated time', async (t) => {
  await t.test('drift-free: 200 changes 100 ms apart, late timers and 15 ms applies, no accumulated error', async () => {
    const random = rng(7);
    const sim = new SimTime(1000, () => random() * 8); // each timer fires 0–8 ms late
    const samples = Array.from({ length: 200 }, (_, i) => sample(i / 10, i % 2 ? 1000 : 2000));
    const { replayer } = simReplayer(traceOf(samples, 20), sim, 15);
    replayer.start();
    await sim.runUntil(1000 + 21_000);
    assert.deepEqual(await replayer.done, { reason: 'ended' });
    const log = replayer.applied;
    assert.equal(log.length, 200);
    log.forEach((c, i) => {
      assert.ok(Math.abs(c.scheduledMs - (1000 + i * 100)) < 1e-6);
      // issued within the timer's own lateness of the ideal time, whatever came before
      assert.ok(c.issuedMs - c.scheduledMs >= 0 && c.issuedMs - c.scheduledMs <= 8, `change ${i} issued ${c.issuedMs - c.scheduledMs} ms late`);
      assert.ok(Math.abs(c.doneMs - c.issuedMs - 15) < 1e-9);
    });
    const timing = replayer.timing();
    assert.equal(timing.changes, 200);
    assert.equal(timing.skipped, 0);
    assert.ok(timing.latenessMaxMs! <= 23 && timing.latenessMaxMs! >= 15, `max lateness ${timing.latenessMaxMs}`);
    assert.ok(Math.abs(timing.applyP50Ms! - 15) < 1e-9);
  });

  await t.test('issues only the directions that change; equal samples and the initial state issue nothing', async () => {
    const sim = new SimTime();
    const trace = traceOf([sample(0, 3000, 500), sample(1, 3000, 500), sample(2, 1000, 500), sample(3, 1000, 800), sample(4, 1000.2, 800.4)], 6);
    const { replayer, calls } = simReplayer(trace, sim, 5, { initial: { up: { kbit: 3000 }, down: { kbit: 500 } } });
    replayer.start(0);
    await sim.runUntil(10_000);
    assert.deepEqual(
      calls.map((c) => [c.at, c.change]),
      [
        [2000, { up: { kbit: 1000, delayMs: 0, lossPct: 0 } }],
        [3000, { down: { kbit: 800, delayMs: 0, lossPct: 0 } }],
      ],
    );
    assert.deepEqual(await replayer.done, { reason: 'ended' });
  });

  await t.test('delay and loss are applied only when emulated', async () => {
    const sim = new SimTime();
    const trace = traceOf([sample(0, 1000, 1000, { delayMs: 10 }), sample(1, 1000, 1000, { delayMs: 30, lossPct: 1 })], 2);
    const off = simReplayer(trace, sim, 5);
    off.replayer.start(0);
    await sim.runUntil(3000);
    assert.deepEqual(off.calls.map((c) => c.change.up), [{ kbit: 1000, delayMs: 0, lossPct: 0 }]);

    const sim2 = new SimTime();
    const on = simReplayer(trace, sim2, 5, { emulate: { delay: true, loss: true } });
    on.replayer.start(0);
    await sim2.runUntil(3000);
    assert.deepEqual(on.calls.map((c) => c.change.up), [
      { kbit: 1000, delayMs: 10, lossPct: 0 },
      { kbit: 1000, delayMs: 30, lossPct: 1 },
    ]);
  });

  await t.test('samples that fall due during a slow apply collapse into the latest one', async () => {
    const sim = new SimTime();
    const samples = Array.from({ length: 10 }, (_, i) => sample(i / 10, 1000 + i * 100));
    const { replayer, calls } = simReplayer(traceOf(samples, 1), sim, 250);
    replayer.start(0);
    await sim.runUntil(2000);
    // busy until 250: samples 1–2 due, 2 applied; until 500: 3–5, 5; until 750: 6–7, 7; until 1000: 8–9, 9
    assert.deepEqual(calls.map((c) => [c.at, c.change.up!.kbit]), [[0, 1000], [250, 1200], [500, 1500], [750, 1700], [1000, 1900]]);
    assert.equal(replayer.timing().skipped, 5);
    assert.deepEqual(replayer.applied.map((c) => c.skipped), [0, 1, 2, 1, 1]);
  });

  await t.test('loops on the ideal timeline; positionAt follows it', async () => {
    const sim = new SimTime(500);
    const { replayer } = simReplayer(traceOf([sample(0, 1000), sample(0.6, 2000)], 1, true), sim, 10);
    replayer.start();
    await sim.runUntil(500 + 3_700);
    assert.deepEqual(
      replayer.applied.map((c) => [c.pass, c.traceS, c.scheduledMs]),
      [[0, 0, 500], [0, 0.6, 1100], [1, 0, 1500], [1, 0.6, 2100], [2, 0, 2500], [2, 0.6, 3100], [3, 0, 3500], [3, 0.6, 4100]],
    );
    const p = replayer.positionAt(500 + 2_650);
    assert.equal(p.pass, 2);
    assert.ok(Math.abs(p.traceS - 0.65) < 1e-9);
    assert.equal(p.sample.up.kbit, 2000);
    assert.equal(replayer.positionAt(0).traceS, 0, 'before the start: time 0');
    await replayer.stop();
    assert.deepEqual(await replayer.done, { reason: 'stopped' });
    const n = replayer.applied.length;
    await sim.runUntil(10_000);
    assert.equal(replayer.applied.length, n, 'nothing after stop()');
  });

  await t.test('a lead issues changes early; a failing apply ends the replay', async () => {
    const sim = new SimTime();
    const { replayer } = simReplayer(traceOf([sample(0, 1000), sample(1, 2000)], 2), sim, 12, { leadMs: 12 });
    replayer.start(0);
    await sim.runUntil(3000);
    assert.deepEqual(replayer.applied.map((c) => [c.issuedMs, c.doneMs, c.latenessMs]), [[0, 12, 12], [988, 1000, 0]]);

    const sim2 = new SimTime();
    const failing = new TraceReplayer({
      trace: traceOf([sample(0, 1000), sample(1, 2000)], 2),
      clock: sim2,
      timer: sim2,
      initial: { up: { kbit: 1000 }, down: { kbit: 1000 } },
      apply: async () => {
        throw new Error('tc: no such device');
      },
    });
    failing.start(0);
    await sim2.runUntil(3000);
    const end = await failing.done;
    assert.equal(end.reason, 'failed');
    assert.match(end.error!.message, /no such device/);
  });

  await t.test('rejects traces it cannot schedule', () => {
    const sim = new SimTime();
    const make = (tr: Trace) => new TraceReplayer({ trace: tr, clock: sim, timer: sim, apply: async () => {} });
    assert.throws(() => make(traceOf([], 1)), /no samples/);
    assert.throws(() => make(traceOf([sample(1, 1000)], 2)), /first sample must be at 0/);
    assert.throws(() => make(traceOf([sample(0, 1), sample(2, 1), sample(1, 1)], 3)), /must increase/);
    assert.throws(() => make(traceOf([sample(0, 1), sample(2, 1)], 2)), /must exceed/);
  });
});

// ---------------------------------------------------------------------------------
// On a real link

const support = detectShaping();
const PORT = 5202;


function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

test('step trace replayed on a namespace link', { timeout: 60_000 }, async (t) => {
  if (!support.available) {
    t.skip(support.reason);
    return;
  }
  // up: 3000 → 1000 → 2000 kbit/s, 4 s each; down changes only at 8 s.
  const trace = traceOf([sample(0, 3000, 3000), sample(4, 1000, 3000), sample(8, 2000, 1500)], 12);
  // A deep queue (400 ms) keeps the link busy through sender stalls on a loaded machine.
  const link = await ShapedLink.up({ rateKbit: 3000, queueMs: 400 });
  const dir = tempDir('replay');
  let flow: UdpFlow | undefined;
  try {
    flow = await UdpFlow.start(link, 'a', 4000, PORT);

    // Time 0 on a 10-ms slot boundary 0.5 s ahead, so 1-s bins are whole slots and the
    // queue is already full when the trace starts.
    const t0 = (Math.floor(monotonicClock.now() / SLOT_MS) + 50) * SLOT_MS;
    const replayer = linkReplayer(link, trace, { clock: monotonicClock });
    const mon = monitorLinkToCsv(link, join(dir, 'link.csv'), { capacityAt: replayCapacity(replayer), startMs: t0 });
    const cpu0 = mon.source.pids.map(cpuMs);
    replayer.start(t0);
    const end = await replayer.done;
    assert.equal(end.reason, 'ended', end.error?.message);
    await flow.flushedUntil(t0 + 12_000);
    const cpu = mon.source.pids.map(cpuMs).reduce((s, v, i) => s + v - cpu0[i], 0);
    await mon.close();

    // Bins [t0 + j s, t0 + (j + 1) s); a bin in which a change landed is left out.
    const rxBytes = Array.from({ length: 12 }, (_, j) => flow!.bytes(t0 + j * 1000, t0 + (j + 1) * 1000));
    const changed = new Set(replayer.applied.flatMap((c) => [Math.floor((c.issuedMs - t0) / 1000), Math.floor((c.doneMs - t0) / 1000)]));
    const applied = replayer.applied.map((c) => `${c.traceS}s: ${c.change.up ? `up ${c.change.up.kbit}` : ''}${c.change.down ? ` down ${c.change.down.kbit}` : ''} +${c.latenessMs.toFixed(1)} ms`);
    t.diagnostic(`changes applied: ${applied.join('; ')}`);
    const timing = replayer.timing();
    t.diagnostic(`replay timing: lateness p50 ${timing.latenessP50Ms?.toFixed(1)} ms, max ${timing.latenessMaxMs?.toFixed(1)} ms; apply p50 ${timing.applyP50Ms?.toFixed(1)} ms, max ${timing.applyMaxMs?.toFixed(1)} ms`);
    assert.deepEqual(replayer.applied.map((c) => [c.traceS, Object.keys(c.change).sort().join()]), [[4, 'up'], [8, 'down,up']]);

    t.diagnostic(`received per bin (kbit/s): ${rxBytes.map((b, j) => `${j}:${((b * 8) / 1000).toFixed(1)}${changed.has(j) ? '*' : ''}`).join(' ')} (* = a change landed in it)`);
    const perStep = new Map<number, number[]>();
    for (let j = 0; j < 12; j++) {
      if (changed.has(j)) continue;
      const cap = trace.samples.filter((s) => s.timeS <= j).pop()!.up.kbit;
      const ratio = (rxBytes[j] * 8) / 1000 / cap;
      perStep.set(cap, [...(perStep.get(cap) ?? []), ratio]);
      assert.ok(Math.abs(ratio - 1) <= 0.05, `bin ${j}: ${((rxBytes[j] * 8) / 1000).toFixed(1)} kbit/s, trace ${cap} kbit/s`);
    }
    for (const [cap, ratios] of perStep) t.diagnostic(`${cap} kbit/s: ${ratios.length} bins, received/trace min ${Math.min(...ratios).toFixed(4)} max ${Math.max(...ratios).toFixed(4)}`);
    assert.equal(perStep.size, 3);
    assert.ok([...perStep.values()].every((r) => r.length >= 2), 'at least two whole bins per step');

    // The link monitor against the receiver, per bin.
    const rows = readCsv(join(dir, 'link.csv'));
    assert.deepEqual(Object.keys(rows[0]), [...LINK_COLUMNS]);
    const up = rows.filter((r) => r.direction === 'up').map((r) => ({ t: Number(r.time_ms), kbit: Number(r.throughput_kbit), cap: Number(r.capacity_kbit), traceS: Number(r.trace_s) }));
    const down = rows.filter((r) => r.direction === 'down');
    assert.equal(up.length, down.length);
    assert.ok(up.length >= 110, `${up.length} samples in 12 s`);
    const monBytes = new Array(12).fill(0);
    // Row i covers (previous reading, its time]; the first reading (the baseline) was at ~t0.
    // spread over the bins it overlaps at its mean rate.
    up.forEach((r, i) => {
      const from = i ? up[i - 1].t : t0;
      for (let j = Math.max(0, Math.floor((from - t0) / 1000)); j < 12 && t0 + j * 1000 < r.t; j++) {
        const overlap = Math.min(r.t, t0 + (j + 1) * 1000) - Math.max(from, t0 + j * 1000);
        if (overlap > 0) monBytes[j] += (r.kbit * overlap) / 8;
      }
    });
    const gaps = up.slice(1).map((r, i) => r.t - up[i].t);
    t.diagnostic(`monitor: ${up.length} samples per direction, interval ${Math.min(...gaps).toFixed(1)}–${Math.max(...gaps).toFixed(1)} ms, missed ticks ${mon.monitor.stats.missed}; tc CPU ${cpu.toFixed(0)} ms over 12 s (${(cpu / 120).toFixed(2)} % of a core)`);
    const rel = monBytes.map((b, j) => b / rxBytes[j] - 1);
    t.diagnostic(`link monitor vs receiver per bin: ${rel.map((r, j) => `${j}:${(r * 100).toFixed(2)}%${changed.has(j) ? '*' : ''}`).join(' ')}`);
    for (let j = 0; j < 12; j++) {
      if (!changed.has(j)) assert.ok(Math.abs(rel[j]) <= 0.03, `bin ${j}: monitor ${monBytes[j]} B, receiver ${rxBytes[j]} B`);
    }
    // Capacity and trace time columns follow the trace.
    for (const r of up) {
      if (r.traceS > 0.05 && Math.abs(r.traceS - 4) > 0.05 && Math.abs(r.traceS - 8) > 0.05) {
        assert.equal(r.cap, trace.samples.filter((s) => s.timeS <= r.traceS).pop()!.up.kbit, `capacity at ${r.traceS} s`);
      }
    }
    const downCaps = new Set(down.map((r) => r.capacity_kbit));
    assert.deepEqual([...downCaps].sort(), ['1500', '3000']);
    // b2a really is at 1500 kbit/s now (tc reports the rate in bytes/s).
    const q = JSON.parse(spawnSync('tc', ['-n', link.nsB, '-j', 'qdisc', 'show', 'dev', link.nsB], { encoding: 'utf8' }).stdout);
    assert.equal(q[0].options.rate, 1500 * 125);
  } finally {
    flow?.stop();
    await link.down();
    removeTempDirs();
  }
});
