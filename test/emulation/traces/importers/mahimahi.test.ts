import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importMahimahi } from '../../../../src/emulation/traces/importers/mahimahi';
import { timeWeightedMean } from '../../../../src/emulation/traces/stats';
import { TraceError } from '../../../../src/emulation/traces/errors';

const META = { name: 'mm', family: '4g' };
const ups = (t: { samples: { timeS: number; up: { kbit: number } }[] }) => t.samples.map((s) => [s.timeS, s.up.kbit]);

test('delivery opportunities per bin → kbit/s; duplicates are packets in the same ms; the file loops', () => {
  // Period 1000 ms, 200-ms bins: 3 packets in bin 0 (one at the period itself = next pass's 0),
  // none in bin 1 (a gap), 2 in bin 2 (same ms), 1 in bin 3, 1 in bin 4 (999).
  const text = '5\n150\n500\n500\n\n700\n999\n1000\n';
  const { trace, warnings } = importMahimahi(text, 'up.mm', META);
  assert.deepEqual(warnings, []);
  assert.equal(trace.loop, true);
  assert.equal(trace.durationS, 1);
  // One packet per 200 ms = 1500·8 bit / 0.2 s = 60 kbit/s.
  assert.deepEqual(ups(trace), [[0, 180], [0.2, 0], [0.4, 120], [0.6, 60]]);
  // Every line is one 1500-byte opportunity per period: 7 × 12000 bit / 1 s.
  assert.equal(timeWeightedMean(trace), 84);
  assert.match(trace.source, /^mahimahi up\.mm: 7 delivery opportunities of 1500 B in 1000 ms \(mean 84 kbit\/s\), 200 ms bins$/);
  assert.equal(trace.family, '4g');
});

test('bin length is an option; a partial last bin is rated on its own length; a late start is an outage, warned', () => {
  const { trace, warnings } = importMahimahi('1200\n1200\n1300\n2500\n', 'late.mm', META, 1000);
  // Bins [0,1000): 0; [1000,2000): 3 packets = 36 kbit/s; [2000,2500): the line at 2500 is the period → bin 0.
  assert.deepEqual(ups(trace), [[0, 12], [1, 36], [2, 0]]);
  assert.equal(trace.durationS, 2.5);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /first delivery opportunity is at 1200 ms: the trace starts with an outage/);
  assert.match(warnings[1], /the period 2500 ms is not a multiple of 1000 ms: the last bin is 500 ms long/);
});

test('malformed files: one line naming the line', () => {
  const bad: [string, RegExp][] = [
    ['', /^x\.mm line 1: no timestamps \(empty file\)/],
    ['10\n20\n1.5\n', /^x\.mm line 3: expected one integer millisecond timestamp, got '1\.5'/],
    ['10\n-20\n', /^x\.mm line 2: expected one integer millisecond timestamp, got '-20'/],
    ['10 11\n', /^x\.mm line 1: expected one integer/],
    ['10\n20\n15\n', /^x\.mm line 3: timestamps must not decrease \(15 after 20\)/],
    ['0\n0\n', /^x\.mm: the last timestamp is the loop period and must be > 0 ms/],
  ];
  for (const [text, message] of bad) assert.throws(() => importMahimahi(text, 'x.mm', META), (e: Error) => e instanceof TraceError && message.test(e.message), message.source);
  assert.throws(() => importMahimahi('10\n', 'x.mm', META, 0), /--bin-ms must be a whole number of ms >= 1/);
});
