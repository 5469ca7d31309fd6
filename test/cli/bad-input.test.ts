/**
 * Bad input, end to end, with real processes: every failure is ONE line on stderr
 * starting `testbed: `, a non-zero exit (2 usage, 1 input/connection, 3 peer gone
 * mid-run, 130 interrupted), no stack trace, and nothing already measured is lost —
 * CSVs flushed and closed, metadata saying the run is incomplete and why.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RECEIVER_COLUMNS, SENDER_COLUMNS } from '../../src/metrics/rows';
import {
  audioOnlyFile,
  decodableFrames,
  garbagePayloadCopy,
  randomBytesFile,
  smallClip,
  truncatedCopy,
} from '../helpers/bad-media';
import {
  assertClosedCsv,
  assertIncomplete,
  assertOneLine,
  csvLinesSoFar,
  ensureClip,
  readMetaFile,
  removeTempDirs,
  runCli,
  startCli,
  tempDir,
  uniquePort,
  waitFor,
  withoutCpuWarning,
  type Proc,
} from '../helpers/cli';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

let clip = '';
const fx = {
  dir: '',
  audioOnly: '',
  random: '',
  smallClipFrames: 0,
  truncatedMoovAtEnd: '',
  truncatedFaststart: '',
  truncatedFaststartFrames: 0,
  undecodable: '',
};

before(() => {
  clip = ensureClip();
  fx.dir = tempDir('bad-input-fixtures');
  fx.audioOnly = audioOnlyFile(fx.dir);
  fx.random = randomBytesFile(fx.dir);
  const fast = smallClip(fx.dir, true);
  const slow = smallClip(fx.dir, false);
  fx.smallClipFrames = decodableFrames(fast);
  fx.truncatedFaststart = truncatedCopy(fast, 0.3, 'truncated-faststart.mp4');
  fx.truncatedFaststartFrames = decodableFrames(fx.truncatedFaststart);
  fx.truncatedMoovAtEnd = truncatedCopy(slow, 0.3, 'truncated-moov-at-end.mp4');
  fx.undecodable = garbagePayloadCopy(fast, 'garbage-payload.mp4');
});

// Whatever a failed assertion left running is killed before the next test.
const running: Proc[] = [];
function start(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Proc {
  const p = startCli(args, { timeoutMs: 30_000, ...opts });
  running.push(p);
  return p;
}
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});
after(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
  removeTempDirs();
});

/** `offer` options that fail fast if a bad file were (wrongly) accepted. */
function offerArgs(file: string, out: string): string[] {
  return ['offer', '--play-from', file, '--out', out, '--signaling-port', String(uniquePort()), '--connect-timeout', '2'];
}

describe('bad --play-from files: one line, exit 1, before any network work', () => {
  it('a missing file', async () => {
    const r = await runCli(offerArgs(join(fx.dir, 'no-such-file.mp4'), tempDir('missing')));
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: file not found: .*no-such-file\.mp4$/);
  });

  it('a file with no video stream (audio only, lavfi sine)', async () => {
    const r = await runCli(offerArgs(fx.audioOnly, tempDir('audio')));
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: no video stream in .*audio-only\.m4a$/);
  });

  it('a corrupt container (random bytes)', async () => {
    const r = await runCli(offerArgs(fx.random, tempDir('random')));
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: cannot read .*random\.mp4 as a media container \(.*Invalid data found when processing input\)$/);
  });

  it('a truncated MP4 whose index (moov) was at the end: first 30 %', async () => {
    const r = await runCli(offerArgs(fx.truncatedMoovAtEnd, tempDir('trunc-moov')));
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: cannot read .*truncated-moov-at-end\.mp4 as a media container \(moov atom not found; Invalid data found when processing input\)$/);
  });

  it('an undecodable video stream (MP4 whose sample bytes are garbage)', async () => {
    const out = tempDir('undecodable');
    const r = await runCli(offerArgs(fx.undecodable, out));
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: the video stream of .*garbage-payload\.mp4 could not be decoded \(no picture\)$/);
  });
});

