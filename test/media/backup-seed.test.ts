/**
 * The `shared` backup-reference strategy (DESIGN.md §2) on real x264 output: sender and
 * receiver simulated in one process, each with its own encoder / decoder objects and
 * nothing shared but the bytes that would cross the wire (primary access units, the
 * backup P-frames, the 32-bit seed hash).
 *
 * Sender: primary encoder on clip pictures 0..N-1 (IDR only at 0) plus its own decoder of
 * its primary stream; at picture N a seeded encoder (fresh x264, IDR of the decoded
 * primary N-1, never sent) encodes N, N+1, N+2 as P-frames: the backup stream. Receiver:
 * its own decoder of the primary AUs, its own seed from its own decoded N-1, then the
 * backup P-frames. Everything must agree bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  H264Decoder,
  H264Encoder,
  planesOf,
  type EncodedPicture,
  type EncoderConfig,
  type VideoFrame,
} from '../../src/media/codec';
import type { Decoder } from '../../src/media/codecs';
import { seedDecoder, seedEncoder, seedHash } from '../../src/media/backup-seed';
import { psnrOf } from '../../src/media/quality';
import { nalType, splitAnnexB } from '../../src/rtp/h264';
import { clipPictures } from '../helpers/clip';

/** The picture the backup stream starts at (the primary would send an I-frame here). */
const N = 30;
const BACKUP_PICTURES = 3;
const PTS_STEP = 3000; // 90 kHz at 30 fps
const pts = (i: number) => i * PTS_STEP;

const config: EncoderConfig = {
  width: 1280,
  height: 720,
  fps: 30,
  bitrateBps: 1_500_000,
  vbvBufferMs: 1000,
  preset: 'veryfast',
  tune: 'zerolatency',
};

async function decodeOne(dec: Decoder, au: Buffer, p: number, what: string): Promise<VideoFrame> {
  const pics = await dec.decode(au, p);
  assert.equal(pics.length, 1, `${what}: the decoder returned ${pics.length} pictures for one access unit`);
  return pics[0];
}

/** Number of differing samples per plane (visible area only; strides may differ). */
function planeDiffs(a: VideoFrame, b: VideoFrame): [number, number, number] {
  const pa = planesOf(a);
  const pb = planesOf(b);
  assert.equal(pa.width, pb.width);
  assert.equal(pa.height, pb.height);
  const diffs: [number, number, number] = [0, 0, 0];
  for (const plane of [0, 1, 2] as const) {
    const w = plane === 0 ? pa.width : pa.width >> 1;
    const h = plane === 0 ? pa.height : pa.height >> 1;
    for (let y = 0; y < h; y++) {
      const ra = pa.data[plane].subarray(y * pa.linesize[plane], y * pa.linesize[plane] + w);
      const rb = pb.data[plane].subarray(y * pb.linesize[plane], y * pb.linesize[plane] + w);
      if (ra.equals(rb)) continue;
      for (let x = 0; x < w; x++) if (ra[x] !== rb[x]) diffs[plane]++;
    }
  }
  return diffs;
}

function assertSamePicture(a: VideoFrame, b: VideoFrame, what: string): void {
  assert.deepEqual(planeDiffs(a, b), [0, 0, 0], `${what}: differing samples per plane (Y, U, V)`);
}

/** slice_type of every slice NAL of an access unit (H.264 7.3.3: ue first_mb, ue slice_type). */
function sliceTypes(au: Buffer): { nal: number; slice: 'P' | 'B' | 'I' | 'SP' | 'SI' }[] {
  const out: { nal: number; slice: 'P' | 'B' | 'I' | 'SP' | 'SI' }[] = [];
  for (const nal of splitAnnexB(au)) {
    const type = nalType(nal);
    if (type !== 1 && type !== 5) continue;
    // RBSP of the first bytes (emulation prevention removed): enough for two ue(v).
    const rbsp: number[] = [];
    for (let i = 1, zeros = 0; i < nal.length && rbsp.length < 16; i++) {
      if (zeros >= 2 && nal[i] === 3) {
        zeros = 0;
        continue;
      }
      zeros = nal[i] === 0 ? zeros + 1 : 0;
      rbsp.push(nal[i]);
    }
    let bit = 0;
    const readBit = () => (rbsp[bit >> 3] >> (7 - (bit++ & 7))) & 1;
    const ue = () => {
      let lz = 0;
      while (readBit() === 0) lz++;
      let v = 0;
      for (let i = 0; i < lz; i++) v = (v << 1) | readBit();
      return (1 << lz) - 1 + v;
    };
    ue(); // first_mb_in_slice
    const st = ue() % 5;
    out.push({ nal: type, slice: (['P', 'B', 'I', 'SP', 'SI'] as const)[st] });
  }
  return out;
}

