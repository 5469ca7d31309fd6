/**
 * The parts of a cell run that need no link: the trace a cell replays (transforms in
 * order), the peers' command lines, the peer processes (logs, exits, the blocking wait a
 * signal handler uses) and the verdict on a cell.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { monotonicClock } from '../../src/clock';
import { timeWeightedMean } from '../../src/emulation/traces/stats';
import type { Trace } from '../../src/emulation/traces/types';
import { incompleteReason } from '../../src/experiments/cell-run';
import { peerCommands, shellQuote } from '../../src/experiments/commands';
import type { Cell } from '../../src/experiments/matrix';
import { PeerProcess, waitForExitSync } from '../../src/experiments/peers';
import { transformTrace, traceNeeds } from '../../src/experiments/traces';
import { removeTempDirs, tempDir } from '../helpers/cli';

after(removeTempDirs);

const trace = (samples: [number, number][], durationS: number, loop: boolean): Trace => ({
  name: 't',
  family: 'step',
  source: 'hand-written',
  durationS,
  loop,
  samples: samples.map(([timeS, kbit]) => ({ timeS, up: { kbit }, down: { kbit: kbit / 2 } })),
});

describe('the trace a cell replays', () => {
  it('offset, then repeated to the run (looping trace), then scaled to the mean over what is played, then clipped', () => {
    const t = trace([[0, 1000], [10, 3000]], 20, true);
    const out = transformTrace(t, { offsetS: 5, scaleMeanKbit: 1000, clipKbit: [0, 1400] }, 30);
    // Offset 5: 1000 for 5 s, 3000 for 10 s, 1000 for 5 s; repeated to 30 s: mean 2000 → × 0.5; clipped at 1400;
    // the 1000s ending one pass and starting the next merged.
    assert.deepEqual(
      out.samples.map((s) => [s.timeS, s.up.kbit, s.down.kbit]),
      [[0, 500, 250], [5, 1400, 750], [15, 500, 250], [25, 1400, 750]],
    );
    assert.equal(out.durationS, 30);
    assert.equal(out.loop, false, 'the file is exactly what was replayed');
    assert.equal(out.source, 'hand-written | t: offset 5 s, repeated to 30 s, scaled to a mean of 1000 kbit/s, clipped to [0, 1400] kbit/s');
  });

  it('the mean is the asked-for one before clipping; whole kbit/s; an outage stays an outage, a trickle does not become one', () => {
    const t = trace([[0, 0], [1, 0.3], [2, 2000.4]], 3, false);
    const scaled = transformTrace(t, { scaleMeanKbit: 500 }, 60);
    assert.equal(scaled.durationS, 3, 'a shorter non-looping trace is kept: its last sample holds');
    assert.deepEqual(scaled.samples.map((s) => s.up.kbit), [0, 1, 1500]);
    assert.ok(Math.abs(timeWeightedMean(transformTrace(t, { scaleMeanKbit: 500 }, 60)) - 500) < 1);
  });

  it('a longer non-looping trace is cut to the run; equal neighbours are merged', () => {
    const out = transformTrace(trace([[0, 1000], [10, 1000], [20, 500], [40, 800]], 60, false), {}, 30);
    assert.deepEqual(out.samples.map((s) => [s.timeS, s.up.kbit]), [[0, 1000], [20, 500]]);
    assert.equal(out.durationS, 30);
  });

  it('what a trace needs beyond capacity', () => {
    assert.deepEqual(traceNeeds(trace([[0, 1000]], 1, false)), { delay: false, loss: false });
    const t = trace([[0, 1000]], 1, false);
    t.samples[0].down = { kbit: 1000, lossPct: 1 };
    assert.deepEqual(traceNeeds(t), { delay: false, loss: true });
  });
});

const cell = (rateControl: string, offer: string[] = [], answer: string[] = []): Cell => ({
  index: 0,
  id: 'a__t__r0',
  arm: { name: 'a', offer, answer, rateControl },
  clip: { label: 'default', file: '/clips/default-720p30.mp4', scene: { name: 'default', height: 720 } },
  trace: { kind: 'trace', label: 't', trace: 't', transforms: {} },
  repetition: 0,
  seed: 77,
});

describe('peer command lines', () => {
  const ctx = { node: '/usr/bin/node', bin: '/tb/bin/testbed.js', cellDir: '/r/a__t__r0', clip: '/c.mp4', mediaS: 12, trace: { file: '/r/a__t__r0/trace.trace', startMs: 1234.5 }, recordTo: null };
  const ep = { offerAddr: '10.0.0.1', answerAddr: '10.0.0.2', port: 4000, offerPrefix: ['ip', 'netns', 'exec', 'tb-a'], answerPrefix: ['ip', 'netns', 'exec', 'tb-b'] };

  it("the runner's options, then the arm's (with {seed}); the trace only for oracle arms", () => {
    const c = peerCommands(cell('oracle', ['--mode', 'dual', '--max-bitrate', '{seed}000'], ['--playout-delay', '0,500']), ctx, ep);
    assert.deepEqual(c.offer, [
      'ip', 'netns', 'exec', 'tb-a', '/usr/bin/node', '/tb/bin/testbed.js', 'offer',
      '--out', '/r/a__t__r0', '--signaling', 'tcp-socket', '--signaling-host', '10.0.0.1', '--signaling-port', '4000',
      '--ice-host', '10.0.0.1', '--play-from', '/c.mp4', '--loop', '--duration', '12',
      '--oracle-trace', '/r/a__t__r0/trace.trace', '--trace-start-ms', '1234.5',
      '--mode', 'dual', '--max-bitrate', '77000',
    ]);
    assert.deepEqual(c.answer, [
      'ip', 'netns', 'exec', 'tb-b', '/usr/bin/node', '/tb/bin/testbed.js', 'answer',
      '--out', '/r/a__t__r0', '--signaling', 'tcp-socket', '--signaling-host', '10.0.0.1', '--signaling-port', '4000',
      '--ice-host', '10.0.0.2', '--playout-delay', '0,500',
    ]);
    const gcc = peerCommands(cell('gcc'), { ...ctx, recordTo: '/r/a__t__r0/recording.mp4' }, ep);
    assert.ok(!gcc.offer.includes('--oracle-trace'));
    assert.deepEqual(gcc.answer.slice(-2), ['--record-to', '/r/a__t__r0/recording.mp4']);
  });

  it('quotes for a shell only what needs it', () => {
    assert.equal(shellQuote(['node', '--x', '0,500', "it's", 'a b', '<p>']), `node --x 0,500 'it'\\''s' 'a b' '<p>'`);
  });
});

describe('peer processes', () => {
  it('log to a file; exit code and last line', async () => {
    const dir = tempDir('peers');
    const p = PeerProcess.start('offer', 'sh', ['-c', 'echo first; echo "testbed: went wrong" >&2; exit 3'], join(dir, 'offer.log'));
    assert.deepEqual(await p.exited, { code: 3, signal: null });
    assert.equal(p.lastLine(), 'testbed: went wrong');
    assert.equal(p.runningNow(), false);
  });

  it('the blocking wait sees a process end while the event loop is blocked (a zombie has ended)', async () => {
    const dir = tempDir('peers-wait');
    const node = (code: string) => ['-e', `${code}; setInterval(() => {}, 1000); console.log('ready')`];
    const p = PeerProcess.start('answer', process.execPath, node("process.on('SIGINT', () => process.exit(130))"), join(dir, 'answer.log'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(p.runningNow(), true);
    p.signal('SIGINT');
    const t0 = monotonicClock.now();
    assert.equal(waitForExitSync([p], 5000, () => monotonicClock.now()), true);
    assert.ok(monotonicClock.now() - t0 < 2000, 'returned as soon as it ended');
    assert.deepEqual(await p.exited, { code: 130, signal: null });

    const stuck = PeerProcess.start('offer', process.execPath, node("process.on('SIGINT', () => {})"), join(dir, 'offer.log'));
    await new Promise((r) => setTimeout(r, 500));
    stuck.signal('SIGINT');
    assert.equal(waitForExitSync([stuck], 300, () => monotonicClock.now()), false, 'gives up at the timeout');
    stuck.signal('SIGKILL');
    assert.equal((await stuck.exited).signal, 'SIGKILL');
  });
});

describe('the verdict on a cell', () => {
  const ok = { exit_code: 0, signal: null, last_line: '' };
  it('interrupt first, then a runner error, then a peer that failed, then nothing measured', () => {
    const peers = { offer: { exit_code: 1, signal: null, last_line: 'testbed: no video stream' }, answer: ok };
    assert.equal(incompleteReason({ stopReason: 'interrupted (SIGINT)', failure: 'x', peers, measured: true }), 'interrupted (SIGINT)');
    assert.equal(incompleteReason({ stopReason: null, failure: 'netns: link.sh failed', peers, measured: true }), 'netns: link.sh failed');
    assert.equal(incompleteReason({ stopReason: null, failure: null, peers, measured: true }), 'offer exited with 1: testbed: no video stream');
    assert.equal(
      incompleteReason({ stopReason: null, failure: null, peers: { offer: ok, answer: { exit_code: null, signal: 'SIGKILL', last_line: '' } }, measured: true }),
      'answer exited with SIGKILL: (no output)',
    );
    assert.equal(incompleteReason({ stopReason: null, failure: null, peers: { offer: ok, answer: ok }, measured: false }), 'no frames.csv: nothing was measured');
    assert.equal(incompleteReason({ stopReason: null, failure: null, peers: { offer: ok, answer: ok }, measured: true }), null);
  });
});
