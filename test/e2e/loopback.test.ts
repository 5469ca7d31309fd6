import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { readCsv } from '../../src/metrics/csv';
import { JOINED_COLUMNS } from '../../src/metrics/rows';
import { measureQuality } from '../../src/media/quality';
import { VideoFileReader } from '../../src/media/codec';
import { ensureClip, runPair, tempDir } from './pair';

const LATENCY_COLUMNS = ['encode_ms', 'pacer_ms', 'network_ms', 'jitter_ms', 'decode_ms', 'render_wait_ms', 'e2e_ms'];

test('offer and answer as two processes over loopback for 10 s: every frame rendered once, in order, recorded, PSNR > 30 dB', { timeout: 120_000 }, async (t) => {
  const clip = ensureClip();
  const out = tempDir('e2e');
  const rec = join(out, 'recorded.mp4');
  const { offer, answer } = await runPair(out, ['--play-from', clip, '--duration', '10', '--rate-control', 'fixed', '--bitrate', '2000000'], ['--record-to', rec]);
  assert.equal(offer.code, 0, `offer failed: ${offer.stderr}`);
  assert.equal(answer.code, 0, `answer failed: ${answer.stderr}`);

  const captured = readCsv(join(out, 'sender-frames.csv'));
  assert.equal(captured.length, 300, '10 s at 30 fps');
  // A picture x264 could not take in time (a CPU spike on a shared machine) is dropped
  // before encoding and logged; it was never sent. Everything sent must arrive.
  const sent = captured.filter((r) => r.dropped === '');
  const dropped = captured.length - sent.length;
  t.diagnostic(`${sent.length} frames sent, ${dropped} dropped at the encoder`);
  assert.ok(dropped <= 3, `${dropped} pictures dropped before encoding`);

  const received = readCsv(join(out, 'receiver-frames.csv'));
  assert.equal(received.length, sent.length, 'one receiver row per sent frame');
  assert.ok(received.every((r) => r.rendered === '1'), 'every frame rendered');

  const frames = readCsv(join(out, 'frames.csv')).filter((f) => f.dropped === '');
  assert.deepEqual(Object.keys(frames[0]), JOINED_COLUMNS);
  assert.equal(frames.length, sent.length);
  for (const f of frames) {
    for (const c of LATENCY_COLUMNS) assert.notEqual(f[c], '', `frame ${f.frame_id}: empty ${c}`);
    assert.ok(Number(f.e2e_ms) > 0);
    const parts = LATENCY_COLUMNS.slice(0, -1).reduce((s, c) => s + Number(f[c]), 0);
    assert.ok(Math.abs(parts - Number(f.e2e_ms)) < 0.01, `frame ${f.frame_id}: components sum to e2e`);
  }
  // Rendered exactly once each, in frame order.
  const byRender = [...frames].sort((a, b) => Number(a.render_ms) - Number(b.render_ms));
  const ids = frames.map((f) => Number(f.frame_id)).sort((x, y) => x - y);
  assert.deepEqual(byRender.map((f) => Number(f.frame_id)), ids, 'rendered in frame order');
  assert.equal(new Set(frames.map((f) => f.frame_id)).size, frames.length);

  const recorder = await VideoFileReader.open(rec);
  let recorded = 0;
  while (await recorder.next()) recorded++;
  assert.equal(recorded, sent.length, 'the recording has every sent frame');

  const q = await measureQuality(rec, clip, byRender.map((f) => Number(f.source_index)));
  t.diagnostic(`PSNR of the recording against the source: mean ${q.meanPsnr.toFixed(2)} dB, min ${q.minPsnr.toFixed(2)} dB (Y mean ${q.meanPsnrY.toFixed(2)} dB)`);
  assert.ok(q.meanPsnr > 30, `mean PSNR ${q.meanPsnr.toFixed(2)} dB`);

  const meta = JSON.parse(readFileSync(join(out, 'receiver-meta.json'), 'utf8'));
  assert.equal(meta.complete, true);
  assert.equal(meta.counters.decoder_errors, 0);
  const clock = JSON.parse(readFileSync(join(out, 'clock.json'), 'utf8'));
  assert.equal(clock.method, 'shared-monotonic-clock');
});
