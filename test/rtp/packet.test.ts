import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFuzzer } from '../helpers/random';

import { RtpParseError, parseRtp, rtpHeaderSize, serializeRtp } from '../../src/rtp/packet';
import { EXT_ID, type RtpPacket } from '../../src/rtp/types';
import { rng } from './fixtures';

const b = (...bytes: number[]) => Buffer.from(bytes);
const ABS = EXT_ID.absSendTime;
const TW = EXT_ID.transportWideSeq;
const FID = EXT_ID.frameMarking;

/** RTP header with a 0xBEDE block carrying all three of our extensions, written out by hand. */
const HAND_BUILT = b(
  0x90, // V=2, P=0, X=1, CC=0
  0xe0, // M=1, PT=96
  0x12, 0x34, // sequence number
  0xde, 0xad, 0xbe, 0xef, // timestamp
  0x11, 0x22, 0x33, 0x44, // SSRC
  0xbe, 0xde, 0x00, 0x04, // one-byte extensions, 4 words follow
  (ABS << 4) | 2, 0xab, 0xcd, 0xef, // abs-send-time, L=2 → 3 bytes
  (TW << 4) | 1, 0xff, 0xfe, // transport-wide seq, L=1 → 2 bytes
  (FID << 4) | 4, 0xa0, 0x00, 0x01, 0x00, 0x2a, // frame id, L=4 → 5 bytes: start+key, id 65578
  0x00, 0x00, 0x00, // padding to the 32-bit boundary
  0x7c, 0x85, 0x01, 0x02, // payload
);

const HAND_BUILT_PACKET: RtpPacket = {
  payloadType: 96,
  sequenceNumber: 0x1234,
  timestamp: 0xdeadbeef,
  ssrc: 0x11223344,
  marker: true,
  extensions: {
    absSendTime: 0xabcdef,
    transportWideSeq: 0xfffe,
    frameId: { frameId: 65578, start: true, end: false, key: true },
  },
  payload: b(0x7c, 0x85, 0x01, 0x02),
};

function fixed(b0: number, b1: number): Buffer {
  return b(b0, b1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3);
}

