/**
 * Dual-stream I/P backup end to end, on a link whose capacity is shaped: tc tbf between
 * two network namespaces this test creates, 1.5 Mbit/s each way, with a 1 s queue (no
 * loss: recovery is issue 4). When namespaces are unavailable the sender's own pacer is
 * limited to the link rate instead (pacing factor = 1.5 Mbit/s / target), and the test says so.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectShaping, ShapedLink } from '../../src/emulation/netns';
import { readCsv } from '../../src/metrics/csv';
import { ensureClip, runPair, runPairShaped, tempDir, type ProcResult } from './pair';

const LINK_KBIT = 1500;
/**
 * The encoder's target leaves the link room for RTP/SRTP/IP overhead, the backup stream and
 * the I-frames' backlog to drain between I-frames; the pacer runs just under the link rate
 * (pacing factor 0.95 × link / target), so queues build in the pacer, where the backup's
 * priority applies, not in the tail-drop queue of the link, where it cannot.
 */
const TARGET_BPS = 1_000_000;
const PACING_FACTOR = (0.95 * LINK_KBIT * 1000) / TARGET_BPS;
const SECONDS = 10;
const KEYINT = 60;

let link: ShapedLink | null = null;
let how = '';

async function run(out: string, offerExtra: string[], answerExtra: string[]): Promise<{ offer: ProcResult; answer: ProcResult }> {
  const clip = ensureClip();
  const offerArgs = ['--play-from', clip, '--duration', String(SECONDS), '--rate-control', 'fixed', '--bitrate', String(TARGET_BPS), '--keyint', String(KEYINT), ...offerExtra];
  if (link) return runPairShaped(link, out, [...offerArgs, '--pacing-factor', String(PACING_FACTOR)], answerExtra);
  // The pacer at the link rate: pacing factor = link rate / target rate.
  return runPair(out, [...offerArgs, '--pacing-factor', String((LINK_KBIT * 1000) / TARGET_BPS)], answerExtra);
}

function read(out: string) {
  return {
    frames: readCsv(join(out, 'frames.csv')),
    sent: readCsv(join(out, 'sender-frames.csv')),
    events: readCsv(join(out, 'events.csv')),
    rxEvents: readCsv(join(out, 'receiver-events.csv')),
    rxMeta: JSON.parse(readFileSync(join(out, 'receiver-meta.json'), 'utf8')),
    txMeta: JSON.parse(readFileSync(join(out, 'sender-meta.json'), 'utf8')),
  };
}

function assertRenderedOnceInOrder(frames: Record<string, string>[]): void {
  const rendered = frames.filter((f) => f.rendered === '1');
  const ids = rendered.map((f) => Number(f.frame_id));
  assert.equal(new Set(ids).size, ids.length, 'no picture rendered twice');
  const byTime = [...rendered].sort((a, b) => Number(a.render_ms) - Number(b.render_ms)).map((f) => Number(f.frame_id));
  assert.deepEqual(byTime, [...byTime].sort((a, b) => a - b), 'pictures rendered in order');
}

