/**
 * Loss recovery end to end over loopback, with the answer's own loss injector: a packet
 * dropped once is recovered by NACK + retransmission (no frame lost); a packet dropped on
 * every arrival cannot be, so the receiver gives up on the frame, sends a PLI, and the
 * sender answers with a forced I-frame (--keyint 0: no scheduled I-frame could help).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv } from '../../src/metrics/csv';
import { ensureClip, runPair, tempDir } from './pair';

test('NACK recovers a dropped packet without losing the frame; an unrecoverable one ends in PLI → forced I', { timeout: 120_000 }, async (t) => {
  const out = tempDir('loss');
  const { offer, answer } = await runPair(
    out,
    ['--play-from', ensureClip(), '--duration', '9', '--keyint', '0'],
    ['--drop', 'primary:30', '--drop', 'primary:100:always'],
  );
  assert.equal(offer.code, 0, offer.stderr);
  assert.equal(answer.code, 0, answer.stderr);
  const frames = readCsv(join(out, 'frames.csv'));
  const byId = (id: number) => frames.find((f) => f.stream === 'primary' && Number(f.frame_id) === id)!;
  const txMeta = JSON.parse(readFileSync(join(out, 'sender-meta.json'), 'utf8'));

  // Recovered: every packet of frame 30 arrived (one by retransmission) and it was rendered.
  const f30 = byId(30);
  assert.equal(f30.received_packets, f30.packets);
  assert.equal(f30.rendered, '1');
  assert.ok(txMeta.counters.retransmissions_sent >= 1);
  // (A picture dropped before encoding — logged, never sent — is not a loss.)
  for (let id = 1; id < 100; id++) if (byId(id).dropped === '') assert.equal(byId(id).rendered, '1', `frame ${id} rendered`);

  // Unrecoverable: frame 100 never completes; the receiver asks for a key frame.
  assert.equal(byId(100).rendered, '0');
  assert.equal(byId(100).not_rendered_reason, 'incomplete');
  const rxEvents = readCsv(join(out, 'receiver-events.csv'));
  assert.ok(rxEvents.some((e) => e.event === 'keyframe-request'), 'the receiver requested a key frame');
  const events = readCsv(join(out, 'events.csv'));
  const pli = events.find((e) => e.to_state === 'IFRAME_DUE' && /PLI/.test(e.cause));
  assert.ok(pli, 'the sender got the PLI');
  const k = Number(pli.frame_id);
  assert.ok(k > 100);
  assert.equal(byId(k).frame_type, 'I', `picture ${k} was encoded as an I-frame`);
  const after = frames.filter((f) => Number(f.frame_id) >= k && f.dropped === '');
  assert.ok(after.length > 10);
  assert.ok(after.every((f) => f.rendered === '1'), 'every picture from the forced I-frame on is rendered');
  t.diagnostic(`frame 30 recovered by retransmission (${txMeta.counters.retransmissions_sent} retransmissions); frame 100 lost for good; PLI answered with an I-frame at picture ${k}`);
});
