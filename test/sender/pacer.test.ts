import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../helpers/random';

import {
  DEFAULT_BURST_INTERVAL_MS,
  DEFAULT_MAX_PROCESSING_INTERVAL_MS,
  DEFAULT_PACING_FACTOR,
  DEFAULT_QUEUE_TIME_LIMIT_MS,
  IntervalBudget,
  Pacer,
  PacketPriority,
} from '../../src/sender/pacer';

const PKT = 1200;
const RATES_BPS = [300_000, 1_000_000, 2_500_000, 6_000_000];



/**
 * Saturated queue of 1200-byte video packets (topped up before every call to at least
 * 100 ms worth of the pacing rate), process() at the times `nextTime` yields.
 * Returns bytes sent per 1-s window and the largest single process() output.
 */
function runSaturated(
  pacer: Pacer<number>,
  durationMs: number,
  nextTime: (t: number) => number,
  onTick?: (t: number) => void,
): { windows: number[]; maxCallBytes: number; calls: number } {
  const windows = new Array<number>(Math.ceil(durationMs / 1000)).fill(0);
  let id = 0;
  let t = 0;
  let maxCallBytes = 0;
  let calls = 0;
  while (t < durationMs) {
    onTick?.(t);
    const minQueued = (pacer.pacingRateBps / 8) * 0.1;
    while (pacer.queuedBytes < minQueued) pacer.enqueue(id++, PKT, 'video', t);
    const out = pacer.process(t);
    calls++;
    const bytes = out.length * PKT;
    windows[Math.floor(t / 1000)]! += bytes;
    maxCallBytes = Math.max(maxCallBytes, bytes);
    t = nextTime(t);
  }
  return { windows, maxCallBytes, calls };
}

function assertWindowsWithin(windows: number[], expectedBytes: number, tol: number, what: string): void {
  windows.forEach((b, i) => {
    const err = (b - expectedBytes) / expectedBytes;
    assert.ok(
      Math.abs(err) <= tol,
      `${what}: window ${i} sent ${b} B, expected ${expectedBytes.toFixed(0)} B (${(err * 100).toFixed(2)} %)`,
    );
  });
}

describe('IntervalBudget (interval_budget.cc)', () => {
  it('does not build up underuse', () => {
    const b = new IntervalBudget(800_000); // 100 B/ms
    b.increase(5);
    assert.equal(b.bytesRemaining, 500);
    b.increase(5); // nothing used: reset to this interval's bytes, not 1000
    assert.equal(b.bytesRemaining, 500);
  });

  it('carries overuse over and caps at ±500 ms worth (kWindowMs)', () => {
    const b = new IntervalBudget(800_000); // window = 50 000 B
    b.increase(5);
    b.use(1700);
    assert.equal(b.bytesRemaining, -1200);
    b.increase(5);
    assert.equal(b.bytesRemaining, -700);
    b.increase(10);
    assert.equal(b.bytesRemaining, 300);
    b.use(1_000_000);
    assert.equal(b.bytesRemaining, -50_000);
    b.increase(10_000);
    assert.equal(b.bytesRemaining, 50_000);
    b.setTargetRate(80_000); // window shrinks to 5000 B, remaining clamped
    assert.equal(b.bytesRemaining, 5000);
  });
});

describe('Pacer defaults', () => {
  it('uses the libwebrtc constants', () => {
    assert.equal(DEFAULT_PACING_FACTOR, 2.5);
    assert.equal(DEFAULT_BURST_INTERVAL_MS, 5);
    assert.equal(DEFAULT_QUEUE_TIME_LIMIT_MS, 2000);
    assert.equal(DEFAULT_MAX_PROCESSING_INTERVAL_MS, 30);
    const p = new Pacer<number>(1_000_000);
    assert.equal(p.pacingRateBps, 2_500_000);
    assert.equal(new Pacer<number>(1_000_000, { pacingFactor: 1.5 }).pacingRateBps, 1_500_000);
  });

  it('rejects invalid arguments', () => {
    assert.throws(() => new Pacer<number>(-1), RangeError);
    assert.throws(() => new Pacer<number>(NaN), RangeError);
    assert.throws(() => new Pacer<number>(1e6, { pacingFactor: 0 }), RangeError);
    assert.throws(() => new Pacer<number>(1e6, { queueTimeLimitMs: -5 }), RangeError);
    const p = new Pacer<number>(1e6);
    assert.throws(() => p.enqueue(1, -1, 'video', 0), RangeError);
    assert.throws(() => p.enqueue(1, 100, 'audio' as PacketPriority, 0), RangeError);
    assert.throws(() => p.process(NaN), RangeError);
  });
});

