/** A cell's summary.csv row from its CSV rows: the warm-up window and every derived figure. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { measurementWindow, renderOrder, summarizeCell } from '../../src/experiments/cell-summary';
import { EXPERIMENT_SUMMARY_COLUMNS } from '../../src/metrics/rows';
import { rng } from '../helpers/random';

const id = { cell: 'a__t__r0', arm: 'a', scene: 'default', trace: 't', trace_family: 'step', repetition: 0, seed: 9 };
const FRAME_MS = 1000 / 30;

/**
 * Frames of a 30 fps run starting at 1000 ms: every 30th picture an I-frame 200 ms late,
 * others 100 ms ± 10; with `backup`, each I picture also has a rendered-instead backup row.
 */
function frames(seconds: number, o: { backup?: boolean; seed?: number } = {}): Record<string, string>[] {
  const r = rng(o.seed ?? 1);
  const rows: Record<string, string>[] = [];
  for (let i = 0; i < seconds * 30; i++) {
    const capture = 1000 + i * FRAME_MS;
    const isI = i % 30 === 0;
    const e2e = isI ? 200 : 90 + 20 * r();
    const primaryShown = !(isI && o.backup);
    rows.push({
      frame_id: String(i),
      stream: 'primary',
      source_index: String(i),
      frame_type: isI ? 'I' : 'P',
      size_bytes: isI ? '20000' : '4000',
      capture_ms: String(capture),
      rendered: primaryShown ? '1' : '0',
      render_ms: primaryShown ? String(capture + e2e) : '',
      e2e_ms: primaryShown ? String(e2e) : '',
      encode_ms: '5',
      pacer_ms: '10',
      network_ms: '20',
      jitter_ms: '30',
      decode_ms: '3',
      render_wait_ms: String(e2e - 68),
      dropped: '',
      not_rendered_reason: primaryShown ? '' : 'superseded',
    });
    if (isI && o.backup) {
      rows.push({ ...rows[rows.length - 1], stream: 'backup', frame_type: 'P', size_bytes: '5000', rendered: '1', render_ms: String(capture + 80), e2e_ms: '80', not_rendered_reason: '' });
    }
  }
  return rows;
}

describe('cell summary', () => {
  it('the window starts warm-up seconds after the first capture and ends at the last', () => {
    const w = measurementWindow(frames(4), 1)!;
    assert.equal(w.fromMs, 2000);
    assert.ok(Math.abs(w.toMs - (1000 + 119 * FRAME_MS)) < 1e-9);
    assert.equal(measurementWindow([], 1), null);
  });

  it('latency figures over the window only; fps; freezes; backup bytes; no PSNR when not measured', () => {
    const all = frames(4);
    const f = summarizeCell(id, { frames: all, network: [], link: null, warmupS: 1, psnrByPicture: null });
    assert.equal(f.row.frames, 90, 'pictures captured in the 3 s after the warm-up');
    assert.equal(f.row.rendered, 90);
    const e2e = all.slice(30).map((r) => Number(r.e2e_ms)).sort((a, b) => a - b);
    assert.equal(f.row.e2e_p50_ms, Math.round(e2e[Math.ceil(0.5 * e2e.length) - 1] * 1000) / 1000);
    assert.equal(f.row.e2e_p99_ms, 200, 'the I-frames are the tail');
    assert.equal(f.row.iframe_picture_p95_ms, 200);
    assert.ok((f.row.pframe_picture_p95_ms as number) < 110);
    assert.equal(f.row.encode_mean_ms, 5);
    assert.equal(f.row.network_mean_ms, 20);
    assert.ok(Math.abs((f.row.fps as number) - 30) < 1, `fps ${f.row.fps}`);
    assert.equal(f.row.freezes, 0);
    assert.equal(f.row.backup_bytes_pct, 0);
    assert.equal(f.row.psnr_db, '');
    assert.equal(f.row.utilisation_pct, '');
    assert.equal(f.row.bitrate_kbps, '', 'no network.csv rows');
    assert.equal(f.row.duration_s, Math.round(119 * FRAME_MS - 1000) / 1000);
    assert.deepEqual(Object.keys(f.row).sort(), [...EXPERIMENT_SUMMARY_COLUMNS].sort(), 'every column of the contract');
  });

  it('dual: backup bytes as a share of primary bytes; the rendered backup counts as the picture', () => {
    const f = summarizeCell(id, { frames: frames(4, { backup: true }), network: [], link: null, warmupS: 0, psnrByPicture: null });
    // 4 I pictures: 4 × 5000 backup bytes against 4 × 20000 + 116 × 4000 primary bytes.
    assert.equal(f.row.backup_bytes_pct, Math.round(((100 * 20000) / (80000 + 116 * 4000)) * 1000) / 1000);
    assert.equal(f.row.rendered, 120);
    assert.equal(f.row.iframe_picture_p95_ms, 80, 'I pictures shown from their backup P');
  });

  it('a freeze: a gap of more than 200 ms between rendered pictures', () => {
    const rows = frames(3).filter((r) => !(Number(r.frame_id) >= 40 && Number(r.frame_id) < 50));
    const f = summarizeCell(id, { frames: rows, network: [], link: null, warmupS: 0, psnrByPicture: null });
    assert.equal(f.row.freezes, 1);
  });

  it('bitrate from network.csv and utilisation from link.csv, inside the window', () => {
    // Window 1200 ms … 4966.7 ms (the last capture): the rows at 1100 and 5500 ms are outside.
    const network = [
      { time_ms: '1100', sent_bps: '9000000000' },
      { time_ms: '2500', sent_bps: '1001500' },
      { time_ms: '3500', sent_bps: '1002500' },
      { time_ms: '4500', sent_bps: '1003500' },
      { time_ms: '5500', sent_bps: '9000000000' },
    ];
    const link = [1500, 2500, 3500].flatMap((t) => [
      { time_ms: String(1000 + t), direction: 'up', capacity_kbit: '2000', throughput_kbit: String(t === 1500 ? 1000 : 1500) },
      { time_ms: String(1000 + t), direction: 'down', capacity_kbit: '2000', throughput_kbit: '10' },
    ]);
    link.push({ time_ms: '1100', direction: 'up', capacity_kbit: '2000', throughput_kbit: '2000' });
    const f = summarizeCell(id, { frames: frames(4), network, link, warmupS: 0.2, psnrByPicture: null });
    assert.equal(f.row.bitrate_kbps, (1_001_500 + 1_002_500 + 1_003_500) / 3 / 1000);
    assert.equal(f.row.utilisation_pct, Math.round(((100 * (1000 + 1500 + 1500)) / 6000) * 1000) / 1000);
  });

  it('PSNR: recording picture i is the i-th rendered picture; only those captured in the window count', () => {
    const all = frames(2);
    const order = renderOrder(all);
    assert.equal(order.length, 60);
    const psnr = order.map((r) => (Number(r.capture_ms) < 1500 ? 10 : 40));
    const f = summarizeCell(id, { frames: all, network: [], link: null, warmupS: 0.5, psnrByPicture: psnr });
    assert.equal(f.row.psnr_db, 40);
    assert.deepEqual(f.psnr, { meanDb: 40, minDb: 40, pictures: 45 });
  });

  it('nothing measured: empty figures, not NaN', () => {
    const f = summarizeCell(id, { frames: [], network: [], link: null, warmupS: 0, psnrByPicture: null });
    assert.equal(f.row.frames, 0);
    assert.equal(f.row.e2e_p50_ms, '');
    assert.equal(f.row.fps, '');
    assert.equal(f.row.duration_s, 0);
  });
});
