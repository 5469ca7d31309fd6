import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFuzzer } from '../helpers/random';

import { MAX_TWCC_STATUSES_PER_COMPOUND, RtcpParseError, parseRtcpCompound, serializeRtcp, serializeRtcpCompound } from '../../src/rtp/rtcp';
import { TwccChunkWriter, TwccFeedbackBuilder, twccReferenceDeltaMs, wrapReferenceTicks } from '../../src/rtp/twcc';
import type { RtcpPacket, TwccFeedback, TwccPacketStatus } from '../../src/rtp/types';
import { rng } from './fixtures';

const b = (...bytes: number[]) => Buffer.from(bytes);
const w = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const h = (v: number) => [(v >> 8) & 0xff, v & 0xff];

const one = (buf: Buffer): RtcpPacket => {
  const pkts = parseRtcpCompound(buf);
  assert.equal(pkts.length, 1);
  return pkts[0];
};

describe('generic NACK (RFC 4585 §6.2.1, RTPFB FMT 1)', () => {
  it('packs sequence numbers into PID + BLP items and back, across the wrap', () => {
    const seqs = [100, 101, 103, 116, 117, 65535, 0, 2];
    const wire = b(
      0x81, 0xcd, 0x00, 0x05, // V=2, FMT=1, PT=205, 5 words → 24 bytes
      ...w(0x0a0b0c0d), ...w(0x01020304), // sender, media source
      ...h(100), ...h(0x8005), // 100; BLP bits 0, 2, 15 → 101, 103, 116
      ...h(117), ...h(0x0000), // 117 alone (65535 is not within 118..133)
      ...h(65535), ...h(0x0005), // 65535; bits 0, 2 → 0, 2 across the wrap
    );
    const pkt: RtcpPacket = { type: 'nack', senderSsrc: 0x0a0b0c0d, mediaSsrc: 0x01020304, seqs };
    assert.deepEqual(serializeRtcp(pkt), wire);
    assert.deepEqual(one(wire), pkt);
  });

  it('reads every BLP bit and several items; ignores a trailing partial item', () => {
    const wire = b(0x81, 0xcd, 0x00, 0x03, ...w(1), ...w(2), ...h(10), ...h(0xffff));
    const p = one(wire);
    assert.ok(p.type === 'nack');
    assert.deepEqual(p.seqs, Array.from({ length: 17 }, (_, i) => 10 + i));
    const padded = b(0xa1, 0xcd, 0x00, 0x04, ...w(1), ...w(2), ...h(7), ...h(0), 0xaa, 0, 0, 2);
    assert.deepEqual(one(padded), { type: 'nack', senderSsrc: 1, mediaSsrc: 2, seqs: [7] });
  });

  it('round-trips random ascending lists', () => {
    const rand = rng(5);
    for (let i = 0; i < 300; i++) {
      let s = Math.floor(rand() * 65536);
      const seqs: number[] = [];
      const n = 1 + Math.floor(rand() * 60);
      for (let k = 0; k < n; k++) {
        seqs.push(s);
        s = (s + 1 + Math.floor(rand() * (rand() < 0.8 ? 3 : 40))) & 0xffff;
      }
      const pkt: RtcpPacket = { type: 'nack', senderSsrc: 3, mediaSsrc: 4, seqs };
      assert.deepEqual(one(serializeRtcp(pkt)), pkt);
    }
  });

  it('refuses an empty list and out-of-range numbers; rejects a NACK without items', () => {
    assert.throws(() => serializeRtcp({ type: 'nack', senderSsrc: 1, mediaSsrc: 2, seqs: [] }), RangeError);
    assert.throws(() => serializeRtcp({ type: 'nack', senderSsrc: 1, mediaSsrc: 2, seqs: [65536] }), RangeError);
    assert.throws(() => serializeRtcp({ type: 'nack', senderSsrc: 1, mediaSsrc: 2, seqs: [1.5] }), RangeError);
    assert.throws(() => parseRtcpCompound(b(0x81, 0xcd, 0x00, 0x02, ...w(1), ...w(2))), RtcpParseError);
    assert.throws(() => parseRtcpCompound(b(0x81, 0xcd, 0x00, 0x01, ...w(1))), RtcpParseError);
  });
});