describe('Pacer rate accuracy (saturated queue, 1200-byte packets)', () => {
  for (const target of RATES_BPS) {
    const expected = (DEFAULT_PACING_FACTOR * target) / 8; // bytes per 1-s window

    it(`process() every 5 ms at ${target / 1e6} Mbit/s: every 1-s window within ±5 % of 2.5 × target`, () => {
      const pacer = new Pacer<number>(target);
      const r = runSaturated(pacer, 10_000, (t) => t + 5);
      assert.equal(r.windows.length, 10);
      assertWindowsWithin(r.windows, expected, 0.05, `${target} bit/s, 5 ms`);
      // Bursts: one call never sends more than 5 ms worth + the packet that overdraws.
      assert.ok(r.maxCallBytes <= (pacer.pacingRateBps / 8000) * 5 + PKT, `burst ${r.maxCallBytes} B`);
      // The drain logic must not have kicked in with a ~100 ms queue.
      assert.equal(pacer.effectiveRateBps, pacer.pacingRateBps);
    });

    it(`irregular 1–12 ms calls at ${target / 1e6} Mbit/s: every 1-s window within ±5 %`, () => {
      const pacer = new Pacer<number>(target);
      const rand = rng(target);
      const r = runSaturated(pacer, 10_000, (t) => t + 1 + 11 * rand());
      assertWindowsWithin(r.windows, expected, 0.05, `${target} bit/s, irregular`);
      assert.ok(r.maxCallBytes <= (pacer.pacingRateBps / 8000) * 12 + PKT, `burst ${r.maxCallBytes} B`);
    });

    it(`caller driven by nextProcessTimeMs() at ${target / 1e6} Mbit/s: every 1-s window within ±5 %`, () => {
      const pacer = new Pacer<number>(target);
      const r = runSaturated(pacer, 10_000, (t) => {
        const next = pacer.nextProcessTimeMs(t);
        assert.notEqual(next, null);
        assert.ok(next! > t, `next ${next} must be after ${t} on a saturated queue`);
        return next!;
      });
      assertWindowsWithin(r.windows, expected, 0.05, `${target} bit/s, nextProcessTimeMs`);
      // Never more often than every 5 ms (kDefaultMinPacketLimit), never less than every 30 ms.
      assert.ok(r.calls <= 10_000 / 5 + 1, `calls ${r.calls}`);
      assert.ok(r.calls >= 10_000 / 30, `calls ${r.calls}`);
    });
  }

  it('at 0.3 Mbit/s the event-driven caller waits for the debt instead of polling every 5 ms', () => {
    const pacer = new Pacer<number>(300_000); // 93.75 B/ms: one 1200-byte packet per 12.8 ms
    const r = runSaturated(pacer, 10_000, (t) => pacer.nextProcessTimeMs(t)!);
    // About one call per packet (~78/s), well below the 200/s of a 5-ms poll.
    assert.ok(r.calls < 10 * 100, `calls ${r.calls}`);
    assert.ok(r.calls > 10 * 60, `calls ${r.calls}`);
  });

  it('a late process() is credited at most kMaxProcessingInterval (30 ms) of budget', () => {
    const pacer = new Pacer<number>(1_000_000); // 312.5 B/ms
    for (let i = 0; i < 200; i++) pacer.enqueue(i, PKT, 'video', 0);
    pacer.process(0);
    pacer.process(5);
    const out = pacer.process(1005); // 1 s late
    const credited = 312.5 * 30;
    assert.ok(out.length * PKT >= credited - PKT && out.length * PKT <= credited + 2 * PKT, `${out.length} packets`);
  });
});