describe('a faststart MP4 cut in the middle of its media data (first 30 %)', () => {
  it('opens and runs cleanly over the frames that exist, then both peers exit 0', { timeout: 30_000 }, async () => {
    assert.ok(fx.truncatedFaststartFrames > 0 && fx.truncatedFaststartFrames < fx.smallClipFrames / 2,
      `the cut file decodes ${fx.truncatedFaststartFrames} of ${fx.smallClipFrames} frames`);
    const port = String(uniquePort());
    const outO = tempDir('trunc-fast-o');
    const outA = tempDir('trunc-fast-a');
    const answer = start(['answer', '--out', outA, '--signaling-port', port, '--connect-timeout', '10']);
    const offer = start(['offer', '--play-from', fx.truncatedFaststart, '--out', outO, '--signaling-port', port, '--connect-timeout', '10']);
    const [o, a] = await Promise.all([offer.done, answer.done]);
    assert.equal(o.code, 0, `offer: ${o.stderr}`);
    assert.equal(a.code, 0, `answer: ${a.stderr}`);
    assert.equal(withoutCpuWarning(o.stderr), '');
    assert.equal(withoutCpuWarning(a.stderr), '');
    const sent = assertClosedCsv(join(outO, 'sender-frames.csv'), SENDER_COLUMNS, 1);
    assert.equal(sent.length, fx.truncatedFaststartFrames, 'one sender row per frame FFmpeg can decode from the cut file');
    assertClosedCsv(join(outA, 'receiver-frames.csv'), RECEIVER_COLUMNS, 1);
    assert.equal(readMetaFile(outO, 'sender').complete, true);
    assert.equal(readMetaFile(outA, 'receiver').complete, true);
  });
});

describe('an unwritable --out (a path under a regular file): exit 2', () => {
  const underFile = () => {
    const d = tempDir('out-file');
    const f = join(d, 'a-regular-file');
    writeFileSync(f, 'x');
    return join(f, 'run');
  };

  it('offer', async () => {
    const out = underFile();
    const r = await runCli(offerArgs(clip, out));
    assert.equal(r.code, 2);
    assertOneLine(r, /^testbed: cannot write to --out .*a-regular-file\/run \(ENOTDIR\)$/);
  });

  it('answer', async () => {
    const out = underFile();
    const r = await runCli(['answer', '--out', out, '--signaling-port', String(uniquePort()), '--connect-timeout', '2']);
    assert.equal(r.code, 2);
    assertOneLine(r, /^testbed: cannot write to --out .*a-regular-file\/run \(ENOTDIR\)$/);
  });
});

describe('malformed SDP fed to the answer (--signaling copy-and-paste, stdin)', () => {
  const info = { hostname: 'elsewhere', bootId: 'unknown', pid: 1, version: '0.0.0' };

  it('a JSON offer whose sdp is garbage', async () => {
    const out = tempDir('sdp-garbage');
    const line = JSON.stringify({ type: 'offer', sdp: 'garbage', info }) + '\n';
    const r = await runCli(['answer', '--signaling', 'copy-and-paste', '--out', out, '--connect-timeout', '2'], { input: line });
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: malformed SDP in the offer/);
    assert.equal(r.stdout, '', 'no answer was sent');
    assertIncomplete(out, 'receiver', /malformed SDP/);
  });

  it('a line that is not JSON', async () => {
    const out = tempDir('sdp-not-json');
    const r = await runCli(['answer', '--signaling', 'copy-and-paste', '--out', out, '--connect-timeout', '2'], {
      input: 'v=0 this is not a signaling message\n',
    });
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: malformed signaling message \(not JSON\)$/);
    assertIncomplete(out, 'receiver', /not JSON/);
  });
});

describe('a peer that never answers (--connect-timeout 2): exit 1 after the timeout', () => {
  it('offer, nobody connecting', async () => {
    const out = tempDir('lonely-offer');
    const t0 = performance.now();
    const r = await runCli(offerArgs(clip, out));
    const s = (r.endedMs - t0) / 1000;
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: no peer connected to 127\.0\.0\.1:\d+ within 2 s$/);
    assert.ok(s >= 2 && s < 8, `ended after ${s.toFixed(1)} s`);
    assertIncomplete(out, 'sender', /no peer connected/);
  });

  it('answer, no offerer', async () => {
    const out = tempDir('lonely-answer');
    const t0 = performance.now();
    const r = await runCli(['answer', '--out', out, '--signaling-port', String(uniquePort()), '--connect-timeout', '2']);
    const s = (r.endedMs - t0) / 1000;
    assert.equal(r.code, 1);
    assertOneLine(r, /^testbed: cannot reach the offerer at 127\.0\.0\.1:\d+ within 2 s \(ECONNREFUSED\)$/);
    assert.ok(s >= 2 && s < 8, `ended after ${s.toFixed(1)} s`);
    assertIncomplete(out, 'receiver', /cannot reach the offerer/);
  });
});

