import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_REF_BYTES, readFrameRef, writeFrameRef } from '../../src/rtp/extensions';
import { parseRtp, serializeRtp } from '../../src/rtp/packet';

import {
  absSendTimeDeltaMs,
  absSendTimeFromMs,
  absSendTimeToMs,
  decodeAbsSendTime,
  decodeFrameId,
  decodeTransportWideSeq,
  encodeAbsSendTime,
  encodeFrameId,
  encodeTransportWideSeq,
} from '../../src/rtp/extensions';

const RES_MS = 1000 / 2 ** 18; // one 6.18 unit

describe('abs-send-time (24-bit 6.18 fixed point)', () => {
  it('converts ms to 6.18 seconds with rounding, modulo 64 s', () => {
    assert.equal(absSendTimeFromMs(0), 0);
    assert.equal(absSendTimeFromMs(1000), 1 << 18);
    assert.equal(absSendTimeFromMs(500), 1 << 17);
    assert.equal(absSendTimeFromMs(1), 262); // 262.144 rounds down
    assert.equal(absSendTimeFromMs(2), 524); // 524.288
    assert.equal(absSendTimeFromMs(63_000), 63 << 18);
    assert.equal(absSendTimeFromMs(64_000), 0);
    assert.equal(absSendTimeFromMs(64_001), 262);
    assert.equal(absSendTimeFromMs(-1000), 63 << 18);
    assert.equal(absSendTimeFromMs(64_000 - RES_MS / 4), 0, 'rounds up into the next period');
    // A Unix-epoch time keeps its sub-ms part: 1_700_000_032_123.5 ms ≡ 32.1235 s in the period.
    assert.equal(absSendTimeFromMs(1_700_000_032_123.5), Math.round(32.1235 * 2 ** 18));
    assert.ok(Math.abs(absSendTimeToMs(absSendTimeFromMs(12_345.678)) - 12_345.678) <= RES_MS / 2);
  });

  it('takes deltas across the 64 s wrap', () => {
    const before = absSendTimeFromMs(63_990);
    const after = absSendTimeFromMs(64_010);
    assert.ok(after < before, 'the raw value wrapped');
    assert.ok(Math.abs(absSendTimeDeltaMs(after, before) - 20) <= RES_MS);
    assert.ok(Math.abs(absSendTimeDeltaMs(before, after) + 20) <= RES_MS);
    assert.equal(absSendTimeDeltaMs(5, 5), 0);
    assert.equal(absSendTimeDeltaMs(0, 0xffffff), RES_MS);
    assert.equal(absSendTimeDeltaMs(0xffffff, 0), -RES_MS);
    // Just under half a period forward is positive, half a period is the negative edge.
    assert.equal(absSendTimeDeltaMs(0x7fffff, 0), 0x7fffff * RES_MS);
    assert.equal(absSendTimeDeltaMs(0x800000, 0), -32_000);
  });

  it('encodes 3 bytes big-endian', () => {
    assert.deepEqual(encodeAbsSendTime(0xabcdef), Buffer.from([0xab, 0xcd, 0xef]));
    assert.equal(decodeAbsSendTime(Buffer.from([0x01, 0x02, 0x03])), 0x010203);
    assert.throws(() => encodeAbsSendTime(1 << 24), RangeError);
    assert.throws(() => decodeAbsSendTime(Buffer.alloc(2)), RangeError);
    assert.throws(() => absSendTimeFromMs(Number.NaN), RangeError);
  });
});

describe('transport-wide sequence number', () => {
  it('encodes 16 bits big-endian', () => {
    assert.deepEqual(encodeTransportWideSeq(0xfffe), Buffer.from([0xff, 0xfe]));
    assert.equal(decodeTransportWideSeq(Buffer.from([0x00, 0x01])), 1);
    assert.throws(() => encodeTransportWideSeq(65536), RangeError);
    assert.throws(() => decodeTransportWideSeq(Buffer.alloc(3)), RangeError);
  });
});

describe('frame-id extension', () => {
  it('writes the flag byte then the 32-bit id', () => {
    assert.deepEqual(
      encodeFrameId({ frameId: 0xdeadbeef, start: true, end: false, key: true }),
      Buffer.from([0xa0, 0xde, 0xad, 0xbe, 0xef]),
    );
    assert.deepEqual(encodeFrameId({ frameId: 1, start: false, end: true, key: false }), Buffer.from([0x40, 0, 0, 0, 1]));
  });

  it('round-trips every flag combination and the reference delta in the low 5 bits', () => {
    for (let flags = 0; flags < 8; flags++) {
      const ext = { frameId: 123_456 * flags, start: (flags & 4) !== 0, end: (flags & 2) !== 0, key: (flags & 1) !== 0 };
      assert.deepEqual(decodeFrameId(encodeFrameId(ext)), ext);
      assert.deepEqual(decodeFrameId(encodeFrameId({ ...ext, refDelta: flags + 1 })), { ...ext, refDelta: flags + 1 });
    }
    // 0x9f = start flag | reference delta 31.
    assert.deepEqual(decodeFrameId(Buffer.from([0x9f, 0, 0, 1, 0])), { frameId: 256, start: true, end: false, key: false, refDelta: 31 });
    assert.throws(() => encodeFrameId({ frameId: 1, start: false, end: false, key: false, refDelta: 32 }), RangeError);
  });

  it('rejects ids outside 32 bits and wrong lengths', () => {
    assert.throws(() => encodeFrameId({ frameId: 2 ** 32, start: false, end: false, key: false }), RangeError);
    assert.throws(() => encodeFrameId({ frameId: -1, start: false, end: false, key: false }), RangeError);
    assert.throws(() => decodeFrameId(Buffer.alloc(4)), RangeError);
  });
});

describe('frame-reference extension', () => {
  it('round-trips an episodic reference and a seeded one, and an RTP packet carrying it', () => {
    for (const ext of [
      { refFrameId: 59, seedHash: null },
      { refFrameId: 0xfffffffe, seedHash: 0xdeadbeef },
    ]) {
      const b = Buffer.alloc(FRAME_REF_BYTES);
      writeFrameRef(b, 0, ext);
      assert.deepEqual(readFrameRef(b, 0), ext);
      const pkt = {
        payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, marker: true,
        extensions: { frameId: { frameId: 60, start: true, end: true, key: false }, frameRef: ext },
        payload: Buffer.from([1, 2, 3]),
      };
      assert.deepEqual(parseRtp(serializeRtp(pkt)), pkt);
    }
    // Seeded flag, reference 0x00000102, hash 0x01020304: byte for byte.
    const b = Buffer.alloc(FRAME_REF_BYTES);
    writeFrameRef(b, 0, { refFrameId: 0x102, seedHash: 0x01020304 });
    assert.deepEqual([...b], [0x80, 0, 0, 1, 2, 1, 2, 3, 4]);
  });
});
