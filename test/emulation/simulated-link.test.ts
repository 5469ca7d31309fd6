/**
 * The simulated link on its own: capacity (fixed and from a trace, outages), tail drop at
 * the queue limit (ms or bytes), delay, the loss pattern and seeded loss, reordering.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedLink, type LinkDirectionOptions } from '../../src/emulation/simulated-link';
import { stepTrace } from '../../src/emulation/traces/synthetic';
import { SimTime } from '../../src/sim/sim-time';

const OVERHEAD = 38;
const PACKET = 1200 - OVERHEAD;

/** Sends `packets()` RTP-like packets every `everyMs` up to `untilMs`; returns arrivals (time, index). */
async function flow(up: LinkDirectionOptions, o: { everyMs: number; perTick: number; untilMs: number; runMs?: number }) {
  const time = new SimTime(0);
  const link = new SimulatedLink(time, { up, down: { kbit: 1000 }, overheadBytes: OVERHEAD });
  const arrivals: { t: number; index: number }[] = [];
  link.b.onRtp = (buf, t) => arrivals.push({ t, index: buf.readUInt32BE(4) });
  let index = 0;
  const tick = () => {
    if (time.now() >= o.untilMs) return;
    for (let i = 0; i < o.perTick; i++) {
      const p = Buffer.alloc(PACKET);
      p[0] = 0x80;
      p[1] = 96;
      p.writeUInt32BE(index++, 4);
      link.a.sendRtp(p);
    }
    time.setTimeout(tick, o.everyMs);
  };
  tick();
  await time.runUntil(o.runMs ?? o.untilMs + 2000);
  return { arrivals, link, sent: index };
}

/** Delivered kbit/s per 1-s bin (IP bytes: packet + overhead). */
function perSecond(arrivals: { t: number }[], seconds: number): number[] {
  const bins = new Array(seconds).fill(0);
  for (const a of arrivals) if (a.t < seconds * 1000) bins[Math.floor(a.t / 1000)] += (1200 * 8) / 1000;
  return bins;
}

describe('SimulatedLink', () => {
  it('serves a saturating flow at the fixed capacity (IP bytes), per second', async () => {
    const { arrivals } = await flow({ kbit: 2000, queueMs: 200 }, { everyMs: 5, perTick: 2, untilMs: 5000 });
    for (const kbit of perSecond(arrivals, 5)) assert.ok(Math.abs(kbit / 2000 - 1) <= 0.01, `${kbit} kbit/s`);
  });

  it('follows a trace, with an outage in which nothing passes', async () => {
    const trace = stepTrace('t', [{ kbit: 3000, seconds: 2 }, { kbit: 0, seconds: 1 }, { kbit: 1000, seconds: 2 }]);
    const { arrivals } = await flow({ trace, queueBytes: 20_000 }, { everyMs: 5, perTick: 2, untilMs: 5000 });
    const bins = perSecond(arrivals, 5);
    assert.ok(Math.abs(bins[0] / 3000 - 1) <= 0.01 && Math.abs(bins[1] / 3000 - 1) <= 0.01, `${bins}`);
    // During the outage at most the packet in service when it began gets out.
    assert.ok(bins[2] <= 1200 * 8 / 1000, `outage: ${bins[2]} kbit/s`);
    assert.ok(Math.abs(bins[4] / 1000 - 1) <= 0.01, `${bins}`);
  });

  it('drops at the tail when the queue holds more than its limit in ms of capacity, or in bytes', async () => {
    // 20 packets at once into a 1000 kbit/s link with a 48 ms queue = 6000 bytes = 5 packets.
    const byMs = await flow({ kbit: 1000, queueMs: 48 }, { everyMs: 1000, perTick: 20, untilMs: 1 });
    assert.equal(byMs.arrivals.length, 5);
    assert.deepEqual(byMs.arrivals.map((a) => a.index), [0, 1, 2, 3, 4], 'the first ones pass, the tail is dropped');
    assert.equal(byMs.link.up.counters.queueDrops, 15);
    const byBytes = await flow({ kbit: 1000, queueBytes: 3600 }, { everyMs: 1000, perTick: 20, untilMs: 1 });
    assert.equal(byBytes.arrivals.length, 3);
  });

  it('adds the propagation delay after the queue', async () => {
    const { arrivals } = await flow({ kbit: 1000, delayMs: 40 }, { everyMs: 100, perTick: 1, untilMs: 1 });
    // 1200 B at 1000 kbit/s: 9.6 ms in service, then 40 ms.
    assert.equal(arrivals.length, 1);
    assert.ok(Math.abs(arrivals[0].t - 49.6) < 1e-9, `${arrivals[0].t}`);
  });

  it('drops what the loss pattern names, and a seeded random share the same way on every run', async () => {
    const pattern = await flow({ kbit: 5000, drop: (_p, i) => i % 10 === 3 }, { everyMs: 10, perTick: 1, untilMs: 1000 });
    assert.equal(pattern.link.up.counters.lossDrops, 10);
    assert.ok(!pattern.arrivals.some((a) => a.index % 10 === 3));
    const a = await flow({ kbit: 5000, lossPct: 10, seed: 7 }, { everyMs: 5, perTick: 1, untilMs: 10_000 });
    const b = await flow({ kbit: 5000, lossPct: 10, seed: 7 }, { everyMs: 5, perTick: 1, untilMs: 10_000 });
    assert.deepEqual(a.arrivals, b.arrivals);
    const lost = 1 - a.arrivals.length / a.sent;
    assert.ok(lost > 0.08 && lost < 0.12, `lost ${(100 * lost).toFixed(1)} %`);
  });

  it('reorders: every n-th packet is overtaken by the ones after it', async () => {
    const { arrivals } = await flow({ kbit: 5000, reorder: { every: 4, delayMs: 15 } }, { everyMs: 5, perTick: 1, untilMs: 200 });
    const order = arrivals.map((a) => a.index);
    assert.equal(order.length, 40);
    assert.notDeepEqual(order, [...order].sort((x, y) => x - y));
    // Packet 3 (the 4th, sent at 15 ms) arrives 15 ms late, at 31.92 ms: packets 4 and 5
    // (sent 5 and 10 ms after it) overtake it; 6 arrives at the same moment, after it.
    assert.deepEqual(order.slice(0, 8), [0, 1, 2, 4, 5, 3, 6, 8]);
  });
});