describe('Pacer rate change', () => {
  it('takes effect at once, up and down', () => {
    const pacer = new Pacer<number>(1_000_000, { queueTimeLimitMs: null });
    const bins100 = new Map<number, number>();
    let id = 0;
    const changes: [number, number][] = [
      [5002.5, 3_000_000],
      [8001, 500_000],
    ];
    for (let t = 0; t < 11_000; t += 5) {
      while (changes.length > 0 && changes[0]![0] <= t) {
        const [at, rate] = changes.shift()!;
        pacer.setTargetRate(rate, at);
        assert.equal(pacer.pacingRateBps, 2.5 * rate);
      }
      while (pacer.queuedBytes < 200_000) pacer.enqueue(id++, PKT, 'video', t);
      const n = pacer.process(t).length;
      const bin = Math.floor(t / 100);
      bins100.set(bin, (bins100.get(bin) ?? 0) + n * PKT);
    }
    const sum = (from: number, to: number): number => {
      let s = 0;
      for (let b = from / 100; b < to / 100; b++) s += bins100.get(b) ?? 0;
      return s;
    };
    // The first 100 ms after each change already run at the new rate (±1 packet + 5 ms).
    // Bytes sent in a window = budget credited in it ± the one packet that overdraws.
    const near = (got: number, want: number, what: string): void =>
      assert.ok(Math.abs(got - want) <= PKT, `${what}: ${got} B vs ${want} B`);
    near(sum(4900, 5000), 2.5e6 / 8 / 10, 'before up-change');
    // Calls at 5000..5095 credit (4995, 5095]: 7.5 ms at the old rate, 92.5 ms at the new.
    near(sum(5000, 5100), (2.5e6 / 8000) * 7.5 + (7.5e6 / 8000) * 92.5, '100 ms containing the change');
    near(sum(5100, 5200), 7.5e6 / 8 / 10, 'first full 100 ms after up-change');
    near(sum(8100, 8200), 1.25e6 / 8 / 10, 'first full 100 ms after down-change');
    // Whole seconds after the changes: ±5 %.
    assertWindowsWithin([sum(6000, 7000), sum(7000, 8000)], 7.5e6 / 8, 0.05, '3 Mbit/s');
    assertWindowsWithin([sum(9000, 10_000), sum(10_000, 11_000)], 1.25e6 / 8, 0.05, '0.5 Mbit/s');
  });
});

describe('Pacer priority', () => {
  it('strict priority retransmission > backup > video > padding, FIFO within a class', () => {
    const pacer = new Pacer<string>(1_000_000);
    const order: [string, PacketPriority][] = [
      ['v1', 'video'],
      ['p1', 'padding'],
      ['b1', 'backup'],
      ['v2', 'video'],
      ['r1', 'retransmission'],
      ['p2', 'padding'],
      ['b2', 'backup'],
      ['r2', 'retransmission'],
      ['v3', 'video'],
      ['b3', 'backup'],
    ];
    // Put the pacer in debt first so nothing leaves while the queue is filled.
    pacer.enqueue('x', 5000, 'video', 0);
    assert.deepEqual(pacer.process(0), ['x']);
    for (const [id, prio] of order) pacer.enqueue(id, 100, prio, 1);
    assert.deepEqual(pacer.process(1), []);
    const sent: string[] = [];
    for (let t = 5; sent.length < order.length && t < 1000; t += 5) sent.push(...pacer.process(t));
    assert.deepEqual(sent, ['r1', 'r2', 'b1', 'b2', 'b3', 'v1', 'v2', 'v3', 'p1', 'p2']);
  });

  it('a backup packet enqueued after 50 queued video packets goes out first', () => {
    const pacer = new Pacer<string>(1_000_000); // 312.5 B/ms: 1562.5 B per 5 ms
    for (let i = 0; i < 50; i++) pacer.enqueue(`v${i}`, PKT, 'video', 0);
    const first = pacer.process(0);
    assert.deepEqual(first, ['v0', 'v1']); // initial 5 ms of budget, the 2nd overdraws
    assert.equal(pacer.queuedPackets, 48);
    pacer.enqueue('backup-P', PKT, 'backup', 2);
    const next = pacer.process(5);
    assert.equal(next[0], 'backup-P');
    assert.deepEqual(next, ['backup-P']);
    const rest: string[] = [];
    for (let t = 10; pacer.queuedPackets > 0; t += 5) rest.push(...pacer.process(t));
    assert.deepEqual(rest, Array.from({ length: 48 }, (_, i) => `v${i + 2}`));
  });

  it('retransmissions pre-empt queued backup and video packets', () => {
    const pacer = new Pacer<string>(1_000_000);
    for (let i = 0; i < 10; i++) pacer.enqueue(`v${i}`, PKT, 'video', 0);
    for (let i = 0; i < 3; i++) pacer.enqueue(`b${i}`, PKT, 'backup', 0);
    assert.deepEqual(pacer.process(0), ['b0', 'b1']);
    pacer.enqueue('rtx', PKT, 'retransmission', 3);
    assert.deepEqual(pacer.process(5), ['rtx']);
    assert.deepEqual(pacer.process(10), ['b2']);
    assert.deepEqual(pacer.process(15), ['v0', 'v1']);
  });
});

