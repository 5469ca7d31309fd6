import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { TwccRecorder } from '../../src/receiver/twcc-recorder';
import { parseRtcpCompound, serializeRtcpCompound } from '../../src/rtp/rtcp';
import type { TwccFeedback } from '../../src/rtp/types';
import { SendHistory } from '../../src/sender/send-history';

const payload = (n: number) => Buffer.from([0x80, 0x60, (n >> 8) & 0xff, n & 0xff]);

function send(h: SendHistory, ssrc: number, seq: number, transportSeq: number | undefined, t: number, size = 1000): void {
  h.onPacketSent({ ssrc, seq, transportSeq, sendTimeMs: t, sizeBytes: size, payload: payload(seq) });
}

/** A feedback by hand: `times` maps seq → arrival (ms on the packet's timeline), from baseSeq on. */
function twcc(baseSeq: number, referenceTimeMs: number, times: (number | null)[]): TwccFeedback {
  return {
    type: 'twcc',
    senderSsrc: 1,
    mediaSsrc: 2,
    baseSeq,
    referenceTimeMs,
    feedbackCount: 0,
    packets: times.map((t, i) => ({ seq: (baseSeq + i) & 0xffff, receivedAtMs: t })),
  };
}

describe('SendHistory: retransmission (libwebrtc RtpPacketHistory)', () => {
  it('returns the stored packet, then refuses it again until one RTT (+5 ms) has passed', () => {
    const h = new SendHistory();
    send(h, 0xaaaa, 500, 1, 0);
    const p = h.forRetransmission(0xaaaa, 500, 30, 40);
    assert.ok(p);
    assert.deepEqual(p.payload, payload(500));
    assert.equal(p.timesRetransmitted, 1);
    h.onRetransmissionSent(0xaaaa, 500, 30);
    assert.equal(h.forRetransmission(0xaaaa, 500, 74, 40), null, '44 ms < 40 + 5 ms after the retransmission');
    assert.ok(h.forRetransmission(0xaaaa, 500, 75, 40), '45 ms later: again');
    assert.equal(h.forRetransmission(0xaaaa, 501, 75, 40), null, 'never sent');
    assert.equal(h.forRetransmission(0xbbbb, 500, 75, 40), null, 'other SSRC');
  });

  it('counts the RTT from when the retransmission actually left', () => {
    const h = new SendHistory();
    send(h, 1, 7, undefined, 0);
    assert.ok(h.forRetransmission(1, 7, 10, 20));
    h.onRetransmissionSent(1, 7, 40); // held 30 ms by the pacer
    assert.equal(h.forRetransmission(1, 7, 60, 20), null);
    assert.ok(h.forRetransmission(1, 7, 65, 20));
  });

  it('ignores requests while the retransmission waits in the pacer (pending), however long', () => {
    const h = new SendHistory();
    send(h, 1, 7, undefined, 0);
    assert.ok(h.forRetransmission(1, 7, 10, 20));
    assert.equal(h.forRetransmission(1, 7, 500, 20), null, 'still pending after 490 ms');
    h.onRetransmissionSent(1, 7, 510);
    assert.equal(h.forRetransmission(1, 7, 530, 20), null, 'sent 20 ms ago < RTT + 5');
    assert.ok(h.forRetransmission(1, 7, 535, 20));
  });

  it('asks `admit` only about eligible packets; a declined one stays as if never requested', () => {
    const h = new SendHistory();
    send(h, 1, 7, undefined, 0, 1000);
    const asked: number[] = [];
    const decline = (p: { seq: number }) => {
      asked.push(p.seq);
      return false;
    };
    assert.equal(h.forRetransmission(1, 7, 10, 20, decline), null);
    assert.equal(h.forRetransmission(1, 8, 10, 20, decline), null, 'never sent: not asked');
    assert.deepEqual(asked, [7]);
    const p = h.forRetransmission(1, 7, 11, 20, () => true);
    assert.ok(p, 'declined at 10: no RTT wait, not pending');
    assert.equal(p.timesRetransmitted, 1);
    assert.equal(h.forRetransmission(1, 7, 12, 20, decline), null);
    assert.deepEqual(asked, [7], 'pending: not asked again');
  });

  it('ages packets out after max(1000 ms, 3 × RTT) since their last send', () => {
    const h = new SendHistory();
    send(h, 1, 1, undefined, 0);
    send(h, 1, 2, undefined, 0);
    assert.ok(h.forRetransmission(1, 1, 1000, 10));
    h.onRetransmissionSent(1, 1, 1000);
    assert.equal(h.forRetransmission(1, 2, 1001, 10), null, 'aged out');
    assert.ok(h.forRetransmission(1, 1, 1500, 10), 'retransmitted at 1000: still there');
    const slow = new SendHistory();
    send(slow, 1, 1, undefined, 0);
    assert.ok(slow.forRetransmission(1, 1, 1400, 500), '3 × 500 ms RTT keeps it 1500 ms');
    const short = new SendHistory({ retentionMs: 200 });
    send(short, 1, 1, undefined, 0);
    assert.equal(short.forRetransmission(1, 1, 201, 10), null);
  });

  it('keeps at most maxPackets, dropping the oldest; a reused sequence number replaces the packet', () => {
    const h = new SendHistory({ maxPackets: 3 });
    for (let s = 0; s < 5; s++) send(h, 1, s, undefined, s);
    assert.equal(h.size, 3);
    assert.equal(h.forRetransmission(1, 1, 10, 10), null);
    assert.ok(h.forRetransmission(1, 2, 10, 10));
    const wrap = new SendHistory({ retentionMs: 10_000 });
    send(wrap, 1, 5, undefined, 0);
    wrap.onPacketSent({ ssrc: 1, seq: 5 + 65536, sendTimeMs: 100, sizeBytes: 10, payload: Buffer.from([9]) });
    assert.deepEqual(wrap.forRetransmission(1, 5, 200, 10)?.payload, Buffer.from([9]));
  });
});

