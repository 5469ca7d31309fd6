import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  H264DepacketizeError,
  NAL_TYPE,
  depacketizeH264,
  describeNals,
  describePayload,
  formatNals,
  joinAnnexB,
  nalType,
  normalizeAnnexB,
  packetizeH264,
  splitAboutEqually,
  splitAnnexB,
} from '../../src/rtp/h264';
import { CLIP_FRAMES, CLIP_KEYS, decodeAll, payloadBudget, rng, x264Clip } from './fixtures';

const b = (...bytes: number[]) => Buffer.from(bytes);

describe('splitAnnexB', () => {
  it('accepts 3- and 4-byte start codes, leading zeros, and strips trailing zero bytes', () => {
    const au = b(0, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 5, 6, 0, 0);
    const nals = splitAnnexB(au);
    assert.deepEqual(nals, [b(0x67, 1, 2), b(0x68, 3), b(0x65, 4, 5, 6)]);
    assert.deepEqual(nals.map(nalType), [7, 8, 5]);
    assert.deepEqual(normalizeAnnexB(au), b(0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 6));
  });

  it('skips empty NAL units between back-to-back start codes', () => {
    assert.deepEqual(splitAnnexB(b(0, 0, 1, 0, 0, 1, 0x41, 9, 0, 0, 0, 1)), [b(0x41, 9)]);
    assert.deepEqual(splitAnnexB(b(0, 0, 0)), []);
  });

  it('rejects input that is not Annex B', () => {
    assert.throws(() => splitAnnexB(b(0x65, 1, 2, 3)), RangeError);
    assert.throws(() => splitAnnexB(b(7, 0, 0, 1, 0x65, 1)), RangeError);
  });

  it('describes NAL units for logs', () => {
    const au = joinAnnexB([b(0x67, 1), b(0x68, 2), b(0x06, 3, 4), b(0x65, 5, 6, 7)]);
    assert.deepEqual(
      describeNals(au).map((n) => [n.type, n.name, n.size, n.nri]),
      [
        [7, 'SPS', 2, 3],
        [8, 'PPS', 2, 3],
        [6, 'SEI', 3, 0],
        [5, 'IDR', 4, 3],
      ],
    );
    assert.equal(formatNals(au), 'SPS(2) PPS(2) SEI(3) IDR(4)');
  });
});

describe('splitAboutEqually', () => {
  it('uses the fewest fragments, sizes within one byte, larger ones last', () => {
    assert.deepEqual(splitAboutEqually(10, 3), [2, 2, 3, 3]);
    assert.deepEqual(splitAboutEqually(9, 3), [3, 3, 3]);
    assert.deepEqual(splitAboutEqually(2399, 1198), [799, 800, 800]);
    for (const [len, cap] of [
      [1, 1],
      [1000, 7],
      [55855, 1166],
      [12345, 298],
    ]) {
      const s = splitAboutEqually(len, cap);
      assert.equal(s.length, Math.ceil(len / cap));
      assert.equal(s.reduce((x, y) => x + y, 0), len);
      assert.ok(Math.max(...s) <= cap);
      assert.ok(Math.max(...s) - Math.min(...s) <= 1);
    }
  });
});