describe('RTP packets (RFC 3550 §5.1, RFC 8285)', () => {
  it('serializes the hand-built vector byte for byte and parses it back', () => {
    assert.deepEqual(serializeRtp(HAND_BUILT_PACKET), HAND_BUILT);
    assert.deepEqual(parseRtp(HAND_BUILT), HAND_BUILT_PACKET);
    // The ids are ours to renumber (types.ts), but must stay distinct one-byte-form ids.
    assert.equal(new Set([ABS, TW, FID]).size, 3);
    for (const id of [ABS, TW, FID]) assert.ok(id >= 1 && id <= 14);
  });

  it('rtpHeaderSize gives the header bytes that serializeRtp writes', () => {
    assert.equal(rtpHeaderSize({}), 12);
    assert.equal(rtpHeaderSize({ absSendTime: 1 }), 12 + 4 + 4);
    assert.equal(rtpHeaderSize({ transportWideSeq: 1 }), 12 + 4 + 4);
    assert.equal(rtpHeaderSize({ frameId: { frameId: 1, start: true, end: true, key: true } }), 12 + 4 + 8);
    assert.equal(rtpHeaderSize(HAND_BUILT_PACKET.extensions), 32);
    const payload = Buffer.alloc(1000, 9);
    for (const ext of [{}, { absSendTime: 5 }, HAND_BUILT_PACKET.extensions]) {
      const wire = serializeRtp({ ...HAND_BUILT_PACKET, extensions: ext, payload });
      assert.equal(wire.length, rtpHeaderSize(ext) + payload.length);
    }
    // No extensions: X=0 and no extension block at all.
    const plain = serializeRtp({ ...HAND_BUILT_PACKET, extensions: {} });
    assert.equal(plain[0], 0x80);
    assert.deepEqual(plain.subarray(12), HAND_BUILT_PACKET.payload);
  });

  it('round-trips random packets, including sequence numbers and timestamps at their wrap', () => {
    const rand = rng(42);
    const u = (bits: number) => Math.floor(rand() * 2 ** bits);
    for (let i = 0; i < 2000; i++) {
      const ext: RtpPacket['extensions'] = {};
      if (rand() < 0.5) ext.absSendTime = u(24);
      if (rand() < 0.5) ext.transportWideSeq = u(16);
      if (rand() < 0.5) ext.frameId = { frameId: u(32), start: rand() < 0.5, end: rand() < 0.5, key: rand() < 0.5 };
      const p: RtpPacket = {
        payloadType: u(7),
        sequenceNumber: [0, 65535, u(16)][i % 3],
        timestamp: [0, 0xffffffff, u(32)][i % 3],
        ssrc: u(32),
        marker: rand() < 0.5,
        extensions: ext,
        payload: Buffer.from(Array.from({ length: u(6) }, () => u(8))),
      };
      const pad = rand() < 0.2 ? 1 + u(8) % 255 : 0;
      assert.deepEqual(parseRtp(serializeRtp(p, { paddingBytes: pad })), p);
    }
  });

  it('skips CSRCs and strips padding', () => {
    const wire = b(0xa2, 0x60, 0, 7, 0, 0, 0, 9, 0, 0, 0, 5, 1, 1, 1, 1, 2, 2, 2, 2, 0xaa, 0xbb, 0, 0, 3);
    const p = parseRtp(wire);
    assert.deepEqual(p.payload, b(0xaa, 0xbb));
    assert.equal(p.sequenceNumber, 7);
    assert.equal(p.timestamp, 9);
    assert.equal(p.ssrc, 5);
    assert.equal(p.marker, false);
    assert.equal(p.payloadType, 96);
    assert.equal(serializeRtp({ ...p, payload: b(1) }, { paddingBytes: 4 }).at(-1), 4);
  });

  it('returns a payload that does not alias the receive buffer', () => {
    const wire = serializeRtp(HAND_BUILT_PACKET);
    const p = parseRtp(wire);
    wire.fill(0);
    assert.deepEqual(p.payload, HAND_BUILT_PACKET.payload);
  });

  it('skips unknown ids, stops at id 15, ignores known ids of the wrong size', () => {
    const wire = Buffer.concat([
      fixed(0x90, 0x60),
      b(0xbe, 0xde, 0x00, 0x04),
      b(0xd2, 9, 9, 9), // id 13: unknown, skipped
      b(0x00), // padding between elements
      b((ABS << 4) | 1, 1, 2), // abs-send-time with 2 bytes instead of 3: ignored
      b((TW << 4) | 1, 0x01, 0x02), // transport-wide seq 258
      b(0xf0), // id 15: stop here
      b(FID << 4, 0, 0, 0), // would be a frame id (L=0): never looked at
      b(0xee),
    ]);
    const p = parseRtp(wire);
    assert.deepEqual(p.extensions, { transportWideSeq: 258 });
    assert.deepEqual(p.payload, b(0xee));
  });

  it('parses the two-byte form (0x100x) and skips its unknown elements', () => {
    const wire = Buffer.concat([
      fixed(0x90, 0x60),
      b(0x10, 0x07, 0x00, 0x05), // two-byte profile with appbits 7, 5 words
      b(0x40, 0x03, 1, 2, 3), // id 64, 3 bytes: unknown
      b(0x00), // padding
      b(TW, 0x02, 0x12, 0x34), // transport-wide seq
      b(0x09, 0x00), // id 9, zero-length element (allowed in this form)
      b(FID, 0x05, 0x20, 0, 0, 0, 7), // frame id 7, key
      b(0x00), // padding to 20 bytes
      b(0x55),
    ]);
    const p = parseRtp(wire);
    assert.deepEqual(p.extensions, {
      transportWideSeq: 0x1234,
      frameId: { frameId: 7, start: false, end: false, key: true },
    });
    assert.deepEqual(p.payload, b(0x55));
  });

  it('ignores extension blocks of other profiles', () => {
    const wire = Buffer.concat([fixed(0x90, 0x60), b(0x12, 0x34, 0x00, 0x01), b(0x22, 1, 2, 3), b(0x66)]);
    const p = parseRtp(wire);
    assert.deepEqual(p.extensions, {});
    assert.deepEqual(p.payload, b(0x66));
  });

  const bad: [string, Buffer][] = [
    ['empty', b()],
    ['shorter than the fixed header', b(0x80, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0)],
    ['version 1', fixed(0x40, 0x60)],
    ['version 0', fixed(0x00, 0x60)],
    ['CSRC list past the end', Buffer.concat([fixed(0x83, 0x60), b(0, 0, 0, 1, 0, 0, 0, 2)])],
    ['extension header truncated', Buffer.concat([fixed(0x90, 0x60), b(0xbe, 0xde, 0)])],
    ['extension block past the end', Buffer.concat([fixed(0x90, 0x60), b(0xbe, 0xde, 0, 2, 0x10, 1, 0, 0)])],
    ['element past its block', Buffer.concat([fixed(0x90, 0x60), b(0xbe, 0xde, 0, 1, 0x24, 1, 2, 3), b(9, 9)])],
    ['two-byte element header truncated', Buffer.concat([fixed(0x90, 0x60), b(0x10, 0, 0, 1, 0, 0, 0, 5)])],
    ['two-byte element past its block', Buffer.concat([fixed(0x90, 0x60), b(0x10, 0, 0, 1, 3, 9, 1, 2), b(1)])],
    ['padding count 0', Buffer.concat([fixed(0xa0, 0x60), b(1, 2, 0)])],
    ['padding larger than the payload', Buffer.concat([fixed(0xa0, 0x60), b(1, 2, 4)])],
    ['padding bit without any payload', fixed(0xa0, 0x60)],
  ];
  for (const [name, wire] of bad) {
    it(`rejects: ${name}`, () => {
      assert.throws(() => parseRtp(wire), RtpParseError);
    });
  }

  it('throws only RtpParseError on random and mutated input (fuzz, seeded)', () => {
    const rand = rng(1234);
    const valid = serializeRtp(HAND_BUILT_PACKET, { paddingBytes: 3 });
    const { attempt, counts } = parseFuzzer(parseRtp, RtpParseError, (p, buf) => assert.ok(p.payload.length <= buf.length));
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.alloc(Math.floor(rand() * 48));
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rand() * 256);
      if (buf.length > 0 && rand() < 0.8) buf[0] = 0x80 | (buf[0] & 0x3f); // mostly version 2
      attempt(buf);
    }
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(valid.subarray(0, Math.floor(rand() * (valid.length + 1))));
      for (let k = 0; k < 3 && buf.length > 0; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      attempt(buf);
    }
    for (let n = 0; n <= valid.length; n++) attempt(valid.subarray(0, n));
    assert.ok(counts.parsed > 100 && counts.rejected > 100, `parsed ${counts.parsed}, rejected ${counts.rejected}`);
  });

  it('refuses to serialize out-of-range fields', () => {
    const p = HAND_BUILT_PACKET;
    assert.throws(() => serializeRtp({ ...p, payloadType: 128 }), RangeError);
    assert.throws(() => serializeRtp({ ...p, sequenceNumber: 65536 }), RangeError);
    assert.throws(() => serializeRtp({ ...p, timestamp: -1 }), RangeError);
    assert.throws(() => serializeRtp({ ...p, ssrc: 2 ** 32 }), RangeError);
    assert.throws(() => serializeRtp({ ...p, extensions: { absSendTime: 1 << 24 } }), RangeError);
    assert.throws(() => serializeRtp({ ...p, extensions: { transportWideSeq: 1.5 } }), RangeError);
    assert.throws(() => serializeRtp(p, { paddingBytes: 256 }), RangeError);
  });
});