describe('PLI (RFC 4585 §6.3.1, PSFB FMT 1)', () => {
  it('writes and reads the 12-byte message', () => {
    const wire = b(0x81, 0xce, 0x00, 0x02, ...w(0xdeadbeef), ...w(0x00c0ffee));
    const pkt: RtcpPacket = { type: 'pli', senderSsrc: 0xdeadbeef, mediaSsrc: 0x00c0ffee };
    assert.deepEqual(serializeRtcp(pkt), wire);
    assert.deepEqual(one(wire), pkt);
    // An FCI the RFC does not allow is ignored, as libwebrtc does.
    assert.deepEqual(one(b(0x81, 0xce, 0x00, 0x03, ...w(0xdeadbeef), ...w(0x00c0ffee), ...w(9))), pkt);
  });

  it('goes in a compound with a receiver report and a NACK', () => {
    const pkts: RtcpPacket[] = [
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'nack', senderSsrc: 1, mediaSsrc: 2, seqs: [4, 9] },
      { type: 'pli', senderSsrc: 1, mediaSsrc: 2 },
    ];
    assert.deepEqual(parseRtcpCompound(serializeRtcpCompound(pkts)), pkts);
  });
});

/**
 * Built by hand from draft-holmer-rmcat-transport-wide-cc-extensions-01: the one-bit
 * status vector of §3.1.4 Example 1, the run length chunk of §3.1.3 Example 1 (221 ×
 * "not received"), then a two-bit vector with small, large positive and negative deltas.
 */
const TWCC_DRAFT = b(
  0x8f, 0xcd, 0x00, 0x09, // V=2, P=0, FMT=15, PT=205, 9 words → 40 bytes
  ...w(0x01020304), ...w(0x05060708), // packet sender, media source
  ...h(5), ...h(240), // base sequence number 5, packet status count 240
  0x00, 0x00, 0x10, 7, // reference time 16 × 64 ms = 1024 ms, feedback packet count 7
  0x9f, 0x1c, // 1|0|0 1 1 1 1 1 0 0 0 1 1 1 0 0   (§3.1.4 Example 1)
  0x00, 0xdd, // 0|00|0 0000 1101 1101: 221 × not received   (§3.1.3 Example 1)
  0xd8, 0x90, // 1|1|01 10 00 10 01 00 00: small, large, not, large, small (+2 unused)
  0x04, 0x00, 0x01, 0x02, 0x03, 0xff, 0x10, 0x08, // 8 small deltas of the first chunk
  0x28, // +10 ms
  0xff, 0x38, // −200 ticks = −50 ms
  0x7f, 0xff, // +8191.75 ms, the largest delta
  0x00, // +0
);

function draftStatuses(): TwccPacketStatus[] {
  const times = new Map<number, number>([
    [6, 1025], [7, 1025], [8, 1025.25], [9, 1025.75], [10, 1026.5], [14, 1090.25], [15, 1094.25], [16, 1096.25],
    [240, 1106.25], [241, 1056.25], [243, 9248], [244, 9248],
  ]);
  return Array.from({ length: 240 }, (_, i) => ({ seq: 5 + i, receivedAtMs: times.get(5 + i) ?? null }));
}

const TWCC_DRAFT_PACKET: TwccFeedback = {
  type: 'twcc',
  senderSsrc: 0x01020304,
  mediaSsrc: 0x05060708,
  baseSeq: 5,
  referenceTimeMs: 1024,
  feedbackCount: 7,
  packets: draftStatuses(),
};

/** Wrap of the base sequence, negative reference time, a negative large delta, padding. */
const TWCC_WRAP = b(
  0x8f, 0xcd, 0x00, 0x06, // 6 words → 28 bytes
  ...w(9), ...w(10),
  ...h(65534), ...h(3),
  0xff, 0xff, 0xff, 255, // reference time −1 → −64 ms; feedback count 255
  0xd2, 0x00, // 1|1|01 00 10 00 00 00 00: small, not received, large
  0x80, // +32 ms → −32 ms
  0xfe, 0x0c, // −500 ticks = −125 ms → −157 ms
  0x00, 0x00, 0x00, // zero padding to 32 bits
);

