import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importCsv } from '../../../../src/emulation/traces/importers/csv';
import { importTrace } from '../../../../src/emulation/traces/importers';
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
  const { trace, warnings } = importCsv(LOG, 'drive.csv', META, { column: 'DL_bitrate', unit: 'kbit' });
  assert.deepEqual(ups(trace), [[0, 1200], [3, 0], [5, 2500]]);
  assert.equal(trace.durationS, 6);
  assert.equal(trace.loop, false);
  assert.deepEqual(warnings, ["drive.csv: 3 of 6 samples had no DL_bitrate ('-' or empty): each held the previous value (leading ones the first value logged)"]);
  assert.match(trace.source, /^csv drive\.csv: DL_bitrate \(kbit\/s\), 6 rows, one row per second, 3 missing held$/);
});

test('a time column gives the times (shifted to 0); the last row lasts a median step', () => {
  const text = 'sec,rate\n100,500\n101,600\n103,700\n104,-\n';
  const { trace, warnings } = importCsv(text, 't.csv', META, { column: 'rate', unit: 'kbit', timeColumn: 'sec' });
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
    ['a,b\n1,-\n2,\n', { column: 'b' }, /^c\.csv: no value in b/],
    ['t,b\n2,2\n1,3\n', { column: 'b', timeColumn: 't' }, /^c\.csv line 3: t must not decrease/],
    ['t,b\n1,2\nnoon,3\n', { column: 'b', timeColumn: 't' }, /^c\.csv line 3: t 'noon' is neither seconds nor a date-time/],
    ['a,b\n1,"2\n', { column: 'b' }, /^c\.csv line 2: Quote Not Closed/],
  ];
  for (const [text, opts, message] of bad) assert.throws(() => importCsv(text, 'c.csv', META, { ...opts, unit: 'kbit' }), (e: Error) => e instanceof TraceError && message.test(e.message), message.source);
});

test('a long-format file of several runs: --where picks one, the unit converts, the mean warning catches a wrong unit', () => {
  const rows = ['protocol,carrier,run_num,seq_num,throughput_mbps'];
  for (const run of [1, 2]) for (let s = 0; s < 4; s++) rows.push(`udp,A,${run},${s},${run === 1 ? 2 + s : 10}`);
  const text = rows.join('\n') + '\n';
  const one = importCsv(text, 'runs.csv', META, { column: 'throughput_mbps', unit: 'Mbit', where: [{ column: 'run_num', value: '1' }] });
  assert.deepEqual(ups(one.trace), [[0, 2000], [1, 3000], [2, 4000], [3, 5000]]);
  assert.match(one.trace.source, /4 rows with run_num=1, one row per second/);
  assert.throws(() => importCsv(text, 'runs.csv', META, { column: 'throughput_mbps', unit: 'Mbit', where: [{ column: 'run_num', value: '9' }] }), /runs\.csv: no row has run_num=9/);
  assert.throws(() => importCsv(text, 'runs.csv', META, { column: 'throughput_mbps', unit: 'Mbit', where: [{ column: 'run', value: '1' }] }), /no column 'run'/);
  // Read as kbit/s, the same run's mean is 3.5 kbit/s: importTrace warns.
  const wrong = importTrace('csv', text, 'runs.csv', META, { column: 'throughput_mbps', unit: 'kbit', where: [{ column: 'run_num', value: '1' }] });
  assert.deepEqual(wrong.warnings, ['runs.csv: the mean capacity is 3.50 kbit/s (read as kbit/s: check --unit), outside the 10 kbit/s–10 Gbit/s of real links']);
  assert.throws(() => importTrace('csv', text, 'runs.csv', META, { column: 'throughput_mbps' }), /^TraceError: the csv format needs --unit \(bit, kbit, Mbit, Gbit, byte, kbyte, Mbyte; per second\)/);
});

test('no header: columns by number; a date-time time column; repeated seconds averaged, missing ones held', () => {
  const text = [
    '2020.01.16_12.10.03,1000',
    '2020.01.16_12.10.04,2000',
    '2020.01.16_12.10.04,4000',
    '2020.01.16_12.10.05,500',
    '2020.01.16_12.10.09,800',
    '2020.01.16_12.10.10,800',
  ].join('\n');
  const r = importCsv(text, 'dt.csv', META, { column: '2', unit: 'byte', timeColumn: '1', header: false });
  assert.deepEqual(ups(r.trace), [[0, 8], [1, 24], [2, 4], [6, 6.4]]);
  assert.equal(r.trace.durationS, 8);
  assert.deepEqual(r.warnings, [
    'dt.csv: 1 rows repeated an earlier row\'s time: rows of one time were averaged into one sample',
    'dt.csv: 1 gap(s) longer than twice the median step 1 s (3 s in all): the previous value held through them',
  ]);
  assert.throws(() => importCsv(text, 'dt.csv', META, { column: '3', unit: 'byte', header: false }), /dt\.csv: without a header, columns are numbers 1–2, got '3'/);
  // ISO 8601 with an offset: only differences count.
  const iso = importCsv('t,r\n2020-01-16T12:10:03+01:00,1\n2020-01-16 11:10:04.5Z,2\n', 'iso.csv', META, { column: 'r', unit: 'Mbit', timeColumn: 't' });
  assert.deepEqual(ups(iso.trace), [[0, 1000], [1.5, 2000]]);
  assert.throws(() => importCsv('t,r\n2020.02.31_00.00.00,1\n', 'x.csv', META, { column: 'r', unit: 'kbit', timeColumn: 't' }), /neither seconds nor a date-time/);
});
