import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinRows } from '../../src/metrics/join';
import { percentile, summarizeFrames } from '../../src/metrics/summary';

const sender = {
  frame_id: '7', stream: 'primary', source_index: '7', frame_type: 'P', size_bytes: '5000', qp: '30', packets: '5',
  rtp_timestamp: '123', capture_ms: '1000', encode_start_ms: '1001', encode_end_ms: '1006', pacer_enqueue_ms: '1006',
  first_sent_ms: '1006.5', last_sent_ms: '1015', dropped: '',
};
const receiver = {
  frame_id: '7', stream: 'primary', frame_type: 'P', size_bytes: '5000', packets: '5', duplicates: '1',
  first_recv_ms: '1507', last_recv_ms: '1517', complete_ms: '1517', decode_start_ms: '1540', decode_end_ms: '1543',
  render_ms: '1560', rendered: '1', not_rendered_reason: '', jitter_estimate_ms: '12', current_delay_ms: '30',
  target_delay_ms: '41', jitter_frame_delay_ms: '-3.5',
};

test('join moves receiver times onto the sender clock and splits e2e into components along the last packet', () => {
  const [row] = joinRows([sender], [receiver], { offsetMs: 500, method: 'rtcp-round-trip', uncertaintyMs: 1, samples: 3 }).rows;
  assert.equal(row.last_recv_ms, 1017);
  assert.equal(row.encode_ms, 6); // 1006 − 1000
  assert.equal(row.pacer_ms, 9); // 1015 − 1006
  assert.equal(row.network_ms, 2); // 1017 − 1015
  assert.equal(row.jitter_ms, 23); // 1040 − 1017
  assert.equal(row.decode_ms, 3);
  assert.equal(row.render_wait_ms, 17);
  // The jitter buffer's state and input are not times: never shifted by the clock offset.
  assert.deepEqual([row.jitter_estimate_ms, row.current_delay_ms, row.target_delay_ms, row.jitter_frame_delay_ms], [12, 30, 41, -3.5]);
  assert.equal(row.e2e_ms, 60); // 1060 − 1000 = 6 + 9 + 2 + 23 + 3 + 17
  assert.equal(row.received_packets, 5);
  assert.equal(row.duplicates, 1);
});

test('a frame the receiver never saw is kept, marked incomplete, with empty receive-side columns', () => {
  const [row] = joinRows([sender], [], { offsetMs: 0, method: 'shared-monotonic-clock', uncertaintyMs: 0, samples: 0 }).rows;
  assert.equal(row.not_rendered_reason, 'incomplete');
  assert.equal(row.rendered, 0);
  assert.equal(row.e2e_ms, '');
  assert.equal(row.encode_ms, 6);
});

test('nearest-rank percentiles and the summary count only rendered frames', () => {
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10);
  assert.equal(percentile([4], 99), 4);
  const row = (frame_id: string, stream: string, frame_type: string, rendered: string, e2e_ms: string, render_ms: string, why = '') =>
    ({ frame_id, stream, frame_type, rendered, e2e_ms, render_ms, size_bytes: '1000', dropped: '', not_rendered_reason: why });
  const s = summarizeFrames([
    row('0', 'primary', 'I', '1', '100', '1100'),
    row('1', 'primary', 'P', '1', '20', '1120'),
    // Picture 2's I-frame was superseded by its backup P: still an I-picture.
    row('2', 'primary', 'I', '0', '', '', 'superseded'),
    row('2', 'backup', 'P', '1', '30', '1400'), // 280 ms after the previous picture: a freeze
    row('3', 'primary', 'P', '0', '', '', 'late'),
  ]);
  assert.equal(s.rendered, 3);
  assert.deepEqual(s.notRendered, { superseded: 1, late: 1 });
  assert.equal(s.components.e2e_ms.p50, 30);
  assert.deepEqual([s.iFrameE2e.n, s.iFrameE2e.p50, s.iFrameE2e.max], [2, 30, 100]);
  assert.equal(s.pFrameE2e.n, 1);
  assert.equal(s.freezes, 1);
  assert.deepEqual(s.bytesByStream, { primary: 4000, backup: 1000 });
});

test('two receiver rows for one (frame, stream): the rendered one is kept, the other counted, never silently dropped', () => {
  const clock = { offsetMs: 0, method: 'shared-monotonic-clock', uncertaintyMs: 0, samples: 0 } as const;
  // What a receiver that reopened a frame for a late retransmission wrote: the rendered
  // row, then an "incomplete" row of the same frame holding only the straggler.
  const straggler = {
    ...receiver, packets: '1', duplicates: '0', first_recv_ms: '1900', last_recv_ms: '1900', complete_ms: '', decode_start_ms: '',
    decode_end_ms: '', render_ms: '', rendered: '0', not_rendered_reason: 'incomplete', jitter_estimate_ms: '', current_delay_ms: '',
  };
  for (const order of [[receiver, straggler], [straggler, receiver]]) {
    const { rows, duplicateReceiverRows } = joinRows([sender], order, clock);
    assert.equal(rows.length, 1);
    assert.equal(duplicateReceiverRows, 1);
    assert.equal(rows[0].rendered, 1);
    assert.equal(rows[0].render_ms, 1560);
    assert.equal(rows[0].e2e_ms, 560);
  }
  // Neither rendered: the complete one wins over the one with fewer packets.
  const completeLate = { ...receiver, render_ms: '', rendered: '0', not_rendered_reason: 'late' };
  const { rows } = joinRows([sender], [straggler, completeLate], clock);
  assert.equal(rows[0].not_rendered_reason, 'late');
  assert.equal(rows[0].complete_ms, 1517);
  // Rows of other frames or streams are not duplicates.
  const backup = { ...receiver, stream: 'backup' };
  assert.equal(joinRows([sender], [receiver, backup, { ...receiver, frame_id: '8' }], clock).duplicateReceiverRows, 0);
});