describe('packetizeH264 on hand-built access units', () => {
  it('aggregates small NAL units into a STAP-A with NRI = max and F = OR (RFC 6184 §5.7)', () => {
    const sps = b(0x67, 0x42, 0x00, 0x1f);
    const pps = b(0x68, 0xce);
    const sei = b(0x06, 0x05, 0x01);
    const slice = b(0x25, 0x88, 0x84); // IDR with NRI 1
    const out = packetizeH264(joinAnnexB([sps, pps, sei, slice]), 100);
    assert.equal(out.length, 1);
    // F=0, NRI=3 (max of SPS/PPS), type 24; then size-prefixed units in order.
    assert.deepEqual(
      out[0],
      b(0x78, 0, 4, ...sps, 0, 2, ...pps, 0, 3, ...sei, 0, 3, ...slice),
    );
    const fBit = packetizeH264(joinAnnexB([b(0x21, 1), b(0x86, 2)]), 100);
    assert.equal(fBit[0][0], 0x80 | 0x20 | 24);
  });

  it('counts the STAP-A header and size fields in the budget exactly', () => {
    const n1 = Buffer.alloc(10, 0x41);
    const n2 = Buffer.alloc(10, 0x41);
    // 1 + 2 + 10 + 2 + 10 = 25 bytes as a STAP-A.
    assert.equal(packetizeH264(joinAnnexB([n1, n2]), 25).length, 1);
    const split = packetizeH264(joinAnnexB([n1, n2]), 24);
    assert.deepEqual(split, [n1, n2]);
    assert.deepEqual(split.map((p) => describePayload(p).kind), ['single', 'single']);
  });

  it('sends a NAL that exactly fills the budget as a single NAL unit packet, one byte more as FU-A', () => {
    const nal = Buffer.alloc(50, 7);
    nal[0] = 0x65;
    assert.deepEqual(packetizeH264(joinAnnexB([nal]), 50), [nal]);
    const fu = packetizeH264(joinAnnexB([nal]), 49);
    assert.equal(fu.length, 2);
    assert.deepEqual([fu[0][0], fu[0][1], fu[1][0], fu[1][1]], [0x7c, 0x85, 0x7c, 0x45]);
    assert.deepEqual([fu[0].length, fu[1].length], [2 + 24, 2 + 25]);
  });

  it('rejects a budget too small for an FU-A and an access unit without NAL units', () => {
    assert.throws(() => packetizeH264(joinAnnexB([b(0x65, 1, 2)]), 2), RangeError);
    assert.throws(() => packetizeH264(b(0, 0, 0, 1), 1200), RangeError);
  });

  it('round-trips random access units at random budgets', () => {
    const rand = rng(11);
    for (let iter = 0; iter < 300; iter++) {
      const nals: Buffer[] = [];
      const count = 1 + Math.floor(rand() * 6);
      for (let i = 0; i < count; i++) {
        const size = 1 + Math.floor(rand() * (rand() < 0.5 ? 40 : 3000));
        // Bytes 1..255 cannot form a start code inside the NAL.
        const n = Buffer.alloc(size);
        for (let k = 0; k < size; k++) n[k] = 1 + Math.floor(rand() * 255);
        n[0] = (n[0] & 0x60) | (1 + Math.floor(rand() * 23));
        nals.push(n);
      }
      const max = 3 + Math.floor(rand() * 1500);
      const au = joinAnnexB(nals);
      const payloads = packetizeH264(au, max);
      for (const p of payloads) assert.ok(p.length <= max, `payload ${p.length} > ${max}`);
      assert.deepEqual(depacketizeH264(payloads), au);
    }
  });
});

