/**
 * The detector's decisions on hand-built one-way-delay patterns, replayed as transport feedback.
 *
 * The packet pattern throughout: a group of two 1250-byte packets (sent 1 ms apart) every 10 ms
 * = 2 Mbit/s. Groups are 10 ms apart because a group cannot start exactly 5 ms after the
 * previous one (a new group needs send time − group start > 5 ms); "delay growing 1 ms per
 * 5 ms" is therefore +2 ms per 10-ms group (slope 0.2: arrivals 12 ms apart for 10 ms of sending).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DelayBasedBwe } from '../../../src/sender/congestion/delay-based-bwe';
import { FixedRate } from '../../../src/sender/congestion/fixed';
import { Gcc, type GccDebugState } from '../../../src/sender/congestion/gcc';
import type { NetworkEstimate, TransportFeedback } from '../../../src/sender/congestion/types';
import { feedbackEvery, packetTrain, type SyntheticPacket } from './sim';

const STEADY_GROUPS = 100; // 1 s of constant delay first: window full, acknowledged rate known

function train(groups: number, owd: (k: number) => number): SyntheticPacket[] {
  return packetTrain({ groups, groupIntervalMs: 10, packetsPerGroup: 2, sizeBytes: 1250, owd });
}

/** Replays feedback (every 100 ms, 20 ms back to the sender) and returns the estimate after each. */
function replay(cc: Gcc, fbs: TransportFeedback[]): Array<{ fb: TransportFeedback; est: NetworkEstimate; dbg: GccDebugState }> {
  return fbs.map((fb) => {
    cc.onTransportFeedback(fb);
    return { fb, est: cc.estimate(fb.feedbackArrivalMs), dbg: cc.debug() };
  });
}

describe('delay-based detection, group by group (DelayBasedBwe)', () => {
  it('over-use: the 2nd consecutive group above the threshold (10 ms later) flips to overusing', () => {
    // One-way delay 50 ms for groups 0–99, then +2 ms per group.
    const pk = train(130, (k) => 50 + 2 * Math.max(0, k - (STEADY_GROUPS - 1)));
    const d = new DelayBasedBwe({ startBps: 2_500_000, minBps: 50_000 });
    const log: Array<{ k: number; m: number; thr: number; state: string }> = [];
    for (let k = 0; k < 130; k++) {
      // One feedback per group (its two packets), at the group's last arrival.
      const g = pk.slice(2 * k, 2 * k + 2).map((p) => ({ sendTimeMs: p.sendTimeMs, arrivalTimeMs: p.arrivalTimeMs!, sizeBytes: p.sizeBytes }));
      d.incomingPacketFeedbackVector(g, null, false, g[1]!.arrivalTimeMs);
      log.push({ k, m: d.modifiedTrend, thr: d.threshold, state: d.state });
    }
    // Steady part: trend 0, so the threshold decays from 12.5 with k_down 0.039 per ms of
    // arrival spacing (10 ms): ×(1 − 0.39) per group → clamped at 6 within a few groups.
    for (const r of log.slice(0, STEADY_GROUPS)) assert.equal(r.state, 'normal');
    assert.equal(log[STEADY_GROUPS - 1]!.thr, 6);
    // Growth: a group pair's delta (+2 ms) is computed when the next group starts, so the
    // accumulated delay is 2, 4, 6 … from group 101 on and the smoothed delay
    // s_j = 0.9·s_{j−1} + 0.1·2j (0.2, 0.58, 1.122, 1.81, 2.63, 3.57, 4.61, 5.75, 6.97 …) lags it.
    // The 20-point slope (×60 deltas ×4) crosses the threshold at group 109:
    //   group 108: m = 5.28 < 6        → normal
    //   group 109: m = 6.73 > 6        → timer = 10/2 = 5 ms, counter 1 → still normal
    //   group 110: m = 8.30 > 6.31     → timer = 5 + 10 = 15 ms > 10, counter 2 → overusing
    // (threshold at 109: 6 + 0.0087·(6.727 − 6)·12 ms = 6.076 — k_up, arrivals now 12 ms apart)
    const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 0.005, `${a} ≉ ${b}`);
    near(log[108]!.m, 5.282);
    near(log[109]!.m, 6.727);
    near(log[109]!.thr, 6.076);
    near(log[110]!.m, 8.299);
    assert.deepEqual(
      log.slice(100, 112).map((r) => r.state),
      ['normal', 'normal', 'normal', 'normal', 'normal', 'normal', 'normal', 'normal', 'normal', 'normal', 'overusing', 'overusing'],
    );
  });

  it('under-use: a draining queue (−2 ms per group) flips to underusing as soon as m < −threshold', () => {
    const pk = train(130, (k) => 100 - 2 * Math.min(30, Math.max(0, k - (STEADY_GROUPS - 1))));
    const d = new DelayBasedBwe({ startBps: 2_500_000, minBps: 50_000 });
    const states: string[] = [];
    for (let k = 0; k < 130; k++) {
      const g = pk.slice(2 * k, 2 * k + 2).map((p) => ({ sendTimeMs: p.sendTimeMs, arrivalTimeMs: p.arrivalTimeMs!, sizeBytes: p.sizeBytes }));
      d.incomingPacketFeedbackVector(g, null, false, g[1]!.arrivalTimeMs);
      states.push(d.state);
    }
    // Mirror image of the over-use case: group 108 m = −5.91 (normal), 109 m = −7.82 < −6 → underusing
    // at once (no timer for under-use).
    assert.deepEqual(states.slice(107, 111), ['normal', 'normal', 'underusing', 'underusing']);
  });
  it('restarts grouping, trendline and threshold after 2 s without packets (kStreamTimeOut)', () => {
    const pk = train(100, () => 50);
    const d = new DelayBasedBwe({ startBps: 1_000_000, minBps: 50_000 });
    const asReceived = (ps: SyntheticPacket[]) =>
      ps.map((p) => ({ sendTimeMs: p.sendTimeMs, arrivalTimeMs: p.arrivalTimeMs!, sizeBytes: p.sizeBytes }));
    d.incomingPacketFeedbackVector(asReceived(pk), null, false, 1100);
    assert.equal(d.threshold, 6); // decayed during 1 s of constant delay
    // 2.5 s later (> 2 s): new detector, threshold back at 12.5 until it sees two deltas again.
    const later = train(2, () => 50).map((p) => ({ ...p, sendTimeMs: p.sendTimeMs + 3500, arrivalTimeMs: p.arrivalTimeMs! + 3500 }));
    d.incomingPacketFeedbackVector(asReceived(later), null, false, 3600);
    assert.equal(d.threshold, 12.5);
    assert.equal(d.state, 'normal');
  });
});

