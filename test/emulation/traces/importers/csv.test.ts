import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importCsv } from '../../../../src/emulation/traces/importers/csv';
import { TraceError } from '../../../../src/emulation/traces/errors';

const META = { name: 'drive', family: '4g' };
const ups = (t: { samples: { timeS: number; up: { kbit: number } }[] }) => t.samples.map((s) => [s.timeS, s.up.kbit]);

const LOG = `Timestamp,Longitude,DL_bitrate,UL_bitrate,State
2018.02.12_13.49.51,-8.47,-,10,D
2018.02.12_13.49.52,-8.47,1200,12,D
2018.02.12_13.49.53,-8.47,,9,D
2018.02.12_13.49.54,-8.47,0,0,I
2018.02.12_13.49.55,-8.47,-,3,D
2018.02.12_13.49.56,-8.47,2500,40,D
`;

test('one row per second; missing values hold the previous one (leading: the first), counted in a warning', () => {
  const { trace, warnings } = importCsv(LOG, 'drive.csv', META, { column: 'DL_bitrate' });
  assert.deepEqual(ups(trace), [[0, 1200], [3, 0], [5, 2500]]);
  assert.equal(trace.durationS, 6);
  assert.equal(trace.loop, false);
  assert.deepEqual(warnings, ["drive.csv: 3 of 6 rows had no DL_bitrate ('-' or empty): each held the previous value (leading ones the first value logged)"]);
  assert.match(trace.source, /^csv drive\.csv: column DL_bitrate \(kbit\/s\), 6 rows, one row per second, 3 missing held$/);
});

test('a time column gives the times (shifted to 0); the last row lasts a median step', () => {
  const text = 'sec,rate\n100,500\n101,600\n103,700\n104,-\n';
  const { trace, warnings } = importCsv(text, 't.csv', META, { column: 'rate', timeColumn: 'sec' });
  assert.deepEqual(ups(trace), [[0, 500], [1, 600], [3, 700]]);
  assert.equal(trace.durationS, 5);
  assert.equal(warnings.length, 1);
  assert.match(trace.source, /times from sec shifted by -100 s to start at 0/);
});

test('errors name the line: junk values, wrong field counts, unknown columns, bad times', () => {
  const bad: [string, { column: string; timeColumn?: string }, RegExp][] = [
    ['', { column: 'x' }, /^c\.csv line 1: empty file/],
    ['a,b\n', { column: 'a' }, /^c\.csv line 1: a header row but no data rows/],
    ['a,b\n1,2\n', { column: 'DL' }, /^c\.csv line 1: no column 'DL' \(columns: a, b\)/],
    ['a,b\n1,2\n3,n/a\n', { column: 'b' }, /^c\.csv line 3: b 'n\/a' is not a number \(missing values are '-' or empty\)/],
    ['a,b\n1,2\n3,-4\n', { column: 'b' }, /^c\.csv line 3: b must not be negative, got -4/],
    ['a,b\n1,2\n3\n', { column: 'b' }, /^c\.csv line 3: 1 fields, the header has 2/],
    ['a,b\n1,-\n2,\n', { column: 'b' }, /^c\.csv: no value in column b/],
    ['t,b\n1,2\n1,3\n', { column: 'b', timeColumn: 't' }, /^c\.csv line 3: t must increase \(1 after 1\)/],
    ['t,b\n1,2\nnoon,3\n', { column: 'b', timeColumn: 't' }, /^c\.csv line 3: t 'noon' is not a number of seconds/],
    ['a,b\n1,"2\n', { column: 'b' }, /^c\.csv line 2: Quote Not Closed/],
  ];
  for (const [text, opts, message] of bad) assert.throws(() => importCsv(text, 'c.csv', META, opts), (e: Error) => e instanceof TraceError && message.test(e.message), message.source);
});