describe('depacketizeH264 rejects malformed payload sequences', () => {
  const fu = (s: boolean, e: boolean, ...data: number[]) => b(0x7c, (s ? 0x80 : 0) | (e ? 0x40 : 0) | 5, ...data);
  const cases: [string, Buffer[]][] = [
    ['no payloads', []],
    ['empty payload', [b()]],
    ['FU-A without its start', [fu(false, false, 1), fu(false, true, 2)]],
    ['FU-A without its end', [fu(true, false, 1), fu(false, false, 2)]],
    ['FU-A with S and E', [fu(true, true, 1)]],
    ['FU-A restarted before its end', [fu(true, false, 1), fu(true, false, 2), fu(false, true, 3)]],
    ['FU-A interrupted by a single NAL', [fu(true, false, 1), b(0x41, 1), fu(false, true, 2)]],
    ['FU-A changing type mid-unit', [fu(true, false, 1), b(0x7c, 0x41, 2)]],
    ['FU-A of one byte', [b(0x7c)]],
    ['FU-A with R bit', [b(0x7c, 0xa5, 1), fu(false, true, 2)]],
    ['STAP-A truncated size field', [b(0x78, 0, 2, 0x67, 1, 0)]],
    ['STAP-A unit past the payload', [b(0x78, 0, 9, 0x67, 1)]],
    ['STAP-A zero-length unit', [b(0x78, 0, 0)]],
    ['STAP-A with nothing', [b(0x78)]],
    ['STAP-B (interleaved mode)', [b(0x79, 0, 0, 0, 1, 0x41)]],
    ['FU-B (interleaved mode)', [b(0x7d, 0x85, 0, 0, 1)]],
    ['NAL type 0', [b(0x00, 1)]],
  ];
  for (const [name, payloads] of cases) {
    it(name, () => {
      assert.throws(() => depacketizeH264(payloads), H264DepacketizeError);
    });
  }

  it('throws only H264DepacketizeError on random payloads (fuzz, seeded)', () => {
    const rand = rng(3);
    let ok = 0;
    for (let i = 0; i < 5000; i++) {
      const payloads: Buffer[] = [];
      const n = Math.floor(rand() * 4);
      for (let k = 0; k < n; k++) {
        const p = Buffer.alloc(Math.floor(rand() * 12));
        for (let j = 0; j < p.length; j++) p[j] = Math.floor(rand() * 256);
        // Bias towards the interesting types.
        if (p.length > 0 && rand() < 0.6) p[0] = (p[0] & 0xe0) | [24, 28, 28, 1][Math.floor(rand() * 4)];
        payloads.push(p);
      }
      try {
        depacketizeH264(payloads);
        ok++;
      } catch (e) {
        assert.ok(e instanceof H264DepacketizeError, `unexpected ${String(e)}`);
      }
    }
    assert.ok(ok > 0, 'some random payload sets are valid');
  });
});

