import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { FrameRows } from '../../src/receiver/frame-rows';

describe('FrameRows', () => {
  it('one row per (frame, stream): reopened while open, refused once written', () => {
    const rows = new FrameRows();
    const a = rows.openRow('primary', 7)!;
    assert.equal(rows.openRow('primary', 7), a);
    const b = rows.openRow('backup', 7)!;
    assert.notEqual(a, b);
    assert.equal(rows.close(a), true);
    assert.equal(rows.close(a), false, 'written once');
    assert.equal(rows.openRow('primary', 7), null);
    assert.equal(rows.get('primary', 7), undefined);
    assert.equal(rows.get('backup', 7), b);
    assert.deepEqual(rows.openRows(), [b]);
    // An older frame never seen before still gets its (first and only) row.
    assert.equal(rows.openRow('primary', 3)?.frame_id, 3);
  });

  it('beyond its exact memory, ids at or below the highest forgotten one count as written', () => {
    const rows = new FrameRows(4);
    for (let id = 0; id < 10; id++) rows.close(rows.openRow('primary', id)!);
    // Exact: 6..9; forgotten: 0..5.
    for (let id = 0; id < 10; id++) assert.equal(rows.openRow('primary', id), null, `frame ${id}`);
    assert.equal(rows.openRow('primary', 10)?.frame_id, 10);
    assert.equal(rows.isWritten('backup', 0), false);
  });
});
