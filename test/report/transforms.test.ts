import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventRecord, FrameRecord, LinkRecord, NetworkRecord } from '../../src/report/load';
import {
  backupEpisodes,
  componentPoints,
  ecdf,
  fpsPerSecond,
  freezes,
  playoutDelayPoints,
  ratePoints,
  renderedPictures,
  timeOrigin,
} from '../../src/report/transforms';
import { armCdfPoints } from '../../src/report/experiment-charts';
import { rng } from '../helpers/random';

function frame(over: Partial<FrameRecord>): FrameRecord {
  return {
    frameId: 0,
    stream: 'primary',
    frameType: 'P',
    captureMs: 1000,
    sizeBytes: 1000,
    rendered: true,
    renderedFrom: 'primary',
    renderMs: 1100,
    e2eMs: 100,
    components: { encode_ms: 10, pacer_ms: 20, network_ms: 5, jitter_ms: 40, decode_ms: 5, render_wait_ms: 20 },
    jitterEstimateMs: null,
    currentDelayMs: null,
    targetDelayMs: null,
    ...over,
  };
}

const transition = (timeMs: number, from: string, to: string, frameId: number, cause = ''): EventRecord => ({
  timeMs,
  event: 'transition',
  fromState: from,
  toState: to,
  frameId,
  cause,
});

test('ecdf: one step per distinct value at the rank of its last occurrence', () => {
  assert.deepEqual(ecdf([3, 1, 2, 2]), [
    { value: 1, p: 0.25 },
    { value: 2, p: 0.75 },
    { value: 3, p: 1 },
  ]);
  assert.deepEqual(ecdf([]), []);
  assert.deepEqual(ecdf([Number.NaN, 5]), [{ value: 5, p: 1 }], 'non-finite values are not pictures');
});

test('ecdf: above maxPoints it keeps evenly spaced steps, the first and the last exact', () => {
  const r = rng(7);
  const values = Array.from({ length: 20_000 }, () => 20 + r() * 200);
  const full = ecdf(values, Infinity);
  const cut = ecdf(values, 300);
  assert.equal(cut.length, 300);
  assert.deepEqual(cut[0], full[0]);
  assert.deepEqual(cut[cut.length - 1], full[full.length - 1]);
  assert.equal(cut[cut.length - 1].p, 1);
  for (let i = 1; i < cut.length; i++) assert.ok(cut[i].value > cut[i - 1].value && cut[i].p > cut[i - 1].p, 'strictly increasing');
  // Every kept point is a real step of the full curve (nothing interpolated).
  const steps = new Map(full.map((s) => [s.value, s.p]));
  for (const s of cut) assert.equal(steps.get(s.value), s.p);
  // The median of the cut curve is within one stride of the true median.
  const median = (c: { value: number; p: number }[]) => c.find((s) => s.p >= 0.5)!.value;
  assert.ok(Math.abs(median(cut) - median(full)) < 2, `${median(cut)} vs ${median(full)}`);
});

test('fpsPerSecond: whole seconds from the first render, empty seconds kept, the partial last second left out', () => {
  const origin = 10_000;
  // 30 fps for 2 s from t = 10.5 s, nothing for a second, then 10 pictures over 1.2 s.
  const renders = [
    ...Array.from({ length: 60 }, (_, i) => 10_500 + (i * 1000) / 30),
    ...Array.from({ length: 10 }, (_, i) => 13_500 + i * 120),
  ];
  const bins = fpsPerSecond(renders, origin);
  assert.deepEqual(
    bins.map((b) => [b.start_s, b.end_s, b.fps]),
    [
      [0.5, 1.5, 30],
      [1.5, 2.5, 30],
      [2.5, 3.5, 0],
      [3.5, 4.5, 9],
    ],
  );
  assert.deepEqual(fpsPerSecond([], origin), []);
  assert.deepEqual(fpsPerSecond([10_000, 10_500], origin), [], 'less than a second: no full bin');
});

test('freezes: gaps longer than 200 ms between consecutive renders, in seconds from the origin', () => {
  const got = freezes([1000, 1033, 1233, 1434, 2000, 2033], 1000);
  assert.deepEqual(got, [
    { start_s: 0.233, end_s: 0.434, gap_ms: 201 },
    { start_s: 0.434, end_s: 1, gap_ms: 566 },
  ]);
  assert.deepEqual(freezes([0, 200, 400], 0), [], 'exactly 200 ms is not a freeze (FREEZE_MS: more than)');
});

