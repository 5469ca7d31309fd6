import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAppMessage, encodeAppMessage, type AppMessage } from '../../src/rtp/app-feedback';

describe('our application feedback messages (PSFB FMT 15, TBED)', () => {
  it('round-trips every message', () => {
    const messages: AppMessage[] = [
      { kind: 'clock-echo', lsr: 0xdeadbeef, receivedMs: 1234.5, sentMs: 1236.25 },
      { kind: 'iframe-complete', frameId: 4_000_000_123 },
      { kind: 'caught-up', frameId: 60, pictureId: 71 },
      { kind: 'end-of-stream', frameId: 299, lastSeq: 65535 },
      { kind: 'settled', frameId: 299, rendered: true },
      { kind: 'settled', frameId: 0, rendered: false },
    ];
    for (const m of messages) assert.deepEqual(decodeAppMessage(encodeAppMessage(m)), m);
  });

  it('short or unknown messages decode to null, never throw', () => {
    for (const m of [{ kind: 'clock-echo', lsr: 1, receivedMs: 2, sentMs: 3 }, { kind: 'caught-up', frameId: 1, pictureId: 2 }] as AppMessage[]) {
      const b = encodeAppMessage(m);
      for (let n = 0; n < b.length; n++) {
        const d = decodeAppMessage(b.subarray(0, n));
        assert.ok(d === null || n >= 8, `${m.kind} cut to ${n} bytes`);
      }
    }
    assert.equal(decodeAppMessage(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0])), null);
    assert.equal(decodeAppMessage(encodeAppMessage({ kind: 'end-of-stream', frameId: 1, lastSeq: 2 }).subarray(0, 10)), null);
    // A clock echo whose times are not finite would poison the offset estimate.
    const nan = encodeAppMessage({ kind: 'clock-echo', lsr: 1, receivedMs: 2, sentMs: 3 });
    nan.writeDoubleBE(Number.NaN, 16);
    assert.equal(decodeAppMessage(nan), null);
  });
});
