import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { NACK_MAX_RETRIES, NackGenerator } from '../../src/receiver/nack-generator';

/** Feeds packets at 1 ms apart from `t`, asking for NACKs after each, as a receiver would. */
function feed(g: NackGenerator, seqs: number[], t = 0, rtt = 100): number[][] {
  return seqs.map((s, i) => {
    g.onPacket(s, t + i);
    return g.nacksToSend(t + i, rtt);
  });
}

describe('NackGenerator (libwebrtc NackRequester)', () => {
  it('requests a gap at once, then once per RTT, and forgets a packet that arrives', () => {
    const g = new NackGenerator();
    assert.deepEqual(feed(g, [1, 2, 5]), [[], [], [3, 4]]);
    assert.deepEqual(g.nacksToSend(3, 100), [], 'not again before one RTT');
    assert.deepEqual(g.nacksToSend(101, 100), [], '99 ms after the request');
    assert.deepEqual(g.nacksToSend(102, 100), [3, 4]);
    assert.equal(g.onPacket(3, 110), 2, 'it had been requested twice');
    assert.deepEqual(g.pending, [4]);
    assert.deepEqual(g.nacksToSend(202, 100), [4]);
  });

  it('handles the 65535 → 0 wrap', () => {
    const g = new NackGenerator();
    assert.deepEqual(feed(g, [65533, 65534, 1]), [[], [], [65535, 0]]);
    g.onPacket(0, 5);
    assert.deepEqual(g.pending, [65535]);
    assert.deepEqual(feed(g, [2, 5], 10), [[], [3, 4]]);
  });

  it('sends nothing when reordering fills the gap before the NACK fires', () => {
    const g = new NackGenerator();
    g.onPacket(10, 0);
    g.onPacket(12, 1);
    g.onPacket(11, 2); // before anyone asked
    assert.deepEqual(g.nacksToSend(2), []);
    assert.equal(g.onPacket(9, 3), 0, 'an old packet never on the list');
    assert.deepEqual(g.pending, []);
  });

  it('retries every max(RTT, 20 ms), at most 10 times (kMaxNackRetries)', () => {
    const g = new NackGenerator();
    g.onPacket(0, 0);
    g.onPacket(2, 0);
    const sentAt: number[] = [];
    for (let t = 0; t <= 1000; t++) if (g.nacksToSend(t, 5).length > 0) sentAt.push(t);
    // A 5 ms RTT is floored at the 20 ms update interval of NackPeriodicProcessor.
    assert.equal(sentAt.length, NACK_MAX_RETRIES);
    assert.deepEqual(sentAt, Array.from({ length: 10 }, (_, i) => 20 * i));
    assert.deepEqual(g.pending, [], 'dropped after the last retry');
    const slow = new NackGenerator();
    slow.onPacket(0, 0);
    slow.onPacket(2, 0);
    const at: number[] = [];
    for (let t = 0; t <= 400; t++) if (slow.nacksToSend(t, 150).length > 0) at.push(t);
    assert.deepEqual(at, [0, 150, 300]);
    assert.equal(slow.onPacket(1, 401), 3);
  });

  it('expectUpTo: a lost tail the sender announced goes on the list, and leaves it when it arrives', () => {
    const g = new NackGenerator();
    g.expectUpTo(9, 0); // nothing received yet: the start is unknown
    assert.deepEqual(g.pending, []);
    g.onPacket(65534, 0);
    g.onPacket(65535, 1);
    g.expectUpTo(2, 5); // 0, 1, 2 never came (across the wrap)
    assert.deepEqual(g.nacksToSend(5), [0, 1, 2]);
    g.expectUpTo(1, 6); // older than the newest expected: nothing new
    assert.deepEqual(g.pending, [0, 1, 2]);
    assert.equal(g.onPacket(2, 30), 1, 'the announced last packet, retransmitted');
    assert.equal(g.onPacket(0, 31), 1);
    assert.deepEqual(g.pending, [1]);
  });

  it('drops entries older than kMaxPacketAge (10000) behind the newest', () => {
    const g = new NackGenerator();
    g.onPacket(0, 0);
    g.onPacket(2, 0);
    for (let s = 3; s <= 10001; s++) g.onPacket(s, 0);
    assert.deepEqual(g.pending, [1]);
    g.onPacket(10002, 0);
    assert.deepEqual(g.pending, []);
  });

  it('on overflow (kMaxNackPackets 1000) drops up to a key frame, else clears and asks for one', () => {
    let requests = 0;
    const g = new NackGenerator({ onKeyFrameRequest: () => requests++ });
    g.onPacket(0, 0);
    g.onPacket(500, 1, false, true); // 1..499 missing; 500 starts a key frame
    g.onPacket(1100, 2); // 599 more: 1098 > 1000 → drop what precedes the key frame
    assert.equal(requests, 0);
    assert.deepEqual(g.pending, Array.from({ length: 599 }, (_, i) => 501 + i));
    g.onPacket(2200, 3); // 1099 more, no key frame to cut at → clear, request one
    assert.equal(requests, 1);
    assert.equal(g.keyFrameRequests, 1);
    assert.deepEqual(g.pending, []);
    assert.deepEqual(feed(g, [2202], 4), [[2201]], 'goes on from the new newest');
  });

  it('never requests a packet recovered by FEC/RTX ahead of the newest', () => {
    const g = new NackGenerator();
    g.onPacket(0, 0);
    g.onPacket(2, 1, true);
    assert.deepEqual(g.nacksToSend(1), [], 'a recovered packet does not open a gap');
    g.onPacket(4, 2);
    assert.deepEqual(g.nacksToSend(2), [1, 3]);
  });

  it('clears what a complete key frame makes useless (ClearUpTo), also across the wrap', () => {
    const g = new NackGenerator();
    g.onPacket(0, 0);
    g.onPacket(100, 1);
    assert.equal(g.nacksToSend(1).length, 99);
    g.onKeyFrame(50);
    assert.deepEqual(g.nacksToSend(200), Array.from({ length: 50 }, (_, i) => 50 + i));
    // libwebrtc's ClearUpToWrap case.
    const w = new NackGenerator();
    w.onPacket(0xfff0, 0);
    w.onPacket(0xf, 1);
    assert.equal(w.nacksToSend(1).length, 30);
    w.clearUpTo(0);
    const again = w.nacksToSend(200);
    assert.equal(again.length, 15);
    assert.equal(again[0], 0);
  });

  it('follows a realistic sequence: loss burst, retransmission, late duplicate', () => {
    const g = new NackGenerator();
    const out: [number, number[]][] = [];
    const arrive = (seq: number, t: number, rtt = 40) => {
      g.onPacket(seq, t);
      out.push([t, g.nacksToSend(t, rtt)]);
    };
    arrive(100, 0);
    arrive(101, 5);
    arrive(105, 10); // 102..104 lost
    arrive(106, 15);
    out.push([30, g.nacksToSend(30, 40)]);
    arrive(103, 32); // retransmission
    out.push([50, g.nacksToSend(50, 40)]); // 102, 104 again (40 ms after 10)
    arrive(102, 60);
    arrive(104, 61);
    arrive(104, 62); // duplicate
    out.push([200, g.nacksToSend(200, 40)]);
    assert.deepEqual(
      out.filter(([, s]) => s.length > 0),
      [[10, [102, 103, 104]], [50, [102, 104]]],
    );
  });
});
