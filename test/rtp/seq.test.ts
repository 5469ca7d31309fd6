import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { SeqUnwrapper, seqDelta, seqNewer } from '../../src/rtp/seq';

describe('16-bit sequence numbers', () => {
  it('takes the shortest signed distance across the wrap', () => {
    assert.equal(seqDelta(65535, 0), 1);
    assert.equal(seqDelta(0, 65535), -1);
    assert.equal(seqDelta(65530, 4), 10);
    assert.equal(seqDelta(100, 100), 0);
    assert.equal(seqDelta(0, 32767), 32767);
    assert.equal(seqDelta(0, 32768), -32768);
    assert.ok(seqNewer(2, 65534));
    assert.ok(!seqNewer(65534, 2));
  });

  it('unwraps reordered sequence numbers around 65535 → 0 onto one timeline', () => {
    const u = new SeqUnwrapper();
    const wire = [65533, 65535, 0, 65534, 2, 1, 65532, 3];
    assert.deepEqual(
      wire.map((s) => u.unwrap(s)),
      [65533, 65535, 65536, 65534, 65538, 65537, 65532, 65539],
    );
    const early = new SeqUnwrapper();
    assert.deepEqual([2, 65535, 3].map((s) => early.unwrap(s)), [2, -1, 3]);
  });
});