describe('RFC 6184 packetization of real x264 output', () => {
  it('the clip has the NAL types and sizes the tests rely on', async () => {
    const clip = await x264Clip();
    assert.equal(clip.length, CLIP_FRAMES);
    const types = new Set(clip.flatMap((f) => describeNals(f.data).map((n) => n.type)));
    for (const t of [NAL_TYPE.SEI, NAL_TYPE.SPS, NAL_TYPE.PPS, NAL_TYPE.IDR, NAL_TYPE.SLICE]) {
      assert.ok(types.has(t), `NAL type ${t} present`);
    }
    assert.deepEqual(
      clip.map((f) => f.key),
      clip.map((f) => CLIP_KEYS.has(f.index)),
    );
    assert.deepEqual(describeNals(clip[0].data).map((n) => n.type), [7, 8, 6, 5]);
    assert.deepEqual(describeNals(clip[8].data).map((n) => n.type), [7, 8, 5]);
    for (const f of clip.filter((c) => !c.key)) assert.deepEqual(describeNals(f.data).map((n) => n.type), [1]);
    assert.ok(clip[0].data.length > 40 * 1200, `IDR is ${clip[0].data.length} bytes`);
    const pSizes = clip.filter((f) => !f.key).map((f) => splitAnnexB(f.data)[0].length);
    assert.ok(pSizes.some((s) => s <= payloadBudget(1200)), `some P-frames fit one packet: ${pSizes}`);
    assert.ok(pSizes.some((s) => s > payloadBudget(1200)), `some P-frames need FU-A: ${pSizes}`);
  });

  it('start codes: x264 writes 3-byte codes after SPS/PPS; our encoder layer cuts FFmpeg\'s padding; we normalise to 4-byte codes', async () => {
    const clip = await x264Clip();
    const idr = clip[0].data;
    const nals = splitAnnexB(idr);
    // SEI follows PPS with a 3-byte start code.
    const seiAt = idr.indexOf(nals[2]);
    assert.deepEqual([...idr.subarray(seiAt - 4, seiAt)], [nals[1][nals[1].length - 1], 0, 0, 1]);
    // codec.ts cuts beamcoder's AV_INPUT_BUFFER_PADDING_SIZE zeros: the AU ends with slice data.
    assert.notEqual(idr[idr.length - 1], 0);
    const norm = normalizeAnnexB(idr);
    assert.equal(norm.length, nals.reduce((n, x) => n + 4 + x.length, 0));
    assert.ok(norm.length > idr.length, 'the 3-byte start codes grew to 4 bytes');
  });

  for (const mtu of [1200, 300]) {
    it(`MTU ${mtu}: STAP-A for parameter sets, FU-A for large NALs, single NAL for small frames, exact round trip`, async () => {
      const clip = await x264Clip();
      const max = payloadBudget(mtu);
      const rebuilt: { data: Buffer; pts: number }[] = [];
      for (const f of clip) {
        const nals = splitAnnexB(f.data);
        const payloads = packetizeH264(f.data, max);
        for (const p of payloads) assert.ok(p.length <= max, `frame ${f.index}: payload ${p.length} > ${max}`);
        const info = payloads.map(describePayload);

        if (f.key) {
          // Parameter sets (and the SEI when it fits) aggregated in front of the I-slice.
          const first = info[0];
          assert.equal(first.kind, 'stap-a');
          assert.ok(first.kind === 'stap-a');
          const leading = nals.filter((n) => nalType(n) !== NAL_TYPE.IDR);
          const seiFits = 1 + leading.reduce((n, x) => n + 2 + x.length, 0) <= max;
          assert.deepEqual(first.types, seiFits ? leading.map(nalType) : [7, 8]);
          assert.equal(seiFits, mtu === 1200 || f.index !== 0);
        }

        // Every NAL larger than the budget goes as FU-A with near-equal fragments.
        let p = 0;
        for (const nal of nals) {
          if (nal.length <= max) continue;
          while (!(info[p].kind === 'fu-a' && (info[p] as { start: boolean }).start)) p++;
          const expected = Math.ceil((nal.length - 1) / (max - 2));
          const frags = payloads.slice(p, p + expected);
          const fi = frags.map(describePayload);
          fi.forEach((x, k) => {
            assert.equal(x.kind, 'fu-a');
            if (x.kind !== 'fu-a') return;
            assert.equal(x.type, nalType(nal));
            assert.equal(x.start, k === 0);
            assert.equal(x.end, k === frags.length - 1);
            assert.equal(frags[k][0], (nal[0] & 0xe0) | 28, 'F and NRI copied into the FU indicator');
          });
          const sizes = frags.map((x) => x.length - 2);
          assert.equal(sizes.reduce((a, c) => a + c, 0), nal.length - 1);
          assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `even split: ${sizes}`);
          assert.deepEqual(Buffer.concat([nal.subarray(0, 1), ...frags.map((x) => x.subarray(2))]), nal);
          p += expected;
        }

        if (!f.key && nals[0].length <= max) {
          assert.deepEqual(payloads, [nals[0]], `frame ${f.index} is one single NAL unit packet`);
          assert.deepEqual(info, [{ kind: 'single', type: 1, size: nals[0].length }]);
        }

        const au = depacketizeH264(payloads);
        assert.deepEqual(au, normalizeAnnexB(f.data), `frame ${f.index} round trip`);
        rebuilt.push({ data: au, pts: f.pts });
      }

      // The rebuilt access units decode to the very same pictures as the encoder's own.
      const fromWire = await decodeAll(rebuilt);
      const original = await decodeAll(clip);
      assert.deepEqual(fromWire.counts, new Array(CLIP_FRAMES).fill(1));
      assert.equal(fromWire.pictures.length, original.pictures.length);
      fromWire.pictures.forEach((pic, i) => assert.ok(pic.equals(original.pictures[i]), `picture ${i} identical`));
    });
  }
});