describe('SIGINT while still waiting for the peer: exit 130 at once, not at --connect-timeout', () => {
  for (const role of ['offer', 'answer'] as const) {
    it(role, async () => {
      const out = tempDir(`sigint-waiting-${role}`);
      const port = String(uniquePort());
      const p =
        role === 'offer'
          ? start(['offer', '--play-from', clip, '--out', out, '--signaling-port', port, '--connect-timeout', '30'])
          : start(['answer', '--out', out, '--signaling-port', port, '--connect-timeout', '30']);
      // The metadata is written in the same tick the SIGINT handler is installed.
      const metaRole = role === 'offer' ? 'sender' : 'receiver';
      await waitFor(() => existsSync(join(out, `${metaRole}-meta.json`)), 10_000, 'the run metadata');
      await sleep(300);
      const t0 = performance.now();
      p.child.kill('SIGINT');
      const r = await p.done;
      assert.equal(r.code, 130);
      assertOneLine(r, /^testbed: interrupted \(SIGINT\)$/);
      assert.ok(r.endedMs - t0 < 3000, `ended ${((r.endedMs - t0) / 1000).toFixed(1)} s after SIGINT`);
      assertIncomplete(out, metaRole, /interrupted \(SIGINT\)/);
    });
  }
});

/**
 * Both peers over tcp, each writing its own directory, streaming the default clip; resolves
 * once frames are flowing both ways into the CSVs and ~3 s have passed since the start.
 */
async function streamingPair(extra: { offer?: string[]; answer?: string[] } = {}) {
  const port = String(uniquePort());
  const outO = tempDir('mid-o');
  const outA = tempDir('mid-a');
  const t0 = performance.now();
  const answer = start(['answer', '--out', outA, '--signaling-port', port, '--connect-timeout', '10', ...(extra.answer ?? [])]);
  const offer = start([
    'offer', '--play-from', clip, '--duration', '15', '--out', outO, '--signaling-port', port, '--connect-timeout', '10',
    ...(extra.offer ?? []),
  ]);
  await waitFor(
    () => csvLinesSoFar(join(outO, 'sender-frames.csv')) >= 20 && csvLinesSoFar(join(outA, 'receiver-frames.csv')) >= 20,
    15_000,
    'frames in both CSVs',
  );
  await sleep(t0 + 3000 - performance.now());
  return { offer, answer, outO, outA };
}

const PEER_TIMEOUT_S = 2;

