/**
 * Both ends of a stream, over loopback with real processes: the first picture is sent only
 * once the receiver listens, and the sender says goodbye only once the receiver reported
 * the last picture settled — so a lost packet of the first or last picture is repaired by
 * NACK (the end-of-stream message carries the last sequence number: a lost tail has no
 * later packet to reveal it). A one-picture clip streams, renders and records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv } from '../../src/metrics/csv';
import { decodableFrames, shortClip } from '../helpers/bad-media';
import { runPair, tempDir } from './pair';

function meta(out: string, role: 'sender' | 'receiver'): { complete: boolean; counters: Record<string, number> } {
  return JSON.parse(readFileSync(join(out, `${role}-meta.json`), 'utf8'));
}

test('a one-picture clip whose only picture loses its last packet: repaired, rendered and recorded', { timeout: 60_000 }, async () => {
  const dir = tempDir('ends-one');
  const out = join(dir, 'out');
  const recording = join(dir, 'rec.mp4');
  const { offer, answer } = await runPair(out, ['--play-from', shortClip(dir, 1), '--rate-control', 'fixed'], ['--drop', 'primary:0', '--record-to', recording]);
  assert.equal(offer.code, 0, offer.stderr);
  assert.equal(answer.code, 0, answer.stderr);
  const frames = readCsv(join(out, 'frames.csv'));
  assert.deepEqual(frames.map((f) => [f.frame_id, f.rendered]), [['0', '1']]);
  const rx = meta(out, 'receiver');
  assert.equal(rx.counters.injected_rtp_drops, 1);
  assert.equal(rx.counters.recorded_frames, 1);
  assert.equal(decodableFrames(recording), 1);
  const tx = meta(out, 'sender');
  assert.equal(tx.counters.last_picture_reported, 1);
  assert.equal(tx.counters.last_picture_rendered, 1);
  assert.ok(tx.counters.retransmissions_sent >= 1);
});

test('a 60-picture clip whose last picture loses its last packet: every picture rendered, the last too', { timeout: 60_000 }, async () => {
  const dir = tempDir('ends-last');
  const out = join(dir, 'out');
  const { offer, answer } = await runPair(out, ['--play-from', shortClip(dir, 60), '--rate-control', 'fixed'], ['--drop', 'primary:59']);
  assert.equal(offer.code, 0, offer.stderr);
  assert.equal(answer.code, 0, answer.stderr);
  const frames = readCsv(join(out, 'frames.csv'));
  const last = frames.find((f) => f.frame_id === '59');
  assert.equal(last?.rendered, '1', `picture 59: ${last?.not_rendered_reason}`);
  // Pictures the sender dropped for lack of CPU have no receive row to render; every other one rendered.
  const lost = frames.filter((f) => f.rendered !== '1' && f.dropped === '');
  assert.deepEqual(lost.map((f) => `${f.frame_id}: ${f.not_rendered_reason}`), []);
  assert.equal(meta(out, 'sender').counters.last_picture_rendered, 1);
});