test('shared backup reference: seed, backup P-frames and their decode are bit-exact at sender and receiver', async () => {
  const src = await clipPictures(N + BACKUP_PICTURES, config);

  // ---------------------------------------------------------------- sender
  const primary = H264Encoder.open(config);
  const senderPrimaryDec = new H264Decoder();
  const wire: Buffer[] = [];
  const senderDecoded: VideoFrame[] = [];
  for (let i = 0; i < N; i++) {
    const au = await primary.encode(src[i], pts(i), i === 0);
    assert.equal(au.key, i === 0, `primary picture ${i}: key=${au.key}`);
    wire.push(Buffer.from(au.data)); // what crosses the network: a copy
    senderDecoded.push(await decodeOne(senderPrimaryDec, au.data, pts(i), `sender primary ${i}`));
  }

  // The I-frame the backup stands in for: picture N as the first frame of a fresh encoder.
  const freshI = await H264Encoder.open(config).encode(src[N], pts(N), true);
  assert.ok(freshI.key);

  const seed = await seedEncoder(config, senderDecoded[N - 1], pts(N - 1));
  const backup: EncodedPicture[] = [];
  for (let k = 0; k < BACKUP_PICTURES; k++) {
    const au = await seed.encoder.encode(src[N + k], pts(N + k), false);
    assert.equal(au.key, false, `backup ${N + k} is flagged key`);
    const types = sliceTypes(au.data);
    assert.ok(types.length > 0, `backup ${N + k} has no slice`);
    for (const t of types) {
      assert.equal(t.nal, 1, `backup ${N + k}: a slice in NAL type ${t.nal} (5 = IDR)`);
      assert.equal(t.slice, 'P', `backup ${N + k}: slice type ${t.slice}`);
    }
    backup.push(au);
  }
  const ratio = backup[0].data.length / freshI.data.length;
  assert.ok(
    ratio < 0.25,
    `backup P(${N}) ${backup[0].data.length} B is not much smaller than I(${N}) ${freshI.data.length} B`,
  );

  // The sender's own decode of its backup stream, for reference.
  const senderSeed = await seedDecoder(config, senderDecoded[N - 1], pts(N - 1), seed.hash);
  assert.equal(senderSeed.hash, seed.hash);
  const senderBackupDecoded: VideoFrame[] = [];
  for (let k = 0; k < BACKUP_PICTURES; k++) {
    senderBackupDecoded.push(await decodeOne(senderSeed.decoder, backup[k].data, pts(N + k), `sender backup ${N + k}`));
  }

  // -------------------------------------------------------------- receiver
  const receiverPrimaryDec = new H264Decoder();
  const receiverDecoded: VideoFrame[] = [];
  for (let i = 0; i < N; i++) {
    receiverDecoded.push(await decodeOne(receiverPrimaryDec, wire[i], pts(i), `receiver primary ${i}`));
  }
  assertSamePicture(receiverDecoded[N - 1], senderDecoded[N - 1], `decoded primary ${N - 1}`);

  const receiverSeed = await seedDecoder(config, receiverDecoded[N - 1], pts(N - 1), seed.hash);
  assert.equal(receiverSeed.hash, seed.hash, 'seed hashes');
  assertSamePicture(receiverSeed.reconstruction, senderSeed.reconstruction, 'seed reconstruction');

  const backupWire = backup.map((b) => Buffer.from(b.data));
  for (let k = 0; k < BACKUP_PICTURES; k++) {
    const pic = await decodeOne(receiverSeed.decoder, backupWire[k], pts(N + k), `receiver backup ${N + k}`);
    assertSamePicture(pic, senderBackupDecoded[k], `backup picture ${N + k}`);
    const q = psnrOf(pic, src[N + k]);
    assert.ok(q.psnr > 25, `backup picture ${N + k}: PSNR ${q.psnr.toFixed(1)} dB against the source`);
  }

  // ---------------------------------------------- a wrong seed is caught by the hash
  await assert.rejects(
    seedDecoder(config, receiverDecoded[N - 1], pts(N - 1), seed.hash ^ 1),
    /backup seed mismatch/,
  );
  await assert.rejects(
    seedDecoder(config, receiverDecoded[N - 2], pts(N - 1), seed.hash),
    /backup seed mismatch/,
    'a seed built from picture N-2 must not match the hash of the seed from N-1',
  );

  // ... and not by the decoder: seeded (consistently with itself) from N-2, it decodes
  // the backup P-frames without a complaint into a different picture.
  const wrongHash = (await seedEncoder(config, receiverDecoded[N - 2], pts(N - 1))).hash;
  assert.notEqual(wrongHash, seed.hash);
  const wrongSeed = await seedDecoder(config, receiverDecoded[N - 2], pts(N - 1), wrongHash);
  const wrongPic = await decodeOne(wrongSeed.decoder, backupWire[0], pts(N), 'backup decoded on a wrong reference');
  const diffs = planeDiffs(wrongPic, senderBackupDecoded[0]);
  assert.ok(diffs[0] + diffs[1] + diffs[2] > 0, 'a backup P on a wrong reference decoded identically');

  const q0 = psnrOf(senderBackupDecoded[0], src[N]);
  const qw = psnrOf(wrongPic, src[N]);
  // Informational: sizes and qualities the assertions above rest on.
  console.log(
    `# I(${N}) ${freshI.data.length} B, seed IDR ${seed.idrBytes} B (not sent), backup P ${backup
      .map((b) => b.data.length)
      .join(' / ')} B, P(${N}) ${q0.psnr.toFixed(2)} dB; on the wrong reference ${qw.psnr.toFixed(2)} dB, ` +
      `${diffs[0]}/${diffs[1]}/${diffs[2]} samples differ; hash ${seed.hash.toString(16)} vs ${wrongHash.toString(16)}`,
  );
});

test('seedHash is the first 32 bits of SHA-256, unsigned', () => {
  // SHA-256("abc") = ba7816bf...
  assert.equal(seedHash(Buffer.from('abc')), 0xba7816bf);
});
