/**
 * Benchmark (not a test): what a backup P-frame costs and looks like under each
 * backup-reference strategy of DESIGN.md §2, offline, on the default clip at 720p30.
 *
 *   node dist/bench/backup-reference.js [seconds=10] [bitrate=1500000] [--csv FILE]
 *                                       [--episode 6] [--keyint 60]
 *
 * Every encoder is the project's H264Encoder (libx264, one thread, ABR at `bitrate` with
 * VBV rc_max_rate = bitrate and a 1000 ms buffer, preset veryfast, tune zerolatency,
 * scenecut off, every I forced by us). Pictures are the clip's, in order, with 90 kHz
 * pts = index × 3000. Encoders run one after another on the same source frame (never two
 * encode() calls on one encoder, never one source frame in two encoders at once).
 *
 * The primary encoder forces an IDR every `keyint` pictures (0, 60, 120, …) and its
 * stream is decoded by a sender-side decoder. For every IDR picture n > 0 one row:
 *
 *   I(n)        the primary's IDR of picture n: bytes, frame QP (x264's), PSNR of the
 *               decoded picture against the source picture n.
 *   shared      backup P(n) of the shared-reference strategy: seedEncoder() on the
 *               sender's decode of primary n-1 (a fresh x264 whose never-sent IDR of that
 *               picture is the reference), then picture n encoded as P by it; bytes, QP,
 *               PSNR of the picture decoded by seedDecoder() (the receiver's path; its
 *               hash check passes or the run stops) against source n. `seed` is the size
 *               of the never-sent seed IDR — it is counted by the secondary's rate control.
 *   episodic    backup P(n) of the episodic strategy: ONE secondary encoder for the whole
 *               run that encodes only during backup episodes (pictures n .. n+episode-1
 *               for each primary IDR n > 0; in a live run an episode ends when the receiver
 *               reports the I-frame complete, here it has the fixed length `episode`),
 *               decoded by a decoder that sees only this stream. Its first frame ever is
 *               an IDR (x264 has nothing to predict from): that row is marked IDR and is
 *               left out of the median. Later, P(n) predicts from the last picture of the
 *               previous episode (`ref` = how many pictures back). Bytes, QP, PSNR.
 *   ideal       the P-frame the primary itself would have produced at n: a twin encoder
 *               with identical parameters (thread_count 1), fed the same pictures with the
 *               same forced IDRs before n, encodes picture n as P; decoded by the twin's
 *               own decoder. One twin per row, each running from picture 0 (cost grows
 *               with the square of the duration). `twin` says whether the twin's access
 *               units were byte-identical to the primary's for all pictures < n (then its
 *               reference is exactly the primary's decoded n-1 and the P is the true
 *               ideal; if not, the first differing picture is printed and the figure is
 *               only an approximation: a same-parameter encoder's P from its own n-1).
 *
 * A second table gives the backup frames n+1 .. n+episode-1 (the backup episode goes on
 * while the I-frame is in flight): bytes per frame for shared and episodic, and the
 * primary's own P-frames at those pictures for comparison, with the mean PSNR of each
 * run of frames. Medians are per column over the rows (episodic: over P rows only).
 * PSNR is over Y, U and V weighted by sample count (quality.ts psnrOf, 100 dB cap).
 */
import { writeFileSync } from 'node:fs';
import {
  H264Decoder,
  H264Encoder,
  Scaler,
  VideoFileReader,
  type EncodedPicture,
  type EncoderConfig,
  type VideoFrame,
} from '../src/media/codec';
import type { Decoder } from '../src/media/codecs';
import { seedDecoder, seedEncoder, type ReceiverSeed, type SenderSeed } from '../src/media/backup-seed';
import { psnrOf } from '../src/media/quality';
import { ensureClip } from '../src/experiments/processes';

interface Args {
  seconds: number;
  bitrate: number;
  csv: string | null;
  episode: number;
  keyint: number;
}

