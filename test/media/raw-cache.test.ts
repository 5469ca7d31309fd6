/**
 * The raw source cache: pictures read back equal the decoded ones, the key follows the
 * content and the size, the source reads the cache when it holds the clip (and says so), a
 * late release is counted, and `testbed cache` lists, builds and clears.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Timer } from '../../src/clock';
import { packedI420, VideoFileReader } from '../../src/media/codec';
import { runFfmpeg } from '../../src/media/ffmpeg-cli';
import { buildRawClip, findRawClip, listRawClips, RawClipReader } from '../../src/media/raw-cache';
import { FileSource, type CapturedFrame } from '../../src/media/source';
import { starvationWarning } from '../../src/metrics/starvation';
import { removeTempDirs, runCli, tempDir } from '../helpers/cli';

let dir: string;
let clip: string;
const prevCache = process.env.TESTBED_CACHE;

before(async () => {
  dir = tempDir('raw-cache');
  process.env.TESTBED_CACHE = join(dir, 'cache');
  clip = join(dir, 'clip.mp4');
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=30', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
});

after(() => {
  if (prevCache === undefined) delete process.env.TESTBED_CACHE;
  else process.env.TESTBED_CACHE = prevCache;
  removeTempDirs();
});

describe('raw source cache', () => {
  it('holds exactly the decoded pictures, with their timestamps, and reads them back in a loop', async () => {
    assert.equal(await findRawClip(clip, 160, 90), null);
    const entry = await buildRawClip(clip, null);
    assert.equal(entry.info.pictures, 30);
    assert.deepEqual([entry.info.width, entry.info.height, entry.info.frame_bytes], [160, 90, 160 * 90 * 1.5]);
    const dec = await VideoFileReader.open(clip);
    const raw = await RawClipReader.open(entry);
    for (let i = 0; i < 30; i++) {
      const a = (await dec.next())!;
      const b = (await raw.next())!;
      assert.ok(packedI420(a.frame).equals(packedI420(b.frame)), `picture ${i}`);
      assert.equal(b.ptsS, a.ptsS);
    }
    assert.equal(await raw.next(), null);
    await raw.rewind();
    assert.ok((await raw.next()) !== null, 'rewind starts again');
    await raw.close();
    assert.deepEqual((await findRawClip(clip, 160, 90))?.data, entry.data);
  });

  it('is keyed by content and size: a scaled entry is its own, a changed file finds nothing', async () => {
    const scaled = await buildRawClip(clip, { width: 80, height: 46 });
    assert.deepEqual([scaled.info.width, scaled.info.height], [80, 46]);
    assert.notEqual(scaled.data, (await findRawClip(clip, 160, 90))!.data);
    const copy = join(dir, 'copy.mp4');
    copyFileSync(clip, copy);
    assert.ok(await findRawClip(copy, 160, 90), 'same bytes elsewhere: the same entry');
    appendFileSync(copy, Buffer.from([0]));
    assert.equal(await findRawClip(copy, 160, 90), null, 'one byte more: not the same clip');
    assert.equal(listRawClips().length, 2);
  });

  it('the source reads the cache when it holds the clip, and decodes otherwise', async () => {
    const cached = await FileSource.open(clip, { loop: false, durationS: null });
    assert.match(cached.rawCacheFile ?? '', /-160x90\.i420$/);
    const off = await FileSource.open(clip, { loop: false, durationS: null, rawCache: false });
    assert.equal(off.rawCacheFile, null);
    // A size with no entry of its own is scaled from the clip-size entry.
    const other = await FileSource.open(clip, { loop: false, durationS: null, width: 64, height: 36 });
    assert.match(other.rawCacheFile ?? '', /-160x90\.i420$/);
  });

  it('counts a picture released more than half a frame interval late as a late capture', async () => {
    // A clock that runs 50 ms ahead of every timer: each wait overshoots by more than half of 33 ms.
    let now = 0;
    const clock: Clock = { now: () => now };
    const timer: Timer = {
      setTimeout: (cb: () => void, ms: number) => {
        now += ms + 50;
        return setImmediate(cb);
      },
      clearTimeout: () => {},
    } as unknown as Timer;
    const src = await FileSource.open(clip, { loop: false, durationS: null, rawCache: false });
    const got: CapturedFrame[] = [];
    await src.run(clock, timer, (f) => got.push(f));
    assert.equal(got.length, 30);
    assert.ok(src.lateCaptures >= 1 && src.maxLateMs > 16.7, `late ${src.lateCaptures}, max ${src.maxLateMs} ms`);
    assert.match(starvationWarning({ late_captures: src.lateCaptures, encoder_busy_drops: 0 })!, /^CPU starved: \d+ late captures \(/);
    assert.equal(starvationWarning({ late_captures: 0, encoder_busy_drops: 0, decoder_backlog: 0 }), null);
  });
});

describe('testbed cache', () => {
  it('build, list, clear', async () => {
    const env = { TESTBED_CACHE: join(dir, 'cli-cache') };
    let r = await runCli(['cache', 'build', clip], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\.i420: 30 pictures 160x90/);
    r = await runCli(['cache', 'list'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(clip), r.stdout);
    assert.match(r.stdout, /raw pictures: 1 /);
    r = await runCli(['cache', 'build', clip, '--width', '80'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give both --width and --height/);
    r = await runCli(['cache', 'clear'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(dir, 'cli-cache')), false);
  });
});