describe('SendHistory: transport-wide feedback (libwebrtc TransportFeedbackAdapter)', () => {
  it('maps a receiver-built feedback onto send times, across the transport sequence wrap', () => {
    const h = new SendHistory();
    const rx = new TwccRecorder();
    const sent: { ts: number; send: number; arrive: number | null }[] = [];
    for (let i = 0; i < 8; i++) {
      const ts = (65532 + i) & 0xffff;
      const sendMs = 1000 + 5 * i;
      send(h, 0x1111 * (1 + (i % 2)), 100 + i, ts, sendMs, 900 + i);
      const arrive = i === 5 ? null : 250_000 + 5 * i + (i > 5 ? 3 : 0); // the receiver's clock
      sent.push({ ts, send: sendMs, arrive });
      if (arrive !== null) rx.onPacket(ts, arrive);
    }
    // Through the wire, as the sender would get it.
    const fbs = parseRtcpCompound(serializeRtcpCompound(rx.buildFeedback(250_100, 9, 0))) as TwccFeedback[];
    const results = fbs.flatMap((fb) => h.onTransportFeedback(fb));
    assert.deepEqual(
      results.map((r) => r.transportSeq),
      sent.map((_, i) => 65532 + i),
      'unwrapped and in order',
    );
    assert.deepEqual(
      results.map((r) => [r.ssrc, r.seq, r.sendTimeMs, r.sizeBytes]),
      sent.map((s, i) => [0x1111 * (1 + (i % 2)), 100 + i, s.send, 900 + i]),
    );
    // No anchor given: arrival times are on the receiver's clock.
    assert.deepEqual(
      results.map((r) => r.arrivalTimeMs),
      sent.map((s) => s.arrive),
    );
  });

  it('anchors the first feedback at its local receive time and chains reference times across the 24-bit wrap', () => {
    const h = new SendHistory();
    for (let i = 0; i < 4; i++) send(h, 1, i, i, 10 * i);
    const top = (2 ** 23 - 1) * 64;
    const r1 = h.onTransportFeedback(twcc(0, top, [top + 1, top + 11]), 5000);
    assert.deepEqual(r1.map((r) => r.arrivalTimeMs), [5001, 5011]);
    // The next reference time wrapped to the bottom of the signed range: +64 ms.
    const bottom = -(2 ** 23) * 64;
    const r2 = h.onTransportFeedback(twcc(2, bottom, [bottom + 0.25, bottom + 10.5]), 5090);
    assert.deepEqual(r2.map((r) => r.arrivalTimeMs), [5064.25, 5074.5]);
  });

  it('reports a packet received once; a lost one again, and received when a later feedback says so', () => {
    const h = new SendHistory();
    for (let i = 0; i < 4; i++) send(h, 1, i, 100 + i, i);
    const a = h.onTransportFeedback(twcc(100, 0, [1, null, 3, 4]));
    assert.deepEqual(a.map((r) => [r.transportSeq, r.arrivalTimeMs]), [[100, 1], [101, null], [102, 3], [103, 4]]);
    // Overlapping window (draft §3.1.1): 102 marked not received, 101 arrived late.
    const b = h.onTransportFeedback(twcc(101, 0, [5, null, null]));
    assert.deepEqual(b.map((r) => [r.transportSeq, r.arrivalTimeMs]), [[101, 5]]);
    const c = h.onTransportFeedback(twcc(100, 0, [1, 5, 3, 4]));
    assert.deepEqual(c, [], 'everything was acknowledged already');
  });

  it('ignores packets it did not send or no longer remembers', () => {
    const h = new SendHistory({ feedbackWindowMs: 1000 });
    send(h, 1, 0, 10, 0);
    send(h, 1, 1, 11, 700);
    send(h, 1, 2, 12, 1600); // 10 (sent at 0) is now older than the window
    send(h, 1, 3, undefined, 1601); // no transport-wide sequence number
    const r = h.onTransportFeedback(twcc(8, 0, [1, 2, 3, 4, 5, 6]));
    assert.deepEqual(r.map((x) => x.transportSeq), [11, 12]);
    assert.deepEqual(new SendHistory().onTransportFeedback(twcc(0, 0, [1])), []);
  });

  it('tracks retransmissions under their own transport-wide sequence number', () => {
    const h = new SendHistory();
    send(h, 1, 40, 1, 0, 1200);
    send(h, 1, 41, 2, 1, 1200);
    assert.ok(h.forRetransmission(1, 40, 50, 30));
    h.onRetransmissionSent(1, 40, 52, 3, 1210);
    const r = h.onTransportFeedback(twcc(1, 0, [null, 2, 60]));
    assert.deepEqual(
      r.map((x) => [x.transportSeq, x.seq, x.sendTimeMs, x.sizeBytes, x.arrivalTimeMs]),
      [[1, 40, 0, 1200, null], [2, 41, 1, 1200, 2], [3, 40, 52, 1210, 60]],
    );
  });
});