describe('a peer that disappears mid-stream (kill -9): the survivor finishes its files, exit 3', () => {
  it('the offer is killed: the answer closes receiver-frames.csv and receiver-meta.json', { timeout: 40_000 }, async () => {
    const { offer, answer, outA } = await streamingPair({ answer: ['--peer-timeout', String(PEER_TIMEOUT_S)] });
    const t0 = performance.now();
    offer.child.kill('SIGKILL');
    const a = await answer.done;
    const s = (a.endedMs - t0) / 1000;
    assert.equal(a.code, 3);
    assertOneLine(a, /^testbed: the peer disappeared/);
    assert.ok(s < PEER_TIMEOUT_S + 4, `answer ended ${s.toFixed(1)} s after the kill`);
    assertClosedCsv(join(outA, 'receiver-frames.csv'), RECEIVER_COLUMNS, 20);
    assertIncomplete(outA, 'receiver', /peer disappeared/);
    assert.equal(readMetaFile(outA, 'receiver').counters.frames_rendered > 0, true);
  });

  it('the answer is killed: the offer closes sender-frames.csv and sender-meta.json', { timeout: 40_000 }, async () => {
    const { offer, answer, outO } = await streamingPair({ offer: ['--peer-timeout', String(PEER_TIMEOUT_S)] });
    const t0 = performance.now();
    answer.child.kill('SIGKILL');
    const o = await offer.done;
    const s = (o.endedMs - t0) / 1000;
    assert.equal(o.code, 3);
    assertOneLine(o, /^testbed: the peer disappeared/);
    assert.ok(s < PEER_TIMEOUT_S + 4, `offer ended ${s.toFixed(1)} s after the kill`);
    assertClosedCsv(join(outO, 'sender-frames.csv'), SENDER_COLUMNS, 20);
    assertIncomplete(outO, 'sender', /peer disappeared/);
    assert.equal(readMetaFile(outO, 'sender').counters.frames_encoded > 0, true);
  });
});

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  describe(`${sig} mid-stream: files flushed and closed, meta says interrupted, exit ${code}`, () => {
    it('on the offer (the answer then sees its peer gone: exit 3)', { timeout: 40_000 }, async () => {
      const { offer, answer, outO, outA } = await streamingPair();
      offer.child.kill(sig);
      const [o, a] = await Promise.all([offer.done, answer.done]);
      assert.equal(o.code, code, o.stderr);
      assertOneLine(o, new RegExp(`^testbed: interrupted \\(${sig}\\)$`));
      assertClosedCsv(join(outO, 'sender-frames.csv'), SENDER_COLUMNS, 20);
      assertIncomplete(outO, 'sender', new RegExp(`interrupted \\(${sig}\\)`));
      assert.equal(a.code, 3);
      assertOneLine(a, /^testbed: the peer disappeared/);
      assertClosedCsv(join(outA, 'receiver-frames.csv'), RECEIVER_COLUMNS, 20);
      assertIncomplete(outA, 'receiver', /peer disappeared/);
    });

    it('on the answer (the offer then sees its peer gone: exit 3)', { timeout: 40_000 }, async () => {
      const { offer, answer, outO, outA } = await streamingPair();
      answer.child.kill(sig);
      const [o, a] = await Promise.all([offer.done, answer.done]);
      assert.equal(a.code, code, a.stderr);
      assertOneLine(a, new RegExp(`^testbed: interrupted \\(${sig}\\)$`));
      assertClosedCsv(join(outA, 'receiver-frames.csv'), RECEIVER_COLUMNS, 20);
      assertIncomplete(outA, 'receiver', new RegExp(`interrupted \\(${sig}\\)`));
      assert.equal(o.code, 3);
      assertOneLine(o, /^testbed: the peer disappeared/);
      assertClosedCsv(join(outO, 'sender-frames.csv'), SENDER_COLUMNS, 20);
      assertIncomplete(outO, 'sender', /peer disappeared/);
    });
  });
}

describe('invalid options: one line, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['a non-numeric --bitrate', ['offer', '--play-from', 'x.mp4', '--bitrate', 'abc'], /^testbed: --bitrate must be a number between 10000 and 1000000000, got 'abc'$/],
    ['an unknown option', ['offer', '--play-from', 'x.mp4', '--bogus'], /^testbed: unknown option '--bogus'$/],
    ['a misspelt option (commander suggests on a second line)', ['offer', '--play-from', 'x.mp4', '--bitrat', '5'], /^testbed: unknown option '--bitrat' \(Did you mean --bitrate\?\)$/],
    ['a missing required option', ['offer'], /^testbed: required option '--play-from <file>' not specified$/],
    ['an invalid --signaling choice', ['answer', '--signaling', 'carrier-pigeon'], /^testbed: option '--signaling <kind>' argument 'carrier-pigeon' is invalid/],
    ['an unknown command', ['ofer'], /^testbed: unknown command 'ofer'/],
    ['an --out that cannot exist (under /proc, where a recursive mkdir would hang)', ['answer', '--out', '/proc/no/such/dir'], /^testbed: cannot write to --out \/proc\/no\/such\/dir \(ENOENT\)$/],
    ['an unreadable --oracle-trace (checked before connecting)', ['offer', '--play-from', 'x.mp4', '--rate-control', 'oracle', '--oracle-trace', '/no/such.trace'], /^testbed: --oracle-trace: cannot read trace \/no\/such\.trace/],
    ['--intra-refresh without a refresh period (--keyint 0)', ['offer', '--play-from', 'x.mp4', '--intra-refresh', '--keyint', '0'], /^testbed: --intra-refresh needs --keyint > 0 \(the refresh period in frames\)$/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2);
      assertOneLine(r, message);
    });
  }
});

describe('--verbose', () => {
  it('adds the stack trace after the one line', async () => {
    const r = await runCli([...offerArgs(join(fx.dir, 'no-such-file.mp4'), tempDir('verbose')), '--verbose']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^testbed: file not found: /m);
    assert.match(r.stderr, /^\s{4}at /m);
  });
});