describe('dual-stream I/P backup on a shaped 1.5 Mbit/s link', { timeout: 180_000 }, () => {
  before(async () => {
    const support = detectShaping();
    if (support.available) {
      link = await ShapedLink.up({ rateKbit: LINK_KBIT, queueMs: 1000 });
      how = `tc tbf ${LINK_KBIT} kbit/s in namespaces ${link.nsA} / ${link.nsB}`;
    } else {
      how = `bandwidth-limited pacer (namespaces unavailable: ${support.reason})`;
    }
  });
  after(async () => {
    await link?.down();
  });

  it('every I-frame picture is rendered from its backup P; the I-frame is decoded, not rendered; backup stops when the primary caught up', async (t) => {
    t.diagnostic(`link: ${how}`);
    const out = tempDir('dual');
    const { offer, answer } = await run(out, ['--mode', 'dual', '--backup-reference', 'shared'], []);
    assert.equal(offer.code, 0, offer.stderr);
    assert.equal(answer.code, 0, answer.stderr);
    const { frames, sent, events, rxEvents, rxMeta, txMeta } = read(out);

    assert.equal(rxMeta.counters.decoder_errors, 0, 'zero decoder errors');
    assert.ok(!frames.some((f) => f.not_rendered_reason === 'undecodable'), 'no undecodable frame');
    assertRenderedOnceInOrder(frames);

    const iPictures = sent.filter((r) => r.stream === 'primary' && r.frame_type === 'I' && Number(r.frame_id) > 0).map((r) => Number(r.frame_id));
    // An I-frame every 2 s (one moves to the next picture if the encoder dropped the due one).
    assert.equal(iPictures.length, Math.floor((SECONDS * 30 - 1) / KEYINT), `I-frames at ${iPictures}`);
    const rtt = Number(txMeta.counters.last_rtt_ms);
    for (const n of iPictures) {
      const primary = frames.find((f) => f.stream === 'primary' && Number(f.frame_id) === n)!;
      const backup = frames.find((f) => f.stream === 'backup' && Number(f.frame_id) === n);
      assert.ok(backup, `picture ${n} has a backup frame`);
      assert.equal(backup.frame_type, 'P', `picture ${n}: backup is a P-frame`);
      assert.equal(backup.rendered, '1', `picture ${n} rendered from the backup`);
      assert.equal(primary.rendered, '0', `picture ${n}: the I-frame is not rendered`);
      assert.notEqual(primary.decode_end_ms, '', `picture ${n}: the I-frame is decoded (as a reference)`);
      assert.equal(primary.not_rendered_reason, 'superseded');
      assert.equal(primary.rendered_from, 'backup');

      // The backup stream stops within one RTT + 50 ms after the feedback that ends the
      // episode (the default end rule: the primary caught up) is sent.
      const fb = rxEvents.find((e) => e.event === 'feedback-sent' && Number(e.frame_id) === n && /caught up/.test(e.detail));
      assert.ok(fb, `caught-up feedback sent for I-frame ${n}`);
      const lastBackupSent = Math.max(
        ...sent.filter((r) => r.stream === 'backup' && Number(r.frame_id) >= n && Number(r.frame_id) < n + KEYINT).map((r) => Number(r.last_sent_ms)),
      );
      const stopMs = lastBackupSent - Number(fb.time_ms);
      t.diagnostic(`I-frame ${n}: ${primary.size_bytes} B; backup P ${backup.size_bytes} B; backup stopped ${stopMs.toFixed(1)} ms after the feedback (RTT ${rtt.toFixed(1)} ms)`);
      assert.ok(stopMs <= rtt + 50, `picture ${n}: backup stopped ${stopMs.toFixed(1)} ms after the feedback`);
      assert.ok(events.some((e) => e.to_state === 'NORMAL' && Number(e.frame_id) === n && /feedback: .* caught up/.test(e.cause)), `episode ${n} ended by the feedback`);
    }
    // Rendering returned to the primary stream after each episode.
    const last = frames.filter((f) => f.rendered === '1').sort((a, b) => Number(a.frame_id) - Number(b.frame_id)).at(-1)!;
    assert.equal(last.stream, 'primary');
  });

  it('with the feedback suppressed, the timeout ends every episode', async (t) => {
    t.diagnostic(`link: ${how}`);
    const out = tempDir('dual-timeout');
    const { offer, answer } = await run(out, ['--mode', 'dual', '--feedback-timeout', '500'], ['--no-iframe-feedback']);
    assert.equal(offer.code, 0, offer.stderr);
    assert.equal(answer.code, 0, answer.stderr);
    const { frames, events, rxEvents, sent } = read(out);
    assert.ok(!rxEvents.some((e) => e.event === 'feedback-sent'), 'no feedback was sent');
    const ends = events.filter((e) => e.from_state === 'BACKUP' && e.to_state === 'NORMAL' && Number(e.frame_id) > 0);
    assert.ok(ends.length >= 3);
    for (const e of ends) assert.match(e.cause, /timeout/);
    // Backup frames cover ~500 ms (15 pictures) after each I-frame, then stop. Pictures the
    // encoders skipped while busy (the I-frame's encode on a loaded machine) have no backup
    // either, but lie inside the episode: they count towards its length.
    const backupIds = sent.filter((r) => r.stream === 'backup').map((r) => Number(r.frame_id));
    const droppedIds = sent.filter((r) => r.dropped !== '').map((r) => Number(r.frame_id));
    const iPictures = sent.filter((r) => r.stream === 'primary' && r.frame_type === 'I' && Number(r.frame_id) > 0).map((r) => Number(r.frame_id));
    for (const n of iPictures.slice(0, -1)) {
      const ep = backupIds.filter((id) => id >= n && id < n + KEYINT);
      const skipped = droppedIds.filter((id) => id > n && id < Math.max(...ep));
      const covered = ep.length + skipped.length;
      assert.ok(covered >= 14 && covered <= 17, `episode ${n}: ${ep.length} backup frames, ${skipped.length} pictures skipped by a busy encoder`);
    }
    assertRenderedOnceInOrder(frames);
  });
});
