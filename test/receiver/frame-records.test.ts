import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { FrameRecords } from '../../src/receiver/frame-records';

describe('FrameRecords', () => {
  it('one record per (frame, stream): reopened while open, refused once settled', () => {
    const records = new FrameRecords();
    const a = records.openRecord('primary', 7)!;
    assert.equal(records.openRecord('primary', 7), a);
    const b = records.openRecord('backup', 7)!;
    assert.notEqual(a, b);
    assert.equal(records.close(a), true);
    assert.equal(records.close(a), false, 'settled once');
    assert.equal(records.openRecord('primary', 7), null);
    assert.equal(records.get('primary', 7), undefined);
    assert.equal(records.get('backup', 7), b);
    assert.deepEqual(records.openRecords(), [b]);
    // An older frame never seen before still gets its (first and only) record.
    assert.equal(records.openRecord('primary', 3)?.frameId, 3);
  });

  it('beyond its exact memory, ids at or below the highest forgotten one count as settled', () => {
    const records = new FrameRecords(4);
    for (let id = 0; id < 10; id++) records.close(records.openRecord('primary', id)!);
    // Exact: 6..9; forgotten: 0..5.
    for (let id = 0; id < 10; id++) assert.equal(records.openRecord('primary', id), null, `frame ${id}`);
    assert.equal(records.openRecord('primary', 10)?.frameId, 10);
    assert.equal(records.isSettled('backup', 0), false);
  });
});