describe('Gcc on replayed transport feedback (every 100 ms)', () => {
  it('steady: constant one-way delay → normal throughout, gradient 0, threshold decays to 6', () => {
    const gcc = new Gcc({ startBps: 1_000_000, minBps: 50_000, maxBps: 10_000_000 });
    const out = replay(gcc, feedbackEvery(train(300, () => 50), 100, 20));
    for (const { est } of out) {
      assert.equal(est.detector, 'normal');
      assert.equal(est.delayGradient, 0);
    }
    assert.equal(out.at(-1)!.est.threshold, 6);
    // 2 packets · 1250 B per 10 ms = 2 Mbit/s exactly in every 500/150 ms window.
    assert.equal(out.at(-1)!.est.ackedBps, 2_000_000);
    // Normal → AIMD increases (8 %/s multiplicative, no capacity estimate yet).
    assert.ok(out.at(-1)!.est.targetBps > 1_000_000);
  });

  it('over-use: delay growing 2 ms per 10-ms group → overusing, target = 0.85 × acknowledged rate', () => {
    const gcc = new Gcc({ startBps: 2_500_000, minBps: 50_000, maxBps: 10_000_000 });
    gcc.onRtt(50, 0); // reductions allowed once per RTT (clamped 10–200 ms); default would be 200 ms
    const pk = train(180, (k) => 50 + 2 * Math.max(0, k - (STEADY_GROUPS - 1)));
    const out = replay(gcc, feedbackEvery(pk, 100, 20));
    const first = out.findIndex((r) => r.est.detector === 'overusing');
    assert.ok(first > 0);
    const before = out[first - 1]!.est;
    const at = out[first]!.est;
    // Everything before covers groups ≤ 104 at most (m < 6): normal, rate increasing.
    for (const r of out.slice(0, first)) assert.equal(r.est.detector, 'normal');
    // The flip happens in the feedback that carries group 110 (the 2nd group above the threshold, see above).
    const seqs = out[first]!.fb.packets.map((p) => p.transportSeq);
    assert.ok(seqs.includes(2 * 110), `feedback covers seq ${seqs[0]}–${seqs.at(-1)}`);
    // AIMD decrease: exactly 0.85 × the acknowledged rate measured with this feedback.
    assert.ok(at.ackedBps !== null && at.ackedBps < 2_000_000); // arrivals have slowed to 2500 B / 12 ms
    assert.equal(at.targetBps, 0.85 * at.ackedBps);
    assert.ok(at.targetBps < before.targetBps);
    // Printed for the record: 0.85 × 1 877 551.0 = 1 595 918.4 bit/s (from 2 701 080).
    assert.ok(Math.abs(at.ackedBps - 1_877_551.02) < 0.01);
    assert.ok(Math.abs(before.targetBps - 2_701_080) < 0.01);
    // While still overusing, further reductions track 0.85 × the (falling) acknowledged rate.
    for (const r of out.slice(first)) {
      if (r.est.detector === 'overusing') assert.ok(r.est.targetBps <= at.targetBps);
    }
  });

  it('under-use: a draining queue → underusing and the rate is held', () => {
    const gcc = new Gcc({ startBps: 2_500_000, minBps: 50_000, maxBps: 10_000_000 });
    const pk = train(180, (k) => 100 - 2 * Math.min(30, Math.max(0, k - (STEADY_GROUPS - 1))));
    const out = replay(gcc, feedbackEvery(pk, 100, 20));
    const first = out.findIndex((r) => r.est.detector === 'underusing');
    assert.ok(first > 0);
    const held = out[first - 1]!.est.targetBps;
    let n = 0;
    for (const r of out.slice(first)) {
      if (r.est.detector !== 'underusing') break;
      assert.equal(r.est.targetBps, held); // AIMD in hold, loss-based capped by it
      assert.equal(r.dbg.aimdState, 'hold');
      n++;
    }
    assert.ok(n >= 3, `underusing for ${n} feedbacks`);
    // Afterwards: back to normal and increasing again.
    const last = out.at(-1)!.est;
    assert.equal(last.detector, 'normal');
    assert.ok(last.targetBps > held);
  });

  it('application limited: the estimate stops at 1.5 × acknowledged + 10 kbit/s', () => {
    // The sender keeps sending 2 Mbit/s however high the estimate goes, over a clean path.
    const gcc = new Gcc({ startBps: 2_500_000, minBps: 50_000, maxBps: 10_000_000 });
    const out = replay(gcc, feedbackEvery(train(1000, () => 50), 100, 20));
    const last = out.at(-1)!.est;
    assert.equal(last.ackedBps, 2_000_000);
    // 1.5 · 2 000 000 + 10 000 = 3 010 000 — not the 10 Mbit/s maximum.
    assert.equal(last.targetBps, 3_010_000);
    assert.equal(gcc.debug().delayBasedBps, 3_010_000);
  });

  it('loss reports drive the loss-based rules when lossSource = loss-report', () => {
    const gcc = new Gcc({ startBps: 1_000_000, minBps: 50_000, maxBps: 10_000_000, lossSource: 'loss-report' });
    gcc.onLossReport(51 / 256, 0);
    // 1 000 000 · (512 − 51)/512 → 900 390
    assert.equal(gcc.estimate(0).targetBps, 900_390);
    assert.equal(gcc.estimate(0).lossFraction, 51 / 256);
  });

  it('lost packets in transport feedback count as loss (default source)', () => {
    const gcc = new Gcc({ startBps: 1_000_000, minBps: 50_000, maxBps: 10_000_000 });
    // 100 packets, 20 of them lost (every 5th), all in one feedback: q8 = floor(20·256/100) = 51.
    const pk = train(50, () => 30).map((p, i) => ({ ...p, arrivalTimeMs: i % 5 === 4 ? null : p.arrivalTimeMs }));
    const fb: TransportFeedback = {
      feedbackArrivalMs: 600,
      packets: pk.map((p) => ({ transportSeq: p.seq, sendTimeMs: p.sendTimeMs, sizeBytes: p.sizeBytes, arrivalTimeMs: p.arrivalTimeMs })),
    };
    gcc.onTransportFeedback(fb);
    const est = gcc.estimate(600);
    assert.equal(est.lossFraction, 51 / 256);
    // The delay-based AIMD first raised its estimate by the 1 kbit/s minimum step (1 001 000);
    // the loss-based control then cut its own 1 000 000 by (512 − 51)/512.
    assert.equal(est.targetBps, 900_390);
  });
});

describe('FixedRate', () => {
  it('reports its rate and the loss and RTT it was told', () => {
    const f = new FixedRate(1_500_000);
    f.onTransportFeedback({ feedbackArrivalMs: 0, packets: [] });
    f.onLossReport(0.05, 0);
    f.onRtt(80, 0);
    assert.deepEqual(f.estimate(0), {
      targetBps: 1_500_000,
      delayGradient: 0,
      threshold: 0,
      detector: 'normal',
      lossFraction: 0.05,
      ackedBps: null,
      rttMs: 80,
    });
    assert.equal(f.name, 'fixed');
    assert.throws(() => new FixedRate(0), RangeError);
  });
});