describe('Pacer idle behaviour', () => {
  it('a fresh pacer sends a small packet on the very next process()', () => {
    const pacer = new Pacer<string>(300_000);
    pacer.enqueue('a', 200, 'video', 1000);
    assert.equal(pacer.nextProcessTimeMs(1000), 1000);
    assert.deepEqual(pacer.process(1000), ['a']);
    assert.equal(pacer.queuedPackets, 0);
    assert.equal(pacer.nextProcessTimeMs(1000), null);
  });

  it('after a busy period and a pause, a small frame leaves with no added delay', () => {
    const pacer = new Pacer<string>(1_000_000);
    for (let i = 0; i < 20; i++) pacer.enqueue(`v${i}`, PKT, 'video', 0);
    let t = 0;
    while (pacer.queuedPackets > 0) {
      pacer.process(t);
      t = pacer.nextProcessTimeMs(t) ?? t;
    }
    // Idle for 40 ms without any process() call, then a 2-packet frame.
    const t1 = t + 40;
    pacer.enqueue('f0', 500, 'video', t1);
    pacer.enqueue('f1', 500, 'video', t1);
    assert.equal(pacer.nextProcessTimeMs(t1), t1);
    assert.deepEqual(pacer.process(t1), ['f0', 'f1']);
  });

  it('idle time is worth at most one burst interval (5 ms) of budget, not 30 ms', () => {
    const pacer = new Pacer<number>(1_000_000); // 312.5 B/ms → 1562.5 B per 5 ms
    pacer.process(0);
    for (let i = 0; i < 10; i++) pacer.enqueue(i, PKT, 'video', 1000);
    assert.deepEqual(pacer.process(1000), [0, 1]); // 1562.5 B → 2 packets, not 8 (30 ms)
    assert.equal(pacer.nextProcessTimeMs(1000), 1005);
  });

  it('a packet arriving while the pacer is in debt waits for the debt to be paid', () => {
    const pacer = new Pacer<string>(200_000); // 500 kbit/s pacing = 62.5 B/ms
    pacer.enqueue('big', PKT, 'video', 0);
    assert.deepEqual(pacer.process(0), ['big']); // budget 312.5 - 1200 = -887.5 B
    pacer.enqueue('small', 100, 'video', 3);
    assert.deepEqual(pacer.process(3), []); // -887.5 + 3 × 62.5 < 0
    const next = pacer.nextProcessTimeMs(3)!;
    assert.equal(next, 15); // 887.5 / 62.5 = 14.2 ms → whole ms after 3 + 11.2
    assert.deepEqual(pacer.process(next - 1), []);
    assert.deepEqual(pacer.process(next), ['small']);
  });
});

