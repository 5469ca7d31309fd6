import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { InterArrivalDelta, kReorderedResetThreshold } from '../../../src/sender/congestion/inter-arrival';

/** Feeds [send, arrival, size] triples (system time = arrival) and returns the non-null deltas with the index that produced them. */
function feed(ia: InterArrivalDelta, pkts: Array<[number, number, number]>) {
  const out: Array<{ at: number; send: number; recv: number; size: number }> = [];
  pkts.forEach(([s, a, size], i) => {
    const d = ia.computeDeltas(s, a, a, size);
    if (d) out.push({ at: i, send: d.sendDeltaMs, recv: d.arrivalDeltaMs, size: d.sizeDelta });
  });
  return out;
}

describe('InterArrivalDelta (inter_arrival_delta.cc, 5 ms send groups)', () => {
  it('groups packets sent within 5 ms of the group start; deltas between consecutive complete groups', () => {
    const ia = new InterArrivalDelta();
    // Group A: sent 0,2,5 (5 − 0 = 5 is not > 5: same group); group B: 6 (6 − 0 > 5), 8, 11;
    // group C starts at 12 (12 − 6 > 5), D at 20. One-way delay 30 ms, except B's last packet +4 ms
    // and C's +8 ms (none of them arrives early enough to count as part of the previous burst).
    const deltas = feed(ia, [
      [0, 30, 100],
      [2, 32, 100],
      [5, 35, 100], // A: send time 5 (its latest), complete at 35, 300 bytes
      [6, 36, 200],
      [8, 38, 200],
      [11, 45, 200], // B: send time 11, complete at 45, 600 bytes
      [12, 50, 50], // starts C → pair (A,B)
      [20, 58, 50], // starts D → pair (B,C)
    ]);
    // (A,B): send 11 − 5 = 6, arrival 45 − 35 = 10, size 600 − 300 = 300
    // (B,C): send 12 − 11 = 1, arrival 50 − 45 = 5,  size 50 − 600 = −550
    assert.deepEqual(deltas, [
      { at: 6, send: 6, recv: 10, size: 300 },
      { at: 7, send: 1, recv: 5, size: -550 },
    ]);
  });

  it('a packet sent later but arriving within 5 ms with negative propagation delta joins the burst', () => {
    const ia = new InterArrivalDelta();
    const deltas = feed(ia, [
      [0, 50, 100],
      // send 10 (> 5 ms after 0) but arrives 2 ms after the group's last arrival:
      // propagation delta = (52 − 50) − (10 − 0) = −8 < 0, arrival delta 2 ≤ 5, within 100 ms → same burst.
      [10, 52, 100],
      [20, 70, 100], // new group (send 20 − 0 > 5; arrival delta 18 > 5)
      [30, 80, 100], // new group → pair (group1, group2): send 20 − 10 = 10, arrival 70 − 52 = 18
    ]);
    assert.deepEqual(deltas, [{ at: 3, send: 10, recv: 18, size: -100 }]);
  });

  it('ignores a packet sent before the current group (reordered)', () => {
    const ia = new InterArrivalDelta();
    const deltas = feed(ia, [
      [0, 20, 100],
      [10, 30, 100], // group 2
      [4, 31, 999], // sent before group 2's first packet: ignored (its size is not counted)
      [20, 40, 100], // group 3 → pair (1,2): send 10, arrival 10, size 0
      [30, 50, 100], // group 4 → pair (2,3)
    ]);
    assert.deepEqual(deltas, [
      { at: 3, send: 10, recv: 10, size: 0 },
      { at: 4, send: 10, recv: 10, size: 0 },
    ]);
  });

  it('does not report a pair whose arrival delta is negative (reordering between groups)', () => {
    const ia = new InterArrivalDelta();
    const deltas = feed(ia, [
      [0, 100, 100], // g0 complete at 100
      [10, 120, 100], // g1 starts (arrival delta 20 > 5 → not a burst)
      [11, 95, 100], // joins g1 (11 − 10 ≤ 5); g1 complete = this packet's arrival, 95
      [20, 130, 100], // g2 starts → pair (g0,g1): arrival 95 − 100 = −5 < 0 → not reported (reordered #1 of 3)
    ]);
    assert.deepEqual(deltas, []);
    // The reordered pair leaves the state as it was; with fewer than kReorderedResetThreshold
    // of them in a row there is no reset.
    assert.equal(kReorderedResetThreshold, 3);
  });

  it('resets when the arrival clock jumps ≥ 3 s relative to the local clock', () => {
    const ia = new InterArrivalDelta();
    // System (feedback) time advances 10 ms per group, arrival time jumps by 5 s at group 2.
    assert.equal(ia.computeDeltas(0, 100, 1000, 100), null);
    assert.equal(ia.computeDeltas(10, 110, 1010, 100), null);
    assert.deepEqual(ia.computeDeltas(20, 5120, 1020, 100), { sendDeltaMs: 10, arrivalDeltaMs: 10, sizeDelta: 0 });
    // Pair (10, 20): arrival delta 5010, system delta 10 → 5000 ≥ 3000 → reset, nothing reported.
    assert.equal(ia.computeDeltas(30, 5130, 1030, 100), null);
    assert.equal(ia.computeDeltas(40, 5140, 1040, 100), null); // first packet after the reset
    assert.equal(ia.computeDeltas(50, 5150, 1050, 100), null); // second group starts, no pair yet
    assert.deepEqual(ia.computeDeltas(60, 5160, 1060, 100), { sendDeltaMs: 10, arrivalDeltaMs: 10, sizeDelta: 0 });
  });
});
