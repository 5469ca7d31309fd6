import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { TwccRecorder } from '../../src/receiver/twcc-recorder';
import { parseRtcpCompound, serializeRtcp, serializeRtcpCompound } from '../../src/rtp/rtcp';
import type { TwccFeedback } from '../../src/rtp/types';
import { rng } from '../rtp/fixtures';

/** seq → arrival (null = reported not received), over all packets of a feedback round. */
function statuses(fbs: TwccFeedback[]): [number, number | null][] {
  return fbs.flatMap((f) => f.packets.map((p): [number, number | null] => [p.seq, p.receivedAtMs]));
}

/** Arrival times relative to each packet's reference time, rebased on `t0`. */
function times(fbs: TwccFeedback[], t0: number): [number, number | null][] {
  return fbs.flatMap((f) =>
    f.packets.map((p): [number, number | null] => [p.seq, p.receivedAtMs === null ? null : p.receivedAtMs - f.referenceTimeMs + t0]),
  );
}

describe('TwccRecorder (libwebrtc RemoteEstimatorProxy)', () => {
  it('reports every packet since the last feedback with its arrival time, and survives the wire', () => {
    const r = new TwccRecorder();
    for (let i = 0; i < 10; i++) r.onPacket(100 + i, 1000 + i * 1.5);
    const fbs = r.buildFeedback(1050, 0x11, 0x22);
    assert.equal(fbs.length, 1);
    const [fb] = fbs;
    assert.equal(fb.baseSeq, 100);
    assert.equal(fb.senderSsrc, 0x11);
    assert.equal(fb.mediaSsrc, 0x22);
    assert.equal(fb.feedbackCount, 0);
    assert.equal(fb.referenceTimeMs, 960); // 1000 rounded down to 64 ms
    assert.deepEqual(statuses(fbs), Array.from({ length: 10 }, (_, i) => [100 + i, 1000 + i * 1.5]));
    assert.deepEqual(parseRtcpCompound(serializeRtcpCompound(fbs)), fbs);
    assert.deepEqual(r.buildFeedback(1150, 0x11, 0x22), [], 'nothing new, nothing sent');
    r.onPacket(110, 1200);
    const [next] = r.buildFeedback(1250, 0x11, 0x22);
    assert.equal(next.baseSeq, 110);
    assert.equal(next.feedbackCount, 1);
    assert.deepEqual(statuses([next]), [[110, 1200]]);
  });

  it('reports a gap as not received', () => {
    const r = new TwccRecorder();
    for (const s of [0, 1, 4, 5]) r.onPacket(s, 10 + s);
    assert.deepEqual(statuses(r.buildFeedback(100, 1, 2)), [[0, 10], [1, 11], [2, null], [3, null], [4, 14], [5, 15]]);
  });

  it('unwraps the 16-bit transport sequence and handles reordering across the wrap', () => {
    const r = new TwccRecorder();
    const arrivals: [number, number][] = [[65533, 1], [65535, 2], [0, 3], [65534, 4], [2, 5], [1, 6]];
    for (const [s, t] of arrivals) r.onPacket(s, t);
    const fbs = r.buildFeedback(50, 1, 2);
    assert.equal(fbs.length, 1);
    assert.equal(fbs[0].baseSeq, 65533);
    assert.deepEqual(statuses(fbs), [[65533, 1], [65534, 4], [65535, 2], [0, 3], [1, 6], [2, 5]]);
    assert.deepEqual(parseRtcpCompound(serializeRtcp(fbs[0])), fbs);
  });

  it('keeps the first arrival of a duplicate', () => {
    const r = new TwccRecorder();
    r.onPacket(7, 100);
    r.onPacket(8, 101);
    r.onPacket(7, 150);
    assert.deepEqual(statuses(r.buildFeedback(200, 1, 2)), [[7, 100], [8, 101]]);
    r.onPacket(8, 210); // a duplicate after it was reported: nothing new to report
    assert.deepEqual(r.buildFeedback(300, 1, 2), []);
  });

  it('reports a late arrival in the next feedback, moving the base back (draft §3.1.1 note)', () => {
    const r = new TwccRecorder();
    for (const s of [0, 1, 3]) r.onPacket(s, 10 * s);
    assert.deepEqual(statuses(r.buildFeedback(40, 1, 2)), [[0, 0], [1, 10], [2, null], [3, 30]]);
    r.onPacket(2, 45);
    r.onPacket(4, 46);
    const fbs = r.buildFeedback(100, 1, 2);
    assert.equal(fbs[0].baseSeq, 2);
    // 3 was reported received already: the overlapping window marks it "not received".
    assert.deepEqual(statuses(fbs), [[2, 45], [3, null], [4, 46]]);
  });

  it('reports a lost packet as not received, and one that turns up after the back window when it does', () => {
    const r = new TwccRecorder();
    for (let s = 0; s < 10; s++) if (s !== 3) r.onPacket(s, s);
    const first = r.buildFeedback(100, 1, 2);
    assert.deepEqual(
      statuses(first).filter(([, t]) => t === null),
      [[3, null]],
    );
    // 1 s later everything has been reported, so this arrival culls what is older than
    // 500 ms (MaybeCullOldPackets).
    r.onPacket(10, 1000);
    assert.deepEqual(statuses(r.buildFeedback(1100, 1, 2)), [[10, 1000]]);
    // Packet 3 after all: the map grows back to take it (up to 2^15 sequence numbers) and
    // the window start moves back, so it is reported; 4..9 are gone, 10 was reported.
    r.onPacket(3, 1101);
    assert.deepEqual(statuses(r.buildFeedback(1200, 1, 2)), [[3, 1101]]);
  });

  it('splits a long round into several packets within the byte limit, in order, without losing or repeating one', () => {
    const r = new TwccRecorder({ maxPacketBytes: 80 });
    const rand = rng(11);
    const received = new Map<number, number>();
    let t = 5000;
    for (let s = 65000; s < 65000 + 700; s++) {
      t += rand() < 0.1 ? 70 + rand() * 100 : rand() * 2; // some large deltas
      if (rand() < 0.15) continue; // lost
      received.set(s & 0xffff, Math.round(t * 4) / 4);
      r.onPacket(s & 0xffff, t);
    }
    const fbs = r.buildFeedback(t + 10, 1, 2);
    assert.ok(fbs.length > 5, `${fbs.length} packets`);
    const unwrap = (seq: number) => (seq < 32768 ? seq + 65536 : seq);
    const firstReceived = Math.min(...[...received.keys()].map(unwrap));
    const lastReceived = Math.max(...[...received.keys()].map(unwrap));
    let expectBase = firstReceived;
    for (const [i, fb] of fbs.entries()) {
      const wire = serializeRtcp(fb);
      assert.ok(wire.length <= 80, `packet ${i} is ${wire.length} bytes`);
      assert.deepEqual(parseRtcpCompound(wire), [fb]);
      assert.equal(fb.baseSeq, expectBase & 0xffff, `packet ${i} starts where the previous one stopped`);
      assert.equal(fb.feedbackCount, i);
      assert.notEqual(fb.packets[fb.packets.length - 1].receivedAtMs, null, 'a packet ends with a received one');
      expectBase += fb.packets.length;
    }
    assert.equal(expectBase, lastReceived + 1, 'contiguous coverage up to the newest packet');
    const seen = statuses(fbs);
    const got = seen.filter(([, a]) => a !== null);
    assert.equal(got.length, received.size);
    // Arrival times relative to each packet's own reference time are the recorded ones
    // (the reference times here sit on the same 64 ms grid as the arrivals).
    for (const fb of fbs) {
      for (const p of fb.packets) if (p.receivedAtMs !== null) assert.ok(Math.abs(p.receivedAtMs - (received.get(p.seq) as number)) <= 0.125);
    }
  });

  it('starts a new packet when a delta exceeds ±8191.75 ms (draft §3.1.5)', () => {
    const r = new TwccRecorder();
    r.onPacket(1, 100);
    r.onPacket(2, 100 + 9000);
    r.onPacket(3, 100 + 9001);
    const fbs = r.buildFeedback(10_000, 1, 2);
    assert.equal(fbs.length, 2);
    assert.deepEqual(statuses(fbs), [[1, 100], [2, 9100], [3, 9101]]);
  });

  it('keeps the reference time in the signed 24-bit field for Unix-epoch clocks', () => {
    const r = new TwccRecorder();
    const t0 = 1_700_000_000_000;
    r.onPacket(0, t0 + 3.25);
    r.onPacket(1, t0 + 10);
    const [fb] = r.buildFeedback(t0 + 100, 1, 2);
    assert.ok(Math.abs(fb.referenceTimeMs) < 2 ** 23 * 64);
    assert.deepEqual(times([fb], Math.floor((t0 + 3.25) / 64) * 64), [[0, t0 + 3.25], [1, t0 + 10]]);
    assert.deepEqual(parseRtcpCompound(serializeRtcp(fb)), [fb]);
  });

  it('wraps the 8-bit feedback count', () => {
    const r = new TwccRecorder();
    let last = -1;
    for (let i = 0; i < 260; i++) {
      r.onPacket(i, i * 10);
      const [fb] = r.buildFeedback(i * 10 + 5, 1, 2);
      last = fb.feedbackCount;
      assert.equal(fb.feedbackCount, i & 0xff);
    }
    assert.equal(last, 259 & 0xff);
    assert.equal(r.feedbackPacketsBuilt, 260);
  });

  it('paces feedback: 100 ms by default, 5 % of the bitrate within 50..250 ms (OnBitrateChanged)', () => {
    const r = new TwccRecorder();
    assert.ok(r.isFeedbackDue(0), 'the first feedback is due at once');
    r.buildFeedback(0, 1, 2);
    assert.ok(!r.isFeedbackDue(99));
    assert.ok(r.isFeedbackDue(100));
    r.onBitrateChanged(2_000_000);
    assert.equal(r.sendIntervalMs, 50);
    r.onBitrateChanged(100_000); // 544 bit / 5000 bit/s
    assert.ok(Math.abs(r.sendIntervalMs - 108.8) < 1e-9);
    r.onBitrateChanged(10_000);
    assert.equal(r.sendIntervalMs, 250);
    r.onBitrateChanged(0);
    assert.equal(r.sendIntervalMs, 250);
  });

  it('reports every arrival exactly once as received under reordering, duplication and loss', () => {
    const rand = rng(3);
    const r = new TwccRecorder();
    // Mostly in order, displaced by up to ~30 positions; 5 % lost, 2 % duplicated.
    const order = Array.from({ length: 3000 }, (_, i) => ({ i, key: i + rand() * 30 }))
      .sort((a, b) => a.key - b.key)
      .map((x) => x.i);
    const arrived = new Set<number>();
    const reported = new Set<number>();
    const collect = (fbs: TwccFeedback[]) => {
      for (const fb of fbs) {
        for (const p of fb.packets) {
          if (p.receivedAtMs === null) continue;
          const u = (p.seq - 60000 + 0x10000) & 0xffff;
          assert.ok(!reported.has(u), `seq ${u} reported received twice`);
          reported.add(u);
        }
      }
    };
    let t = 0;
    for (const i of order) {
      t += 0.5;
      if (rand() < 0.05) continue;
      const seq = (60000 + i) & 0xffff;
      r.onPacket(seq, t);
      arrived.add(i);
      if (rand() < 0.02) r.onPacket(seq, t + 1);
      if (r.isFeedbackDue(t)) collect(r.buildFeedback(t, 1, 2));
    }
    collect(r.buildFeedback(t + 1000, 1, 2));
    assert.deepEqual([...reported].sort((a, b) => a - b), [...arrived].sort((a, b) => a - b));
  });
});