test('backupEpisodes: from entering BACKUP to leaving it; superseded and still-open episodes', () => {
  const events: EventRecord[] = [
    transition(1000, 'NORMAL', 'IFRAME_DUE', 0),
    transition(1000, 'IFRAME_DUE', 'BACKUP', 0),
    { ...transition(1150, 'BACKUP', 'BACKUP', 0), event: 'feedback-received' },
    transition(1150, 'BACKUP', 'NORMAL', 0, 'feedback: I-frame 0 complete at the receiver'),
    transition(3000, 'NORMAL', 'IFRAME_DUE', 60),
    transition(3000, 'IFRAME_DUE', 'BACKUP', 60),
    // A new I-frame due while the episode is active supersedes it.
    transition(3500, 'BACKUP', 'IFRAME_DUE', 75, 'keyframe request; new I-frame due while a backup episode was active'),
    transition(3500, 'IFRAME_DUE', 'BACKUP', 75),
  ];
  const got = backupEpisodes(events, 1000, 4200);
  assert.deepEqual(got, [
    { start_s: 0, end_s: 0.15, frame_id: 0, end_cause: 'feedback: I-frame 0 complete at the receiver' },
    { start_s: 2, end_s: 2.5, frame_id: 60, end_cause: 'keyframe request; new I-frame due while a backup episode was active' },
    { start_s: 2.5, end_s: 3.2, frame_id: 75, end_cause: 'run ended' },
  ]);
  // Single-stream runs go IFRAME_DUE → NORMAL: no episode.
  assert.deepEqual(backupEpisodes([transition(0, 'NORMAL', 'IFRAME_DUE', 0), transition(0, 'IFRAME_DUE', 'NORMAL', 0)], 0, 100), []);
});

test('renderedPictures: one point per rendered version; the picture type is its primary frame type', () => {
  const frames = [
    // Picture 45: the primary I-frame came late (superseded), its backup P was shown.
    frame({ frameId: 45, stream: 'primary', frameType: 'I', captureMs: 2500, rendered: false, renderedFrom: 'backup', e2eMs: null }),
    frame({ frameId: 45, stream: 'backup', frameType: 'P', captureMs: 2500, rendered: true, renderedFrom: 'backup', e2eMs: 90 }),
    frame({ frameId: 44, captureMs: 2467, e2eMs: 40 }),
    frame({ frameId: 46, captureMs: 2533, rendered: false, e2eMs: null, renderMs: null }),
  ];
  const origin = timeOrigin(frames);
  assert.equal(origin, 2467);
  assert.deepEqual(renderedPictures(frames, origin), [
    { frame_id: 44, t_s: 0, e2e_ms: 40, picture: 'P', rendered_from: 'primary', size_bytes: 1000 },
    { frame_id: 45, t_s: 0.033, e2e_ms: 90, picture: 'I', rendered_from: 'backup', size_bytes: 1000 },
  ]);
  const comps = componentPoints(frames, origin);
  assert.equal(comps.length, 12, 'six components per rendered picture');
  assert.deepEqual(
    comps.filter((c) => c.frame_id === 44).map((c) => [c.component, c.order]),
    [['encode', 0], ['pacer', 1], ['network', 2], ['jitter', 3], ['decode', 4], ['render wait', 5]],
  );
});

test('ratePoints: controller rates in kbit/s at their time; link bins at their start, media direction only', () => {
  const network: NetworkRecord[] = [{ timeMs: 1100, targetBps: 2e6, sentBps: 1.5e6, receivedBps: null, rttMs: null, lossFraction: null }];
  const link: LinkRecord[] = [
    { timeMs: 1200, direction: 'up', capacityKbit: 2500, throughputKbit: 2000 },
    { timeMs: 1300, direction: 'up', capacityKbit: 1000, throughputKbit: 990 },
    { timeMs: 1300, direction: 'down', capacityKbit: 1000, throughputKbit: 50 },
  ];
  const got = ratePoints(network, link, 1000).map((p) => `${p.series}@${p.t_s.toFixed(1)}=${p.kbps}`);
  assert.deepEqual(got.sort(), [
    'capacity@0.1=2500', // the bin 1100..1200 ms
    'capacity@0.2=1000',
    'link throughput@0.1=2000',
    'link throughput@0.2=990',
    'sent@0.1=1500',
    'target@0.1=2000',
  ]);
});

test('armCdfPoints pools the cells of an arm within a trace family', () => {
  const pts = armCdfPoints([
    { arm: 'dual', traceFamily: '4g', e2e: [10, 30] },
    { arm: 'dual', traceFamily: '4g', e2e: [20, 40] },
    { arm: 'dual', traceFamily: 'wifi', e2e: [5] },
    { arm: 'single', traceFamily: '4g', e2e: [50] },
  ]);
  const curve = (arm: string, fam: string) => pts.filter((p) => p.arm === arm && p.trace_family === fam).map((p) => [p.e2e_ms, p.p]);
  assert.deepEqual(curve('dual', '4g'), [[10, 0.25], [20, 0.5], [30, 0.75], [40, 1]]);
  assert.deepEqual(curve('dual', 'wifi'), [[5, 1]]);
  assert.deepEqual(curve('single', '4g'), [[50, 1]]);
});

test('playout-delay points: the recorded delays of rendered pictures only, at capture time', () => {
  const frames = [
    frame({ frameId: 0, captureMs: 1000, jitterEstimateMs: 20, currentDelayMs: 40, targetDelayMs: 45 }),
    frame({ frameId: 1, captureMs: 1033, rendered: false, jitterEstimateMs: 99, currentDelayMs: 99, targetDelayMs: 99 }),
    // An older run: no target column.
    frame({ frameId: 2, captureMs: 1066, jitterEstimateMs: 21, currentDelayMs: 41 }),
  ];
  assert.deepEqual(
    playoutDelayPoints(frames, 1000).map((p) => `${p.frame_id}@${p.t_s}:${p.series}=${p.ms}`),
    ['0@0:jitter estimate=20', '0@0:current delay=40', '0@0:target delay=45', '2@0.066:jitter estimate=21', '2@0.066:current delay=41'],
  );
});
