/**
 * Clips: SI/TI against values computed by hand on tiny synthetic pictures, the I/P ratio's
 * definition, the clip analysis and its cache, deterministic scene generation, and the
 * `testbed clips` command's errors.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseClip, cachedAnalysis, siTiSummary } from '../../src/media/clip-analysis';
import { measureSiTi, parseSiTiMetadata, runFfmpeg } from '../../src/media/ffmpeg-cli';
import { findScene, makeScene, SCENES, screenText } from '../../src/media/scenes';
import { ipSizes } from '../../src/metrics/frame-sizes';
import { VideoFileReader } from '../../src/media/codec';
import { assertOneLine, removeTempDirs, runCli, tempDir } from '../helpers/cli';

after(removeTempDirs);

/**
 * Two 8×6 pictures, luma `lo` left of column `edge` and `hi` from it (edge 4, then 5),
 * chroma grey, as a y4m file with the given colour range.
 */
function edgeClip(dir: string, range: 'FULL' | 'LIMITED', lo: number, hi: number): string {
  const w = 8;
  const h = 6;
  const picture = (edge: number) => {
    const y = Buffer.alloc(w * h);
    for (let r = 0; r < h; r++) for (let x = 0; x < w; x++) y[r * w + x] = x < edge ? lo : hi;
    return Buffer.concat([Buffer.from('FRAME\n'), y, Buffer.alloc((w * h) / 2, 128)]);
  };
  const file = join(dir, `edge-${range}.y4m`);
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg XCOLORRANGE=${range}\n`), picture(4), picture(5)]));
  return file;
}

describe('SI/TI (ITU-T P.910) against hand-computed values', () => {
  // Picture 1: interior pixels (border excluded) are 6×4 = 24; the Sobel kernel's horizontal
  // gradient is 4Δ at the two columns beside the edge (8 pixels) and 0 elsewhere, so
  // SI = std = 4Δ·sqrt(p(1−p)) with p = 8/24. TI: the edge moves one column, 6 of 48 pixels
  // change by Δ, so TI = Δ·sqrt(q(1−q)) with q = 6/48.
  const si = (delta: number) => 4 * delta * Math.sqrt((1 / 3) * (2 / 3));
  const ti = (delta: number) => delta * Math.sqrt((1 / 8) * (7 / 8));

  it('full-range luma as it is: Δ = 235 − 16', async () => {
    const dir = tempDir('siti');
    const s = await measureSiTi(edgeClip(dir, 'FULL', 16, 235));
    assert.equal(s.length, 2);
    assert.ok(Math.abs(s[0].si - si(219)) < 0.01, `SI ${s[0].si} vs ${si(219)}`);
    assert.equal(s[0].ti, null, 'the first picture has no TI');
    assert.ok(Math.abs(s[1].ti! - ti(219)) < 0.01, `TI ${s[1].ti} vs ${ti(219)}`);
  });

  it('limited-range luma is mapped to full range first (16..235 → 0..255): Δ = 255', async () => {
    const dir = tempDir('siti');
    const s = await measureSiTi(edgeClip(dir, 'LIMITED', 16, 235));
    assert.ok(Math.abs(s[0].si - si(255)) < 0.01, `SI ${s[0].si} vs ${si(255)}`);
    assert.ok(Math.abs(s[1].ti! - ti(255)) < 0.01, `TI ${s[1].ti} vs ${ti(255)}`);
  });

  it('the summary: max and mean, TI over every picture but the first', () => {
    const sum = siTiSummary([{ si: 10, ti: null }, { si: 30, ti: 4 }, { si: 20, ti: 8 }]);
    assert.deepEqual([sum.si_max, sum.si_mean, sum.ti_max, sum.ti_mean], [30, 20, 8, 6]);
    assert.equal(siTiSummary([{ si: 5, ti: null }]).ti_max, null, 'one picture: no TI');
  });

  it('parses the filter output, and says when there is none', () => {
    assert.deepEqual(parseSiTiMetadata('frame:0 pts:0\nlavfi.siti.si=1.50\nlavfi.siti.ti=0.00\nframe:1 pts:1\nlavfi.siti.si=2.00\nlavfi.siti.ti=3.25\n'), [
      { si: 1.5, ti: null },
      { si: 2, ti: 3.25 },
    ]);
    assert.throws(() => parseSiTiMetadata(''), /reported no picture/);
  });
});

describe('I/P size ratio', () => {
  it('mean I over the P-frames just before and after each I, the first I left out', () => {
    const frames = [
      { type: 'I', bytes: 90_000 }, // first: rate control without history, left out
      { type: 'P', bytes: 1_000 },
      { type: 'P', bytes: 2_000 },
      { type: 'I', bytes: 30_000 },
      { type: 'P', bytes: 4_000 },
      { type: 'P', bytes: 9_000 },
      { type: 'I', bytes: 10_000 },
    ] as const;
    const r = ipSizes(frames);
    assert.equal(r.iFrames, 2);
    assert.equal(r.iMeanBytes, 20_000);
    // Neighbours: 2000 and 4000 around the second I, 9000 before the last (it has no successor).
    assert.equal(r.neighbourPMeanBytes, 5_000);
    assert.equal(r.ratio, 4);
    assert.equal(r.pMeanBytes, 4_000);
    assert.ok(Number.isNaN(ipSizes([{ type: 'I', bytes: 1 }, { type: 'P', bytes: 1 }]).ratio), 'one I-frame: no ratio');
  });
});

describe('clip analysis', () => {
  it('measures a clip once: SI/TI and I/P at four rates with the sender’s x264, then from the cache', async (t) => {
    const dir = tempDir('analysis');
    const prev = process.env.TESTBED_CACHE;
    process.env.TESTBED_CACHE = join(dir, 'cache');
    t.after(() => (prev === undefined ? delete process.env.TESTBED_CACHE : (process.env.TESTBED_CACHE = prev)));
    const clip = join(dir, 'card.mp4');
    // 4 s at 30 fps: I-frames at pictures 0 and 60, so one counted.
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=30', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-pix_fmt', 'yuv420p', clip]);
    assert.equal(await cachedAnalysis(clip), null);
    const steps: string[] = [];
    const a = await analyseClip(clip, (m) => steps.push(m));
    assert.ok(steps.length > 0, 'progress reported while computing');
    assert.equal(a.pictures, 120);
    assert.deepEqual([a.width, a.height, a.fps], [320, 180, 30]);
    assert.deepEqual(a.ip.rates.map((r) => r.bitrate_bps), [500_000, 1_000_000, 1_500_000, 2_000_000]);
    for (const r of a.ip.rates) {
      assert.equal(r.i_frames, 1);
      assert.ok(r.i_to_p !== null && r.i_to_p > 1, `an I-frame outweighs its neighbours: ${JSON.stringify(r)}`);
      assert.equal(r.i_to_p, Math.round((r.i_mean_bytes! / r.neighbour_p_mean_bytes!) * 100) / 100);
    }
    assert.ok(a.siti.si_max! > 0 && a.siti.ti_max! > 0);
    assert.match(a.sha256, /^[0-9a-f]{64}$/);
    const again: string[] = [];
    assert.deepEqual(await analyseClip(clip, (m) => again.push(m)), a);
    assert.deepEqual(again, [], 'the second time comes from the cache');
    assert.deepEqual(await cachedAnalysis(clip), a);
  });
});

describe('scenes', () => {
  it('every scene is made the same, byte for byte, twice (first half second)', async () => {
    const dir = tempDir('scenes');
    for (const scene of SCENES) {
      const a = await makeScene(scene, { height: 720, out: join(dir, `${scene.name}-a.mp4`), durationS: 0.5 });
      const b = await makeScene(scene, { height: 720, out: join(dir, `${scene.name}-b.mp4`), durationS: 0.5 });
      assert.ok(readFileSync(a).equals(readFileSync(b)), `${scene.name}: same bytes`);
      const reader = await VideoFileReader.open(a);
      assert.deepEqual([reader.info.width, reader.info.height, reader.info.fps], [1280, 720, 30], scene.name);
    }
  });

  it('1080p variants are 1920×1080; sizes a scene is not made at are refused', async () => {
    const dir = tempDir('scenes');
    const out = await makeScene(findScene('screen')!, { height: 1080, out: join(dir, 'screen-1080.mp4'), durationS: 0.2 });
    const reader = await VideoFileReader.open(out);
    assert.deepEqual([reader.info.width, reader.info.height], [1920, 1080]);
    await assert.rejects(makeScene(findScene('default')!, { height: 1080, out: join(dir, 'd.mp4') }), /scene 'default' is made at 720p, not 1080p/);
  });

  it("the screen scene's text comes from a seeded generator (no file to drift)", () => {
    assert.equal(screenText(), screenText());
    assert.notEqual(screenText(220, 4), screenText());
    assert.equal(screenText().split('\n').length, 221);
  });
});

describe('testbed clips', () => {
  it('show: a missing file, an unknown scene, an unmade size: one line, exit 2', async () => {
    let r = await runCli(['clips', 'show', '/nonexistent/x.mp4']);
    assert.equal(r.code, 2);
    assertOneLine(r, /no such file: \/nonexistent\/x\.mp4/);
    r = await runCli(['clips', 'show', 'talkinghead']);
    assert.equal(r.code, 2);
    assertOneLine(r, /no scene or file 'talkinghead' \(bundled scenes: default, talking-head/);
    r = await runCli(['clips', 'make', 'nope']);
    assert.equal(r.code, 2);
    assertOneLine(r, /no scene 'nope'/);
  });

  it('show FILE: the clip measured, as a table and as JSON', async () => {
    const dir = tempDir('clips-cli');
    const clip = join(dir, 'bars.mp4');
    await runFfmpeg(['-f', 'lavfi', '-i', 'smptebars=s=320x180:r=30', '-t', '1.5', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
    const env = { TESTBED_CACHE: join(dir, 'cache') };
    const r = await runCli(['clips', 'show', clip], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^clip +bars: /m);
    assert.match(r.stdout, /^SI +max \d+\.\d\d, mean/m);
    assert.match(r.stdout, /^TI +max \d+\.\d\d, mean/m);
    assert.match(r.stdout, /^0\.5 +- /m, 'one I-frame in 1.5 s: no ratio, shown as -');
    const j = await runCli(['clips', 'show', clip, '--json'], { env });
    assert.equal(j.code, 0, j.stderr);
    const parsed = JSON.parse(j.stdout) as { label: string; analysis: { pictures: number; ip: { rates: { i_to_p: number | null }[] } } };
    assert.equal(parsed.label, 'bars');
    assert.equal(parsed.analysis.pictures, 45);
    assert.equal(parsed.analysis.ip.rates[0].i_to_p, null);
  });
});
