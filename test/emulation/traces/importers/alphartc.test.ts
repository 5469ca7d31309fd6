import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportMahimahi, importAlphaRtc, importMahimahi, importTrace } from '../../../../src/emulation/traces/importers';
import { TraceError } from '../../../../src/emulation/traces/errors';
import { parseSteps, stepTrace } from '../../../../src/emulation/traces/synthetic';

const META = { name: 'gym', family: 'other' };

test('an AlphaRTC / OpenNetLab gym trace: uplink pattern, rtt/2 as delay, loss; symmetric without a downlink pattern', () => {
  const doc = {
    type: 'video',
    downlink: {},
    uplink: {
      trace_pattern: [
        { duration: 2000, capacity: 300, loss: 0, rtt: 80, jitter: 0, time: 0.0 },
        { duration: 1500, capacity: 1200, loss: 2, rtt: 80, jitter: 5 },
        { duration: 500, capacity: 0 },
      ],
    },
  };
  const { trace, warnings } = importAlphaRtc(JSON.stringify(doc), 'gym.json', META);
  assert.deepEqual(trace.samples, [
    { timeS: 0, up: { kbit: 300, delayMs: 40 }, down: { kbit: 300, delayMs: 40 } },
    { timeS: 2, up: { kbit: 1200, delayMs: 40, lossPct: 2 }, down: { kbit: 1200, delayMs: 40, lossPct: 2 } },
    { timeS: 3.5, up: { kbit: 0 }, down: { kbit: 0 } },
  ]);
  assert.equal(trace.durationS, 4);
  assert.deepEqual(warnings, ['gym.json: 1 entries give a jitter, which the canonical format has no column for: ignored']);
  assert.match(trace.source, /^alphartc gym\.json: uplink pattern of 3 entries, symmetric/);
});

test('a downlink pattern is the feedback direction, on the union of both directions\' boundaries', () => {
  const doc = {
    uplink: { trace_pattern: [{ duration: 1000, capacity: 500 }, { duration: 1000, capacity: 700 }] },
    downlink: { trace_pattern: [{ duration: 1500, capacity: 100 }, { duration: 500, capacity: 200 }] },
  };
  const { trace } = importAlphaRtc(JSON.stringify(doc), 'g.json', META);
  assert.deepEqual(trace.samples.map((s) => [s.timeS, s.up.kbit, s.down.kbit]), [[0, 500, 100], [1, 700, 100], [1.5, 700, 200]]);
});

test('malformed gym traces: one line naming the entry', () => {
  const bad: [unknown, RegExp][] = [
    [[], /expected \{"uplink"/],
    [{ downlink: {} }, /no uplink\.trace_pattern entries/],
    [{ uplink: { trace_pattern: 5 } }, /uplink must be \{"trace_pattern": \[\.\.\.\]\}/],
    [{ uplink: { trace_pattern: [{ duration: -1, capacity: 5 }] } }, /uplink\.trace_pattern\[0\]\.duration must be a positive number of ms, got -1/],
    [{ uplink: { trace_pattern: [{ duration: 1, capacity: 5, loss: 150 }] } }, /\.loss must be a percentage 0–100/],
  ];
  for (const [doc, re] of bad) assert.throws(() => importTrace('alphartc', JSON.stringify(doc), 'b.json', META), (e: Error) => e instanceof TraceError && re.test(e.message), re.source);
});

test('mahimahi export: opportunities follow the capacity, the last line is the period, and it imports back', () => {
  const t = stepTrace('s', parseSteps('1200:2,0:1,2400:1'), false);
  const { text, note } = exportMahimahi(t);
  const stamps = text.trim().split('\n').map(Number);
  // 1200 kbit/s = one 1500-byte packet per 10 ms (the one completed at 10.0 ms carried
  // its last bit in ms 9); nothing during the outage; 2400: every 5 ms; the period last.
  assert.deepEqual(stamps.slice(0, 3), [9, 19, 29]);
  assert.equal(stamps.filter((ms) => ms >= 2000 && ms < 3000).length, 0);
  assert.equal(stamps.filter((ms) => ms >= 3000 && ms < 4000).length, 200);
  assert.equal(stamps[stamps.length - 1], 4000);
  assert.equal(note, "401 delivery opportunities of 1500 B in 4000 ms, the last marking the loop period (1 more than the trace's capacity: 0.25 %)");
  // Read back on 1-s bins: the same capacities, and the period's line in the first bin.
  const back = importMahimahi(text, 'back.mm', META, 1000).trace;
  assert.deepEqual(back.samples.map((s) => [s.timeS, s.up.kbit]), [[0, 1212], [1, 1200], [2, 0], [3, 2400]]);
});