const TWCC_WRAP_PACKET: TwccFeedback = {
  type: 'twcc',
  senderSsrc: 9,
  mediaSsrc: 10,
  baseSeq: 65534,
  referenceTimeMs: -64,
  feedbackCount: 255,
  packets: [
    { seq: 65534, receivedAtMs: -32 },
    { seq: 65535, receivedAtMs: null },
    { seq: 0, receivedAtMs: -157 },
  ],
};

describe('transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, RTPFB FMT 15)', () => {
  it("reads the draft's example chunks and writes the same bytes back", () => {
    assert.deepEqual(one(TWCC_DRAFT), TWCC_DRAFT_PACKET);
    assert.deepEqual(serializeRtcp(TWCC_DRAFT_PACKET), TWCC_DRAFT);
  });

  it('handles the base sequence wrap, a negative reference time, negative deltas and padding', () => {
    assert.deepEqual(one(TWCC_WRAP), TWCC_WRAP_PACKET);
    assert.deepEqual(serializeRtcp(TWCC_WRAP_PACKET), TWCC_WRAP);
    // Padding signalled with the P bit (RFC 3550 §6.4.1) instead of counted zeros.
    const pBit = Buffer.from(TWCC_WRAP);
    pBit[0] |= 0x20;
    pBit[pBit.length - 1] = 3;
    assert.deepEqual(one(pBit), TWCC_WRAP_PACKET);
  });

  it('refuses the reserved symbol 11 the draft uses in two examples (§3.1.1 vs §3.1.3/§3.1.4 Example 2)', () => {
    const withChunk = (chunk: number, count: number) =>
      b(0x8f, 0xcd, 0x00, 0x05, ...w(1), ...w(2), ...h(0), ...h(count), 0, 0, 0, 0, ...h(chunk), 0, 0);
    assert.throws(() => parseRtcpCompound(withChunk(0x6018, 24)), RtcpParseError); // run of 24 × 11
    assert.throws(() => parseRtcpCompound(withChunk(0xcd50, 7)), RtcpParseError); // 00 11 01 01 01 00 00
    // Symbols beyond the status count are not read: the same vector cut before the 11.
    assert.deepEqual(one(withChunk(0xcd50, 1)), {
      type: 'twcc', senderSsrc: 1, mediaSsrc: 2, baseSeq: 0, referenceTimeMs: 0, feedbackCount: 0,
      packets: [{ seq: 0, receivedAtMs: null }],
    });
  });

  it('round-trips an all-lost feedback spanning several run length chunks', () => {
    const pkt: TwccFeedback = {
      type: 'twcc', senderSsrc: 1, mediaSsrc: 2, baseSeq: 60000, referenceTimeMs: 64 * 1000, feedbackCount: 3,
      packets: Array.from({ length: 10000 }, (_, i) => ({ seq: (60000 + i) & 0xffff, receivedAtMs: null })),
    };
    const wire = serializeRtcp(pkt);
    // Two run length chunks (8191 + 1809 × "not received"), no deltas, no padding needed.
    assert.equal(wire.length, 20 + 4);
    assert.deepEqual([...wire.subarray(20)], [0x1f, 0xff, ...h(1809)]);
    assert.deepEqual(one(wire), pkt);
  });

  it('bounds the statuses one compound may report (run-length amplification)', () => {
    const lost = (n: number): TwccFeedback => ({
      type: 'twcc', senderSsrc: 1, mediaSsrc: 2, baseSeq: 0, referenceTimeMs: 0, feedbackCount: 0,
      packets: Array.from({ length: n }, (_, i) => ({ seq: i, receivedAtMs: null })),
    });
    // 65,535 statuses in 40 bytes: refused, with the cause in one line.
    const huge = serializeRtcp(lost(65535));
    assert.ok(huge.length <= 40);
    assert.throws(() => parseRtcpCompound(huge), /transport-wide feedback for 65535 packets: one compound may report at most 16384/);
    // Up to the bound, in one feedback or across several of one compound, it parses.
    assert.equal(one(serializeRtcp(lost(MAX_TWCC_STATUSES_PER_COMPOUND))).type, 'twcc');
    const half = serializeRtcp(lost(MAX_TWCC_STATUSES_PER_COMPOUND / 2));
    assert.equal(parseRtcpCompound(Buffer.concat([half, half])).length, 2);
    assert.throws(() => parseRtcpCompound(Buffer.concat([half, half, serializeRtcp(lost(1))])), RtcpParseError);
    // 37 of the worst feedbacks in one datagram: refused, without building millions of entries.
    const t0 = process.memoryUsage().heapUsed;
    assert.throws(() => parseRtcpCompound(Buffer.concat(Array(37).fill(huge))), RtcpParseError);
    assert.ok(process.memoryUsage().heapUsed - t0 < 50e6);
  });

  it('chooses small and large deltas at their limits and refuses what 16 bits cannot hold', () => {
    const fb = (times: (number | null)[], ref = 0): TwccFeedback => ({
      type: 'twcc', senderSsrc: 1, mediaSsrc: 2, baseSeq: 0, referenceTimeMs: ref, feedbackCount: 0,
      packets: times.map((t, i) => ({ seq: i, receivedAtMs: t })),
    });
    // 63.75 ms is the largest small delta; 64 ms needs a large one; −0.25 ms too.
    const limits = fb([63.75, 127.75, 127.5, null, -8064.5, 127.25]);
    const wire = serializeRtcp(limits);
    assert.deepEqual([...wire.subarray(20, 22)], [0xda, 0x28]); // 1|1|01 10 10 00 10 10 00
    assert.deepEqual(one(wire), limits);
    // The extreme deltas: −8192 ms and +8191.75 ms.
    assert.deepEqual(one(serializeRtcp(fb([-8192, -0.25, 8191.5]))), fb([-8192, -0.25, 8191.5]));
    assert.throws(() => serializeRtcp(fb([-8192.25])), RangeError);
    assert.throws(() => serializeRtcp(fb([8192])), RangeError);
    assert.throws(() => serializeRtcp(fb([0, 8192.25])), RangeError);
    // Reference time: a multiple of 64 ms within the signed 24-bit range.
    assert.throws(() => serializeRtcp(fb([0], 100)), RangeError);
    assert.throws(() => serializeRtcp(fb([0], 2 ** 23 * 64)), RangeError);
    assert.deepEqual(one(serializeRtcp(fb([null], -(2 ** 23) * 64))), fb([null], -(2 ** 23) * 64));
    // Sequence numbers must follow the base; counts 1..65535.
    assert.throws(() => serializeRtcp({ ...fb([0, 1]), packets: [{ seq: 0, receivedAtMs: 0 }, { seq: 2, receivedAtMs: 1 }] }), RangeError);
    assert.throws(() => serializeRtcp(fb([])), RangeError);
    assert.throws(() => serializeRtcp({ ...fb([0]), feedbackCount: 256 }), RangeError);
  });

  it('encodes chunks as libwebrtc does (run length, one-bit and two-bit vectors)', () => {
    const encode = (symbols: number[]) => {
      const cw = new TwccChunkWriter();
      for (const s of symbols) cw.add(s);
      return cw.finish();
    };
    assert.deepEqual(encode(Array(20).fill(1)), [0x2000 | 20]); // run of 20 small
    assert.deepEqual(encode([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]), [0xaaaa, 0x2001]); // 14 one-bit, then a run of 1
    assert.deepEqual(encode([2, 1, 1]), [0xc000 | (2 << 12) | (1 << 10) | (1 << 8)]); // two-bit vector of 3
    // Seven two-bit symbols emitted, the rest stays pending (TransportFeedback::LastChunk::Emit).
    assert.deepEqual(encode([1, 1, 1, 1, 1, 1, 1, 1, 2]), [0x2008, 0x4001]);
    assert.deepEqual(encode([1, 0, 1, 1, 1, 1, 1, 1, 2]), [0xd155, 0xc000 | (1 << 12) | (2 << 10)]);
    assert.deepEqual(encode(Array(8191 + 3).fill(0)), [0x1fff, 3]);
  });

  it('round-trips random feedback byte for byte', () => {
    const rand = rng(2024);
    for (let i = 0; i < 400; i++) {
      const n = 1 + Math.floor(rand() * (rand() < 0.9 ? 60 : 3000));
      const baseSeq = Math.floor(rand() * 65536);
      const refTicks = Math.floor(rand() * 2 ** 24) - 2 ** 23;
      let t = refTicks * 256;
      const lossRate = rand() < 0.2 ? 0.95 : rand() * 0.3;
      const packets: TwccPacketStatus[] = [];
      for (let k = 0; k < n; k++) {
        if (rand() < lossRate) {
          packets.push({ seq: (baseSeq + k) & 0xffff, receivedAtMs: null });
          continue;
        }
        const r = rand();
        t += r < 0.7 ? Math.floor(rand() * 256) : r < 0.9 ? Math.floor(rand() * 4000) - 2000 : Math.floor(rand() * 65536) - 32768;
        packets.push({ seq: (baseSeq + k) & 0xffff, receivedAtMs: t / 4 });
      }
      const pkt: TwccFeedback = {
        type: 'twcc', senderSsrc: Math.floor(rand() * 2 ** 32), mediaSsrc: Math.floor(rand() * 2 ** 32),
        baseSeq, referenceTimeMs: refTicks * 64, feedbackCount: Math.floor(rand() * 256), packets,
      };
      const wire = serializeRtcp(pkt);
      assert.equal(wire.length % 4, 0);
      const back = one(wire);
      assert.deepEqual(back, pkt);
      assert.deepEqual(serializeRtcp(back), wire);
    }
  });

  it('rejects truncated and inconsistent feedback', () => {
    const bad: [string, Buffer][] = [
      ['no room for the TWCC header', b(0x8f, 0xcd, 0x00, 0x03, ...w(1), ...w(2), ...h(0), ...h(1))],
      ['status count 0', b(0x8f, 0xcd, 0x00, 0x05, ...w(1), ...w(2), ...h(0), ...h(0), 0, 0, 0, 0, 0, 0, 0, 0)],
      ['chunks short of the count', b(0x8f, 0xcd, 0x00, 0x05, ...w(1), ...w(2), ...h(0), ...h(20), 0, 0, 0, 0, ...h(0x2010), 0, 0)],
      ['deltas missing', b(0x8f, 0xcd, 0x00, 0x05, ...w(1), ...w(2), ...h(0), ...h(3), 0, 0, 0, 0, ...h(0x2003), 1, 2)],
      // One byte of a two-byte delta, the next one being padding (P bit, count 1).
      ['large delta cut', b(0xaf, 0xcd, 0x00, 0x05, ...w(1), ...w(2), ...h(0), ...h(1), 0, 0, 0, 0, ...h(0x4001), 0x12, 1)],
      ['no media SSRC', b(0x8f, 0xcd, 0x00, 0x01, ...w(1))],
    ];
    for (const [name, buf] of bad) assert.throws(() => parseRtcpCompound(buf), RtcpParseError, name);
  });

  it('throws only RtcpParseError on mutated feedback (fuzz, seeded)', () => {
    const rand = rng(4585);
    const valid = [
      TWCC_DRAFT,
      TWCC_WRAP,
      serializeRtcp({ type: 'nack', senderSsrc: 1, mediaSsrc: 2, seqs: [1, 2, 3, 40, 41] }),
      serializeRtcp({ type: 'pli', senderSsrc: 1, mediaSsrc: 2 }),
    ];
    const { attempt, counts } = parseFuzzer(parseRtcpCompound, RtcpParseError);
    for (let i = 0; i < 6000; i++) {
      const src = valid[Math.floor(rand() * valid.length)];
      const buf = Buffer.from(src.subarray(0, rand() < 0.3 ? Math.floor(rand() * (src.length + 1)) : src.length));
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips && buf.length > 0; k++) {
        // Keep the header plausible most of the time so the mutations reach the FCI.
        const pos = rand() < 0.8 ? 4 + Math.floor(rand() * Math.max(1, buf.length - 4)) : Math.floor(rand() * buf.length);
        if (pos < buf.length) buf[pos] = Math.floor(rand() * 256);
      }
      attempt(buf);
    }
    for (let i = 0; i < 3000; i++) {
      // Random bodies behind a valid RTPFB FMT 15 header.
      const words = 2 + Math.floor(rand() * 14);
      const buf = Buffer.alloc(4 * words);
      for (let k = 4; k < buf.length; k++) buf[k] = Math.floor(rand() * 256);
      buf[0] = 0x8f;
      buf[1] = 205;
      buf.writeUInt16BE(words - 1, 2);
      if (buf.length >= 16 && rand() < 0.7) buf.writeUInt16BE(1 + Math.floor(rand() * 40), 14); // a small status count
      attempt(buf);
    }
    assert.ok(counts.parsed > 300 && counts.rejected > 300, `parsed ${counts.parsed}, rejected ${counts.rejected}`);
  });
});

