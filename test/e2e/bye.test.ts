/**
 * The end of a run when the sender's RTCP BYEs are lost (a saturated link drops them with
 * the media): the answer's loss injector drops every RTCP BYE on arrival, so only the
 * offer's `bye` on the signaling channel can end the run. The answer must take it as the
 * normal end: exit 0, metadata complete, and the two sides joined.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureClip, runPair, tempDir } from './pair';

test('RTCP BYE lost: the answer ends normally on the signaling bye (exit 0, complete, joined)', { timeout: 60_000 }, async (t) => {
  const out = tempDir('bye');
  const { offer, answer } = await runPair(
    out,
    ['--play-from', ensureClip(), '--duration', '2', '--rate-control', 'fixed'],
    ['--drop', 'rtcp-bye'],
  );
  assert.equal(offer.code, 0, offer.stderr);
  assert.equal(answer.code, 0, answer.stderr);
  const rx = JSON.parse(readFileSync(join(out, 'receiver-meta.json'), 'utf8'));
  assert.equal(rx.complete, true);
  assert.equal(rx.incomplete_reason, null);
  // The offer sends its BYE three times; at least one reached the answer and was dropped
  // (the answer may stop before the last ones are read).
  assert.ok(rx.counters.injected_rtcp_drops >= 1, `RTCP BYEs dropped: ${rx.counters.injected_rtcp_drops}`);
  assert.ok(rx.counters.frames_rendered > 30);
  assert.ok(existsSync(join(out, 'frames.csv')), 'the last peer to finish joined both sides');
  t.diagnostic(`${rx.counters.injected_rtcp_drops} RTCP BYE(s) dropped; ${rx.counters.frames_rendered} frames rendered`);
});
