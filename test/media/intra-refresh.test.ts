/**
 * x264 periodic intra refresh (EncoderConfig.intraRefreshFrames) on real x264 output,
 * against the normal configuration with an I-frame forced every REFRESH pictures at the
 * same target rate: the refresh spreads the intra cost over the wave, x264 sends no IDR
 * of its own after the first picture, a forced key picture is still an IDR, and every
 * access unit decodes.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { H264Decoder, H264Encoder, type EncoderConfig, type VideoFrame } from '../../src/media/codec';
import { psnrOf } from '../../src/media/quality';
import { nalType, splitAnnexB } from '../../src/rtp/h264';
import { clipPictures } from '../helpers/clip';

const PICTURES = 130;
const REFRESH = 30;
const PTS_STEP = 3000; // 90 kHz at 30 fps

const normal: EncoderConfig = {
  width: 1280,
  height: 720,
  fps: 30,
  bitrateBps: 1_000_000,
  vbvBufferMs: 1000,
  preset: 'veryfast',
  tune: 'zerolatency',
};
const intraRefresh: EncoderConfig = { ...normal, intraRefreshFrames: REFRESH };

interface Encoded {
  sizes: number[];
  keys: number[];
  idrs: number[];
  /** Mean PSNR (dB, Y+U+V) of the decoded pictures against the source. */
  psnr: number;
}

/** Encodes and decodes `pictures`, forcing a key picture where `forceKey` says. */
async function encodeDecode(config: EncoderConfig, pictures: VideoFrame[], forceKey: (i: number) => boolean): Promise<Encoded> {
  const enc = H264Encoder.open(config);
  const dec = new H264Decoder();
  const out: Encoded = { sizes: [], keys: [], idrs: [], psnr: 0 };
  for (let i = 0; i < pictures.length; i++) {
    const pic = await enc.encode(pictures[i], i * PTS_STEP, forceKey(i));
    out.sizes.push(pic.data.length);
    if (pic.key) out.keys.push(i);
    if (splitAnnexB(pic.data).some((n) => nalType(n) === 5)) out.idrs.push(i);
    const decoded = await dec.decode(pic.data, i * PTS_STEP);
    assert.equal(decoded.length, 1, `picture ${i} decoded to ${decoded.length} pictures`);
    out.psnr += psnrOf(pictures[i], decoded[0]).psnr / pictures.length;
  }
  return out;
}

function stats(sizes: number[]): { max: number; mean: number } {
  return { max: Math.max(...sizes), mean: sizes.reduce((a, b) => a + b, 0) / sizes.length };
}

describe('x264 intra refresh', () => {
  let pictures: VideoFrame[] = [];
  before(async () => {
    pictures = await clipPictures(PICTURES, normal);
  });

  it(`spreads the intra cost: only picture 0 is key, and no picture comes near an I-frame of the normal config at the same rate`, async () => {
    const plain = await encodeDecode(normal, pictures, (i) => i % REFRESH === 0);
    const refresh = await encodeDecode(intraRefresh, pictures, (i) => i === 0);

    assert.deepEqual(plain.keys, [0, 30, 60, 90, 120], 'normal config: the forced I-frames are the key pictures');
    assert.deepEqual(plain.idrs, plain.keys);
    // libx264 flags each wave's first picture KEY (a recovery point): the wrapper must not.
    assert.deepEqual(refresh.keys, [0], 'intra refresh: key pictures');
    assert.deepEqual(refresh.idrs, [0], 'intra refresh: IDR pictures');

    const plainI = stats(plain.keys.slice(1).map((i) => plain.sizes[i]));
    const plainAll = stats(plain.sizes.slice(1));
    const refreshAll = stats(refresh.sizes.slice(1));
    const kB = (n: number) => (n / 1000).toFixed(1);
    console.log(
      `pictures 1..${PICTURES - 1} at ${normal.bitrateBps / 1e6} Mbit/s: ` +
        `I every ${REFRESH}: max ${kB(plainAll.max)} kB, mean ${kB(plainAll.mean)} kB, max/mean ${(plainAll.max / plainAll.mean).toFixed(1)}, ` +
        `mean I ${kB(plainI.mean)} kB, PSNR ${plain.psnr.toFixed(2)} dB; ` +
        `intra refresh over ${REFRESH}: max ${kB(refreshAll.max)} kB, mean ${kB(refreshAll.mean)} kB, max/mean ${(refreshAll.max / refreshAll.mean).toFixed(1)}, ` +
        `PSNR ${refresh.psnr.toFixed(2)} dB`,
    );
    assert.ok(
      refreshAll.max < plainI.mean / 3,
      `largest intra-refresh picture ${refreshAll.max} B should be far below the normal I-frames (mean ${Math.round(plainI.mean)} B)`,
    );
  });

  it('still makes a forced key picture (PLI) an IDR, and the stream goes on decoding', async () => {
    const FORCED = 45;
    const r = await encodeDecode(intraRefresh, pictures.slice(0, FORCED + 20), (i) => i === 0 || i === FORCED);
    assert.deepEqual(r.keys, [0, FORCED]);
    assert.deepEqual(r.idrs, [0, FORCED]);
  });
});