describe('Pacer queue-time limit (drain_large_queues_)', () => {
  function drain1MB(limit: number | null): { lastSendMs: number; maxEffective: number; sentBytes: number } {
    const pacer = new Pacer<number>(1_000_000, { queueTimeLimitMs: limit }); // 312.5 kB/s pacing
    const n = Math.ceil(1_000_000 / PKT); // 834 packets
    for (let i = 0; i < n; i++) pacer.enqueue(i, PKT, 'video', 0);
    assert.equal(pacer.queuedBytes, n * PKT);
    assert.ok(Math.abs(pacer.expectedQueueTimeMs() - (n * PKT * 8000) / 2.5e6) < 1e-6);
    let lastSendMs = -1;
    let sentBytes = 0;
    let maxEffective = 0;
    for (let t = 0; pacer.queuedPackets > 0 && t < 10_000; t += 5) {
      const out = pacer.process(t);
      if (out.length > 0) lastSendMs = t;
      sentBytes += out.length * PKT;
      maxEffective = Math.max(maxEffective, pacer.effectiveRateBps);
    }
    assert.equal(pacer.queuedPackets, 0);
    assert.equal(pacer.queuedBytes, 0);
    return { lastSendMs, maxEffective, sentBytes };
  }

  it('drains a 1 MB queue within ~2 s by raising the rate', () => {
    const r = drain1MB(2000);
    assert.equal(r.sentBytes, 834 * PKT);
    assert.ok(r.lastSendMs >= 1950 && r.lastSendMs <= 2005, `drained at ${r.lastSendMs} ms`);
    assert.ok(r.maxEffective > 2.5e6 * 1.5, `effective rate ${r.maxEffective}`);
  });

  it('without the limit the same queue takes 1 MB / 2.5 Mbit/s ≈ 3.2 s', () => {
    const r = drain1MB(null);
    assert.ok(Math.abs(r.lastSendMs - 3200) <= 10, `drained at ${r.lastSendMs} ms`);
    assert.equal(r.maxEffective, 2.5e6);
  });

  it('does not speed up a queue that meets the limit at the pacing rate', () => {
    const pacer = new Pacer<number>(1_000_000);
    for (let i = 0; i < 333; i++) pacer.enqueue(i, PKT, 'video', 0); // 399.6 kB → 1279 ms
    let last = 0;
    for (let t = 0; pacer.queuedPackets > 0; t += 5) {
      if (pacer.process(t).length > 0) last = t;
      assert.equal(pacer.effectiveRateBps, 2.5e6);
    }
    assert.ok(Math.abs(last - 1279) <= 10, `drained at ${last} ms`);
  });

  it('tracks the average queue time as libwebrtc does', () => {
    const pacer = new Pacer<number>(100_000, { queueTimeLimitMs: null });
    pacer.process(0);
    pacer.enqueue(1, 100, 'video', 0);
    pacer.enqueue(2, 100, 'video', 0);
    pacer.process(0); // budget 5 ms × 31.25 B/ms = 156.25 B: #1 leaves 56.25 B, #2 overdraws it
    assert.equal(pacer.queuedPackets, 0);
    pacer.enqueue(3, 5000, 'video', 10);
    pacer.enqueue(4, 5000, 'video', 20);
    assert.equal(pacer.averageQueueTimeMs(30), (20 + 10) / 2);
  });
});

