/**
 * GCC closing the loop over a simulated bottleneck (sim.ts runBottleneck): the sender emits
 * 1200-byte packets at the current target every 5 ms through a drop-tail FIFO (100 kB) served
 * at the link capacity, 20 ms propagation each way, transport feedback every 100 ms, RTT told
 * once a second. No real time passes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Gcc } from '../../../src/sender/congestion/gcc';
import { between, mean, runBottleneck } from './sim';

const Mbps = 1_000_000;

describe('Gcc over a simulated bottleneck', () => {
  it('1 Mbit/s FIFO: the target converges just below capacity with a short queue', () => {
    const cc = new Gcc({ startBps: 300_000, minBps: 50_000, maxBps: 10 * Mbps });
    const r = runBottleneck({ cc, durationMs: 60_000, capacityBps: () => 1 * Mbps });
    const tail = between(r.samples, 40_000, 60_000);
    const targets = tail.map((s) => s.estimate.targetBps);
    const meanTarget = mean(targets);
    console.log(
      `  1 Mbit/s: target over 40–60 s mean ${(meanTarget / Mbps).toFixed(3)}, ` +
        `min ${(Math.min(...targets) / Mbps).toFixed(3)}, max ${(Math.max(...targets) / Mbps).toFixed(3)} Mbit/s; ` +
        `max queue ${Math.max(...tail.map((s) => s.queueDelayMs)).toFixed(0)} ms; lost ${r.lost}/${r.sent}`,
    );
    assert.ok(meanTarget < 1 * Mbps, 'mean target below capacity');
    assert.ok(meanTarget > 0.8 * Mbps, 'and not far below it');
    assert.ok(Math.max(...targets) < 1.1 * Mbps, 'overshoots stay small');
    assert.ok(Math.max(...tail.map((s) => s.queueDelayMs)) < 100, 'queue stays short');
    assert.equal(r.lost, 0);
  });

  it('2.5 → 1.0 → 2.5 Mbit/s: below the new capacity within 2 s of the drop, recovers after', () => {
    const cap = (t: number) => (t < 30_000 ? 2.5 * Mbps : t < 50_000 ? 1.0 * Mbps : 2.5 * Mbps);
    const cc = new Gcc({ startBps: 1.5 * Mbps, minBps: 50_000, maxBps: 10 * Mbps });
    const r = runBottleneck({ cc, durationMs: 80_000, capacityBps: cap });
    const s = r.samples;

    // Phase 1 (2.5 Mbit/s), last 10 s: converged below capacity.
    const p1 = mean(between(s, 20_000, 30_000).map((x) => x.estimate.targetBps));
    // The drop at 30 s: first sample with the target below 1.0 Mbit/s.
    const below = s.find((x) => x.tMs >= 30_000 && x.estimate.targetBps < 1.0 * Mbps)!;
    // Phase 2 (1.0 Mbit/s), last 10 s.
    const p2 = mean(between(s, 40_000, 50_000).map((x) => x.estimate.targetBps));
    // Phase 3 (2.5 Mbit/s again).
    const at20 = s.find((x) => x.tMs >= 70_000)!.estimate.targetBps;
    const p3 = mean(between(s, 70_000, 80_000).map((x) => x.estimate.targetBps));
    console.log(
      `  step: phase-1 mean ${(p1 / Mbps).toFixed(3)}; below 1.0 at +${((below.tMs - 30_000) / 1000).toFixed(1)} s; ` +
        `phase-2 mean ${(p2 / Mbps).toFixed(3)}; 20 s after recovery ${(at20 / Mbps).toFixed(3)}, ` +
        `70–80 s mean ${(p3 / Mbps).toFixed(3)} Mbit/s; max queue after drop ` +
        `${Math.max(...between(s, 30_000, 40_000).map((x) => x.queueDelayMs)).toFixed(0)} ms; lost ${r.lost}/${r.sent}`,
    );
    assert.ok(p1 < 2.5 * Mbps && p1 > 0.85 * 2.5 * Mbps, `phase 1 mean ${p1}`);
    assert.ok(below.tMs - 30_000 <= 2000, `below 1 Mbit/s ${below.tMs - 30_000} ms after the drop`);
    assert.ok(p2 < 1.0 * Mbps && p2 > 0.8 * Mbps, `phase 2 mean ${p2}`);
    assert.ok(at20 > 2.0 * Mbps, `recovered to ${at20} 20 s after the capacity came back`);
    assert.ok(p3 < 2.6 * Mbps, `phase 3 mean ${p3}`);
    // The figures, over each step's last 10 s: utilisation ≥ 80 %, p95 queueing ≤ 150 ms.
    for (const [from, to, capBps] of [
      [20_000, 30_000, 2.5 * Mbps],
      [40_000, 50_000, 1.0 * Mbps],
      [70_000, 80_000, 2.5 * Mbps],
    ] as const) {
      const w = between(s, from, to);
      const util = mean(w.map((x) => x.deliveredBps)) / capBps;
      const q = w.map((x) => x.queueDelayMs).sort((a, b) => a - b);
      const p95 = q[Math.min(q.length - 1, Math.ceil(0.95 * q.length) - 1)]!;
      console.log(`  ${from / 1000}–${to / 1000} s: utilisation ${(100 * util).toFixed(1)} %, p95 queueing ${p95.toFixed(0)} ms`);
      assert.ok(util >= 0.8, `utilisation ${util}`);
      assert.ok(p95 <= 150, `p95 queueing ${p95} ms`);
    }
    // The detector saw the drop as over-use, then the draining queue as under-use.
    const states = new Set(between(s, 30_000, 36_000).map((x) => x.estimate.detector));
    assert.ok(states.has('overusing') && states.has('underusing'));
  });

  it('application-limited sender: the estimate stays near the sent rate instead of growing', () => {
    // The encoder produces at most 200 kbit/s on a 2.5 Mbit/s path.
    const cc = new Gcc({ startBps: 300_000, minBps: 50_000, maxBps: 10 * Mbps });
    const r = runBottleneck({
      cc,
      durationMs: 60_000,
      capacityBps: () => 2.5 * Mbps,
      sendRateBps: (target) => Math.min(target, 200_000),
    });
    const later = between(r.samples, 3000, 60_000);
    const maxAcked = Math.max(...later.map((x) => x.estimate.ackedBps ?? 0));
    const maxTarget = Math.max(...later.map((x) => x.estimate.targetBps));
    console.log(
      `  ALR: max acknowledged ${(maxAcked / 1000).toFixed(1)} kbit/s, max target ${(maxTarget / 1000).toFixed(1)} kbit/s ` +
        `(cap 1.5·acked + 10 = ${((1.5 * maxAcked + 10_000) / 1000).toFixed(1)}); in ALR: ${cc.debug().inAlr}`,
    );
    assert.ok(maxTarget <= 1.5 * maxAcked + 10_000 + 1e-6);
    assert.ok(maxTarget < 400_000);
    assert.equal(cc.debug().inAlr, true);
  });
});
