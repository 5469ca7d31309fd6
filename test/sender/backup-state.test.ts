import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackupStateMachine, type BackupEnd, type Transition } from '../../src/sender/backup-state';

function machine(dual = true, endRule: BackupEnd = 'iframe-complete') {
  const log: Transition[] = [];
  const m = new BackupStateMachine({ dual, keyintFrames: 60, feedbackTimeoutMs: 500, endRule, onTransition: (t) => log.push(t) });
  return { m, log, path: () => log.map((t) => `${t.from}>${t.to}@${t.frameId}`) };
}

describe('dual-stream encoder state machine', () => {
  it('scheduled I-frame: NORMAL → I-FRAME DUE → BACKUP, backup continues until the feedback, then NORMAL', () => {
    const { m, log, path } = machine();
    assert.deepEqual(m.planFrame(0, 0), { primaryKey: true, backup: 'start' });
    assert.ok(m.onFeedback('iframe-complete', 0, 40));
    assert.deepEqual(m.planFrame(1, 33), { primaryKey: false, backup: 'none' });
    assert.deepEqual(m.planFrame(60, 2000), { primaryKey: true, backup: 'start' });
    assert.deepEqual(m.planFrame(61, 2033), { primaryKey: false, backup: 'continue' });
    assert.equal(m.onFeedback('iframe-complete', 59, 2050), false, 'feedback for another I-frame is ignored');
    assert.ok(m.onFeedback('iframe-complete', 60, 2100));
    assert.deepEqual(m.planFrame(62, 2066), { primaryKey: false, backup: 'none' });
    assert.deepEqual(path(), ['NORMAL>IFRAME_DUE@0', 'IFRAME_DUE>BACKUP@0', 'BACKUP>NORMAL@0', 'NORMAL>IFRAME_DUE@60', 'IFRAME_DUE>BACKUP@60', 'BACKUP>NORMAL@60']);
    assert.match(log[5].cause, /feedback/);
    assert.equal(log[5].timeMs, 2100);
  });

  it('end rule caught-up: the I-frame-complete feedback does not end the episode, caught-up does', () => {
    const { m, log } = machine(true, 'caught-up');
    m.planFrame(60, 2000);
    assert.equal(m.onFeedback('iframe-complete', 60, 2300), false);
    assert.deepEqual(m.planFrame(70, 2333), { primaryKey: false, backup: 'continue' });
    assert.equal(m.onFeedback('caught-up', 59, 2400), false, 'another episode');
    assert.ok(m.onFeedback('caught-up', 60, 2420));
    assert.deepEqual(m.planFrame(75, 2500), { primaryKey: false, backup: 'none' });
    assert.match(log.at(-1)!.cause, /caught up/);
  });

  it('the link down (an outage): a scheduled I-frame gets no backup, and a running episode stops', () => {
    const { m, log } = machine(true, 'caught-up');
    m.planFrame(0, 0);
    m.onFeedback('caught-up', 0, 40);
    const down = 'no transport feedback for 420 ms (outage)';
    assert.deepEqual(m.planFrame(60, 2000, down), { primaryKey: true, backup: 'none' });
    assert.equal(m.state, 'NORMAL');
    assert.equal(log.at(-1)!.cause, `no backup: ${down}`);
    // An episode under way when the link goes down ends at the next picture.
    assert.deepEqual(m.planFrame(120, 4000), { primaryKey: true, backup: 'start' });
    assert.deepEqual(m.planFrame(121, 4033, down), { primaryKey: false, backup: 'none' });
    assert.equal(log.at(-1)!.cause, `backup stopped: ${down}`);
    // Single stream: no backup either way, the reason is not needed.
    const single = machine(false);
    assert.deepEqual(single.m.planFrame(0, 0, down), { primaryKey: true, backup: 'none' });
    assert.match(single.log.at(-1)!.cause, /single stream/);
  });

  it('a scheduled I-frame whose picture was dropped before encoding moves to the next picture', () => {
    const { m } = machine();
    m.planFrame(0, 0);
    m.onFeedback('iframe-complete', 0, 10);
    assert.equal(m.planFrame(59, 1967).primaryKey, false);
    // Picture 60 never reached the encoder (dropped while it was busy).
    assert.deepEqual(m.planFrame(61, 2033), { primaryKey: true, backup: 'start' });
    assert.equal(m.planFrame(62, 2066).primaryKey, false);
    assert.equal(m.planFrame(120, 4000).primaryKey, true, 'the schedule stays on multiples of keyint');
  });

  it('no feedback: the episode ends by timeout at the first picture after it', () => {
    const { m, log } = machine();
    m.planFrame(60, 1000);
    assert.equal(m.planFrame(61, 1499).backup, 'continue');
    assert.equal(m.planFrame(62, 1500).backup, 'none');
    assert.equal(m.state, 'NORMAL');
    assert.match(log.at(-1)!.cause, /timeout/);
  });

  it('an I-frame the receiver asks for (PLI) gets no backup, and ends an active episode', () => {
    const { m, log } = machine();
    m.planFrame(60, 1000);
    m.requestKeyFrame('receiver request (PLI)');
    assert.deepEqual(m.planFrame(61, 1033), { primaryKey: true, backup: 'none', flush: true });
    assert.equal(m.state, 'NORMAL');
    assert.equal(m.episodeFrameId, null);
    assert.equal(log.at(-2)!.from, 'BACKUP');
    assert.match(log.at(-2)!.cause, /receiver request.*while a backup episode was active/);
    assert.match(log.at(-1)!.cause, /no backup for an I-frame the receiver asked for/);
    assert.equal(m.onFeedback('iframe-complete', 60, 1100), false, 'the superseded I-frame no longer ends anything');
    assert.deepEqual(m.planFrame(62, 1066), { primaryKey: false, backup: 'none' });
  });

  it('a scheduled I-frame due while a backup is active supersedes the episode with a new one', () => {
    const { m, log } = machine();
    m.planFrame(60, 1000);
    assert.deepEqual(m.planFrame(120, 1400), { primaryKey: true, backup: 'start' });
    assert.equal(m.episodeFrameId, 120);
    assert.match(log.at(-2)!.cause, /scheduled.*while a backup episode was active/);
  });

  it('single stream: I-frames without backup, back to NORMAL at once', () => {
    const { m, path } = machine(false);
    assert.deepEqual(m.planFrame(0, 0), { primaryKey: true, backup: 'none' });
    assert.deepEqual(m.planFrame(60, 2000), { primaryKey: true, backup: 'none' });
    assert.deepEqual(path(), ['NORMAL>IFRAME_DUE@0', 'IFRAME_DUE>NORMAL@0', 'NORMAL>IFRAME_DUE@60', 'IFRAME_DUE>NORMAL@60']);
    // Only an I-frame the receiver asked for flushes the queue ahead of it.
    m.requestKeyFrame('receiver request (PLI)');
    assert.deepEqual(m.planFrame(70, 2333), { primaryKey: true, backup: 'none', flush: true });
  });

  it('an episode that cannot run is abandoned with its cause', () => {
    const { m, log } = machine();
    m.planFrame(0, 0);
    m.abandonEpisode('no decoded primary picture to seed from', 0, 1);
    assert.equal(m.state, 'NORMAL');
    assert.equal(log.at(-1)!.cause, 'no decoded primary picture to seed from');
  });
});