describe('Pacer queue state and nextProcessTimeMs', () => {
  it('reports sizes, expected queue time and the oldest enqueue time across classes', () => {
    const pacer = new Pacer<string>(1_000_000);
    assert.equal(pacer.oldestEnqueueTimeMs(), null);
    assert.equal(pacer.expectedQueueTimeMs(), 0);
    pacer.enqueue('debt', 3000, 'video', 0);
    pacer.process(0);
    pacer.enqueue('v', 1000, 'video', 10);
    pacer.enqueue('pad', 500, 'padding', 12);
    pacer.enqueue('r', 250, 'retransmission', 14);
    assert.equal(pacer.queuedPackets, 3);
    assert.equal(pacer.queuedBytes, 1750);
    assert.equal(pacer.expectedQueueTimeMs(), (1750 * 8000) / 2.5e6);
    assert.equal(pacer.oldestEnqueueTimeMs(), 10);
    const out: string[] = [];
    for (let t = 15; pacer.queuedPackets > 0; t += 5) out.push(...pacer.process(t));
    assert.deepEqual(out, ['r', 'v', 'pad']);
    assert.equal(pacer.oldestEnqueueTimeMs(), null);
    assert.equal(pacer.queuedBytes, 0);
  });

  it('nextProcessTimeMs: null when empty, now when a packet can go, +5 ms with a small debt, ≤ +30 ms', () => {
    const pacer = new Pacer<number>(1_000_000);
    assert.equal(pacer.nextProcessTimeMs(0), null);
    for (let i = 0; i < 10; i++) pacer.enqueue(i, PKT, 'video', 100);
    assert.equal(pacer.nextProcessTimeMs(100), 100);
    pacer.process(100); // budget now -837.5 B: 2.7 ms of debt < one burst interval
    assert.equal(pacer.nextProcessTimeMs(100), 105);
    assert.equal(pacer.nextProcessTimeMs(103), 105);
    assert.equal(pacer.nextProcessTimeMs(107), 107); // overdue: now

    const slow = new Pacer<number>(40_000); // 100 kbit/s pacing = 12.5 B/ms
    for (let i = 0; i < 3; i++) slow.enqueue(i, PKT, 'video', 0);
    assert.deepEqual(slow.process(0), [0]); // debt 1200 - 62.5 = 1137.5 B = 91 ms
    assert.equal(slow.nextProcessTimeMs(0), 30); // capped at kMaxProcessingInterval
    assert.deepEqual(slow.process(30), []);
    assert.equal(slow.nextProcessTimeMs(30), 60);
    assert.deepEqual(slow.process(60), []);
    assert.equal(slow.nextProcessTimeMs(60), 90);
    assert.deepEqual(slow.process(90), []); // -1137.5 + 90 × 12.5 = -12.5
    assert.equal(slow.nextProcessTimeMs(90), 95); // 1 ms of debt → one burst interval
    assert.deepEqual(slow.process(95), [1]);
  });

  it('clamps a time that goes backwards (PacingController::CurrentTime)', () => {
    const pacer = new Pacer<number>(1_000_000);
    for (let i = 0; i < 10; i++) pacer.enqueue(i, PKT, 'video', 100);
    pacer.process(100);
    assert.deepEqual(pacer.process(50), []); // treated as 100: no budget credited
    assert.equal(pacer.process(105).length, 1);
  });
});

describe('Pacer remove (key-frame flushing)', () => {
  it('takes the selected packets out of every class, keeps the order and the books of the rest', () => {
    const p = new Pacer<string>(1_000_000);
    p.enqueue('v1', 1000, 'video', 0);
    p.enqueue('b1', 500, 'backup', 10);
    p.enqueue('v2', 1000, 'video', 20);
    p.enqueue('r1', 800, 'retransmission', 30);
    p.enqueue('v3', 1000, 'video', 40);
    const removed = p.remove((x) => x === 'v1' || x === 'v2' || x === 'r1', 50);
    assert.deepEqual(removed, ['r1', 'v1', 'v2']);
    assert.equal(p.queuedPackets, 2);
    assert.equal(p.queuedBytes, 1500);
    // The two left waited 40 and 10 ms at t = 50.
    assert.equal(p.averageQueueTimeMs(50), 25);
    assert.equal(p.oldestEnqueueTimeMs(), 10);
    const out: string[] = [];
    for (let t = 50; p.queuedPackets > 0; t += 5) out.push(...p.process(t));
    assert.deepEqual(out, ['b1', 'v3']);
    assert.deepEqual(p.remove(() => true, 100), []);
    assert.equal(p.averageQueueTimeMs(100), 0);
  });
});