describe('TWCC builder and reference time arithmetic', () => {
  it('puts the reference time on the 64 ms grid below the first arrival and rounds each delta from the last reported time', () => {
    const fb = new TwccFeedbackBuilder(10, 1000.1);
    assert.ok(fb.addReceived(10, 1000.1));
    assert.ok(fb.addReceived(13, 1000.3));
    assert.ok(fb.addReceived(14, 1000.55));
    const p = fb.build(1, 2, 300);
    assert.ok(p);
    assert.equal(p.referenceTimeMs, 960); // floor(1000.1 / 64) × 64
    assert.equal(p.feedbackCount, 300 & 0xff);
    assert.deepEqual(
      p.packets.map((s) => s.receivedAtMs),
      [1000, null, null, 1000.25, 1000.5], // 0.1 → 0; +0.2 → +0.25; +0.3 from 1000.25 → +0.25
    );
    assert.deepEqual(one(serializeRtcp(p)), p);
    assert.ok(!fb.addReceived(14, 1001), 'not newer than the last one added');
    assert.ok(!fb.addReceived(20, 1000.5 + 8192), 'a delta beyond +8191.75 ms needs a new packet');
    assert.ok(fb.addReceived(20, 1000.5 - 8192));
  });

  it('wraps reference times into the signed 24-bit field and chains them across the wrap', () => {
    assert.equal(wrapReferenceTicks(2 ** 23), -(2 ** 23));
    assert.equal(wrapReferenceTicks(2 ** 24 + 5), 5);
    assert.equal(wrapReferenceTicks(-1), -1);
    const unixMs = 1_700_000_000_123.75;
    const fb = new TwccFeedbackBuilder(0, unixMs);
    assert.ok(fb.addReceived(0, unixMs));
    assert.ok(fb.addReceived(1, unixMs + 5));
    const p = fb.build(1, 2, 0);
    assert.ok(p);
    assert.ok(p.referenceTimeMs >= -(2 ** 23) * 64 && p.referenceTimeMs < 2 ** 23 * 64);
    const first = p.packets[0].receivedAtMs as number;
    assert.equal(first - p.referenceTimeMs, unixMs - Math.floor(unixMs / 64) * 64);
    assert.equal((p.packets[1].receivedAtMs as number) - first, 5);
    assert.deepEqual(one(serializeRtcp(p)), p);
    assert.equal(twccReferenceDeltaMs((2 ** 23 - 1) * 64, -(2 ** 23) * 64), 64);
    assert.equal(twccReferenceDeltaMs(-(2 ** 23) * 64, (2 ** 23 - 1) * 64), -64);
    assert.equal(twccReferenceDeltaMs(640, 128), -512);
  });

  it('refuses what would not fit the byte limit or the status count', () => {
    const fb = new TwccFeedbackBuilder(0, 0, 32);
    let n = 0;
    while (fb.addReceived(n, n * 100)) n++; // large deltas: 2 bytes each
    assert.ok(n >= 2);
    assert.ok(fb.packetBytes <= 32);
    const p = fb.build(1, 2, 0);
    assert.ok(p && serializeRtcp(p).length <= 32);
    const wide = new TwccFeedbackBuilder(0, 0);
    assert.ok(wide.addReceived(65534, 0));
    assert.ok(!wide.addReceived(65535, 1), 'status count would pass 0xffff');
  });
});