function parseArgs(argv: string[]): Args {
  const pos: string[] = [];
  const a: Args = { seconds: 10, bitrate: 1_500_000, csv: null, episode: 6, keyint: 60 };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${s} needs a value`);
      return v;
    };
    if (s === '--csv') a.csv = val();
    else if (s === '--episode') a.episode = Number(val());
    else if (s === '--keyint') a.keyint = Number(val());
    else if (s.startsWith('--')) throw new Error(`unknown option ${s}`);
    else pos.push(s);
  }
  if (pos[0] !== undefined) a.seconds = Number(pos[0]);
  if (pos[1] !== undefined) a.bitrate = Number(pos[1]);
  if (!(a.seconds > 0)) throw new Error(`bad duration ${pos[0]}`);
  if (!(a.bitrate >= 50_000)) throw new Error(`bad bitrate ${pos[1]}`);
  if (!Number.isInteger(a.keyint) || a.keyint < 2) throw new Error(`bad --keyint ${a.keyint}`);
  if (!Number.isInteger(a.episode) || a.episode < 1 || a.episode > a.keyint) {
    throw new Error(`--episode must be an integer in 1..keyint (${a.keyint})`);
  }
  return a;
}

interface Coded {
  bytes: number;
  key: boolean;
  qp: number | null;
  psnr: number;
}

interface Twin {
  n: number;
  enc: H264Encoder;
  dec: Decoder;
  firstDiff: number | null;
}

interface Row {
  n: number;
  primaryI: Coded;
  seedBytes: number;
  shared: Coded[];
  episodic: Coded[];
  /** Pictures between the episodic P(n) and its reference; null for the IDR. */
  episodicRefAge: number | null;
  ideal: Coded | null;
  twinFirstDiff: number | null;
  primaryFollow: Coded[];
}

const PTS_STEP_90K = (fps: number) => Math.round(90000 / fps);

async function decodeOne(dec: Decoder, au: Buffer, pts: number, what: string): Promise<VideoFrame> {
  const pics = await dec.decode(au, pts);
  if (pics.length !== 1) throw new Error(`${what}: ${pics.length} pictures decoded from one access unit`);
  return pics[0];
}

function coded(au: EncodedPicture, decoded: VideoFrame, source: VideoFrame): Coded {
  return { bytes: au.data.length, key: au.key, qp: au.qp, psnr: psnrOf(decoded, source).psnr };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const kB = (b: number | null | undefined) => (b == null ? '-' : (b / 1000).toFixed(1));
const dB = (p: number | null | undefined) => (p == null ? '-' : p.toFixed(2));
const qpS = (q: number | null | undefined) => (q == null ? '-' : String(Math.round(q)));
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(header), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const clip = ensureClip();
  const reader = await VideoFileReader.open(clip);
  const fps = 30;
  const total = Math.round(args.seconds * fps);
  const ptsStep = PTS_STEP_90K(fps);
  const pts = (i: number) => i * ptsStep;
  const config: EncoderConfig = {
    width: 1280,
    height: 720,
    fps,
    bitrateBps: args.bitrate,
    vbvBufferMs: 1000,
    preset: 'veryfast',
    tune: 'zerolatency',
  };
  const E = args.episode;
  const isIdr = (i: number) => i % args.keyint === 0;

  const primary = H264Encoder.open(config);
  const primaryDec = new H264Decoder();
  const episodicEnc = H264Encoder.open(config);
  const episodicDec = new H264Decoder();
  const twins: Twin[] = [];
  const rows = new Map<number, Row>();
  for (let n = args.keyint; n < total; n += args.keyint) {
    twins.push({ n, enc: H264Encoder.open(config), dec: new H264Decoder(), firstDiff: null });
  }

  let scaler: Scaler | null = null;
  let prevPrimaryDecoded: VideoFrame | null = null;
  let shared: { n: number; seed: SenderSeed; rx: ReceiverSeed } | null = null;
  let episodeStart: number | null = null;
  let lastEpisodicPicture: number | null = null;
  const primaryP: Coded[] = [];
  let twinEncodes = 0;

  for (let i = 0; i < total; i++) {
    let t = await reader.next();
    if (!t) {
      await reader.rewind();
      t = await reader.next();
      if (!t) throw new Error('the clip has no pictures');
    }
    let src = t.frame;
    if (Scaler.needed(src, config.width, config.height)) {
      scaler ??= await Scaler.create({ width: src.width, height: src.height, pixFmt: src.format ?? 'yuv420p' }, config);
      src = await scaler.scale(src);
    }
    const p = pts(i);

    // Primary.
    const au = await primary.encode(src, p, isIdr(i));
    if (au.key !== isIdr(i)) throw new Error(`primary picture ${i}: key=${au.key}, expected ${isIdr(i)}`);
    const decoded = await decodeOne(primaryDec, au.data, p, `primary ${i}`);
    const prim = coded(au, decoded, src);
    let row: Row | undefined;
    if (isIdr(i) && i > 0) {
      row = {
        n: i,
        primaryI: prim,
        seedBytes: 0,
        shared: [],
        episodic: [],
        episodicRefAge: null,
        ideal: null,
        twinFirstDiff: null,
        primaryFollow: [],
      };
      rows.set(i, row);
    } else if (!isIdr(i)) {
      primaryP.push(prim);
      const owner = rows.get(i - (i % args.keyint));
      if (owner && i % args.keyint < E) owner.primaryFollow.push(prim);
    }

    // Lockstep twins: identical to the primary before their picture n, P at n.
    for (const tw of twins) {
      if (tw.n < i) continue;
      const forceKey = i < tw.n ? isIdr(i) : false;
      const tau = await tw.enc.encode(src, p, forceKey);
      twinEncodes++;
      const tdec = await decodeOne(tw.dec, tau.data, p, `twin ${tw.n} picture ${i}`);
      if (i < tw.n) {
        if (tw.firstDiff === null && !tau.data.equals(au.data)) tw.firstDiff = i;
      } else {
        if (tau.key) throw new Error(`twin ${tw.n}: picture ${i} came out as a key frame`);
        row!.ideal = coded(tau, tdec, src);
        row!.twinFirstDiff = tw.firstDiff;
      }
    }
    for (let k = twins.length - 1; k >= 0; k--) if (twins[k].n <= i) twins.splice(k, 1);

    // Shared reference: seeds from the sender's decode of primary i-1.
    if (row) {
      const seed = await seedEncoder(config, prevPrimaryDecoded!, pts(i - 1));
      const rx = await seedDecoder(config, prevPrimaryDecoded!, pts(i - 1), seed.hash);
      shared = { n: i, seed, rx };
      row.seedBytes = seed.idrBytes;
    }
    if (shared && i < shared.n + E) {
      const bau = await shared.seed.encoder.encode(src, p, false);
      const bdec = await decodeOne(shared.rx.decoder, bau.data, p, `shared backup ${i}`);
      rows.get(shared.n)!.shared.push(coded(bau, bdec, src));
      if (i === shared.n + E - 1) shared = null;
    }

    // Episodic: one secondary encoder, active only during episodes.
    if (row) {
      episodeStart = i;
      row.episodicRefAge = lastEpisodicPicture === null ? null : i - lastEpisodicPicture;
    }
    if (episodeStart !== null && i < episodeStart + E) {
      const eau = await episodicEnc.encode(src, p, false);
      const edec = await decodeOne(episodicDec, eau.data, p, `episodic backup ${i}`);
      rows.get(episodeStart)!.episodic.push(coded(eau, edec, src));
      lastEpisodicPicture = i;
      if (i === episodeStart + E - 1) episodeStart = null;
    }

    prevPrimaryDecoded = decoded;
  }

  const elapsed = (Date.now() - started) / 1000;
  const rs = [...rows.values()];
  const allTwinsIdentical = rs.every((r) => r.twinFirstDiff === null);

  // ----------------------------------------------------------------- output
  const out: string[] = [];
  out.push(
    `== backup-reference: ${clip}, ${config.width}x${config.height}@${fps}, ${total} pictures (${args.seconds} s), ` +
      `${(args.bitrate / 1e6).toFixed(2)} Mbit/s ABR + VBV ${config.vbvBufferMs} ms, x264 ${config.preset}/${config.tune}, 1 thread`,
  );
  out.push(
    `   primary IDR every ${args.keyint} pictures (first at 0); backup episode = ${E} pictures (n .. n+${E - 1}); ` +
      `run time ${elapsed.toFixed(1)} s (${twinEncodes} twin encodes)`,
  );
  out.push(
    `   primary P-frames (all ${primaryP.length}): median ${kB(median(primaryP.map((c) => c.bytes)))} kB, ` +
      `median PSNR ${dB(median(primaryP.map((c) => c.psnr)))} dB, median QP ${qpS(median(primaryP.flatMap((c) => (c.qp == null ? [] : [c.qp]))))}`,
  );
  out.push('');
  out.push('-- backup for picture n (sizes in kB = 1000 B; PSNR in dB against the source picture n)');
  const hdr1 = [
    'n',
    'I kB', 'I QP', 'I dB',
    'shared P kB', 'QP', 'dB', 'seed kB',
    'episodic', 'kB', 'QP', 'dB', 'ref',
    'ideal P kB', 'QP', 'dB', 'twin',
  ];
  const body1 = rs.map((r) => {
    const s = r.shared[0];
    const e = r.episodic[0];
    const id = r.ideal;
    return [
      String(r.n),
      kB(r.primaryI.bytes), qpS(r.primaryI.qp), dB(r.primaryI.psnr),
      kB(s?.bytes), qpS(s?.qp), dB(s?.psnr), kB(r.seedBytes),
      e ? (e.key ? 'IDR' : 'P') : '-', kB(e?.bytes), qpS(e?.qp), dB(e?.psnr),
      r.episodicRefAge === null ? 'none' : `n-${r.episodicRefAge}`,
      kB(id?.bytes), qpS(id?.qp), dB(id?.psnr),
      r.twinFirstDiff === null ? 'identical' : `differs@${r.twinFirstDiff}`,
    ];
  });
  const med = (f: (r: Row) => number | null | undefined, filter: (r: Row) => boolean = () => true) =>
    median(rs.filter(filter).flatMap((r) => {
      const v = f(r);
      return v == null ? [] : [v];
    }));
  const epP = (r: Row) => r.episodic[0] !== undefined && !r.episodic[0].key;
  body1.push([
    'median',
    kB(med((r) => r.primaryI.bytes)), qpS(med((r) => r.primaryI.qp)), dB(med((r) => r.primaryI.psnr)),
    kB(med((r) => r.shared[0]?.bytes)), qpS(med((r) => r.shared[0]?.qp)), dB(med((r) => r.shared[0]?.psnr)), kB(med((r) => r.seedBytes)),
    'P only', kB(med((r) => r.episodic[0]?.bytes, epP)), qpS(med((r) => r.episodic[0]?.qp, epP)), dB(med((r) => r.episodic[0]?.psnr, epP)),
    '',
    kB(med((r) => r.ideal?.bytes)), qpS(med((r) => r.ideal?.qp)), dB(med((r) => r.ideal?.psnr)),
    allTwinsIdentical ? 'all identical' : 'NOT all',
  ]);
  out.push(table(hdr1, body1));
  const idrRows = rs.filter((r) => r.episodic[0]?.key).map((r) => r.n);
  if (idrRows.length) {
    out.push(
      `   episodic at n=${idrRows.join(', ')}: the secondary encoder's first frame is an IDR — no backup P exists for the first episode`,
    );
  }
  out.push(
    allTwinsIdentical
      ? '   ideal: every lockstep twin was byte-identical to the primary for all pictures before its n (true ideal P)'
      : '   ideal: some twins diverged from the primary before their n (see "twin"): those ideal figures are a same-parameter approximation',
  );

  out.push('');
  const F = E - 1;
  out.push(`-- the rest of the backup episode, pictures n+1 .. n+${F} (kB per frame; dB = mean PSNR over those frames)`);
  const list = (cs: Coded[]) => (cs.length ? cs.map((c) => kB(c.bytes)).join(' ') : '-');
  const follow = (cs: Coded[]) => cs.slice(1);
  const hdr2 = ['n', 'shared P kB', 'dB', 'episodic P kB', 'dB', 'primary P kB (after I)', 'dB'];
  const body2 = rs.map((r) => [
    String(r.n),
    list(follow(r.shared)), dB(mean(follow(r.shared).map((c) => c.psnr))),
    list(follow(r.episodic)), dB(mean(follow(r.episodic).map((c) => c.psnr))),
    list(r.primaryFollow), dB(mean(r.primaryFollow.map((c) => c.psnr))),
  ]);
  const medK = (get: (r: Row) => Coded[]) =>
    Array.from({ length: F }, (_, k) => kB(median(rs.flatMap((r) => (get(r)[k] ? [get(r)[k].bytes] : []))))).join(' ');
  const medPsnr = (get: (r: Row) => Coded[]) => dB(median(rs.flatMap((r) => { const m = mean(get(r).map((c) => c.psnr)); return m == null ? [] : [m]; })));
  body2.push([
    'median',
    medK((r) => follow(r.shared)), medPsnr((r) => follow(r.shared)),
    medK((r) => follow(r.episodic)), medPsnr((r) => follow(r.episodic)),
    medK((r) => r.primaryFollow), medPsnr((r) => r.primaryFollow),
  ]);
  out.push(table(hdr2, body2));
  console.log(out.join('\n'));

  if (args.csv) {
    const cols = [
      'n', 'i_bytes', 'i_qp', 'i_psnr',
      'shared_bytes', 'shared_qp', 'shared_psnr', 'shared_seed_bytes',
      'episodic_type', 'episodic_bytes', 'episodic_qp', 'episodic_psnr', 'episodic_ref_age',
      'ideal_bytes', 'ideal_qp', 'ideal_psnr', 'twin_first_diff',
      ...Array.from({ length: F }, (_, k) => `shared_p${k + 1}_bytes`),
      ...Array.from({ length: F }, (_, k) => `episodic_p${k + 1}_bytes`),
      ...Array.from({ length: F }, (_, k) => `primary_p${k + 1}_bytes`),
      'shared_follow_psnr', 'episodic_follow_psnr', 'primary_follow_psnr',
    ];
    const num = (v: number | null | undefined, d = 0) => (v == null ? '' : d ? v.toFixed(d) : String(Math.round(v)));
    const lines = [cols.join(',')];
    for (const r of rs) {
      const s = r.shared[0];
      const e = r.episodic[0];
      const id = r.ideal;
      lines.push(
        [
          r.n, r.primaryI.bytes, num(r.primaryI.qp), num(r.primaryI.psnr, 3),
          num(s?.bytes), num(s?.qp), num(s?.psnr, 3), r.seedBytes,
          e ? (e.key ? 'IDR' : 'P') : '', num(e?.bytes), num(e?.qp), num(e?.psnr, 3), num(r.episodicRefAge),
          num(id?.bytes), num(id?.qp), num(id?.psnr, 3), r.twinFirstDiff === null ? '' : r.twinFirstDiff,
          ...Array.from({ length: F }, (_, k) => num(r.shared[k + 1]?.bytes)),
          ...Array.from({ length: F }, (_, k) => num(r.episodic[k + 1]?.bytes)),
          ...Array.from({ length: F }, (_, k) => num(r.primaryFollow[k]?.bytes)),
          num(mean(follow(r.shared).map((c) => c.psnr)), 3),
          num(mean(follow(r.episodic).map((c) => c.psnr)), 3),
          num(mean(r.primaryFollow.map((c) => c.psnr)), 3),
        ].join(','),
      );
    }
    writeFileSync(args.csv, lines.join('\n') + '\n');
    console.log(`\nCSV: ${args.csv}`);
  }
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
