import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTrace, parseTrace } from '../../../src/emulation/traces/format';
import { TraceError } from '../../../src/emulation/traces/errors';
import type { Trace } from '../../../src/emulation/traces/types';
import { parseFuzzer, rng } from '../../helpers/random';

const CANONICAL = `# testbed-trace v1
# name: 4g-drive-1
# family: 4g
# source: hand-written
# duration_s: 3.5
# loop: true
time_s,up_kbit,down_kbit,up_delay_ms,down_delay_ms,up_loss_pct,down_loss_pct
0.0,2500,2500,,,,
1.0,2310.5,400,20,,0.5,
2.25,0,0,,35.5,,100
`;

test('a canonical file parses to the samples it lists and is rewritten unchanged', () => {
  const t = parseTrace(CANONICAL, 'x/4g-drive-1.trace');
  assert.deepEqual(t, {
    name: '4g-drive-1',
    family: '4g',
    source: 'hand-written',
    durationS: 3.5,
    loop: true,
    samples: [
      { timeS: 0, up: { kbit: 2500 }, down: { kbit: 2500 } },
      { timeS: 1, up: { kbit: 2310.5, delayMs: 20, lossPct: 0.5 }, down: { kbit: 400 } },
      { timeS: 2.25, up: { kbit: 0 }, down: { kbit: 0, delayMs: 35.5, lossPct: 100 } },
    ],
  } satisfies Trace);
  assert.equal(formatTrace(t), CANONICAL);
});

test('formatTrace round-trips any trace exactly (random values, odd times)', () => {
  const r = rng(7);
  for (let n = 0; n < 50; n++) {
    let time = 0;
    const samples = Array.from({ length: 1 + Math.floor(r() * 20) }, (_, i) => {
      if (i > 0) time += r() * 3 + 1e-6;
      const kbit = r() * 10000;
      const s: Trace['samples'][number] = { timeS: time, up: { kbit }, down: { kbit: r() < 0.5 ? kbit : r() * 100 } };
      if (r() < 0.3) s.up.delayMs = r() * 100;
      if (r() < 0.3) s.down.lossPct = r() * 100;
      return s;
    });
    const t: Trace = { name: `n${n}`, family: 'wifi', source: 'random, with: colons', durationS: time + 0.1 + r(), loop: r() < 0.5, samples };
    assert.deepEqual(parseTrace(formatTrace(t), 'r.trace'), t);
  }
});

test('defaults: name from the file, family other, no loop, duration = last + median step; optional columns', () => {
  const t = parseTrace('# testbed-trace v1\r\n# a free comment\r\nup_kbit,time_s\r\n100,0\r\n200,1\r\n300,1.5\r\n400,3', '/tmp/dir/my-link.trace');
  assert.equal(t.name, 'my-link');
  assert.equal(t.family, 'other');
  assert.equal(t.source, 'unknown');
  assert.equal(t.loop, false);
  // Steps 1, 0.5, 1.5: median 1 → the last sample (at 3, no trailing newline) holds 1 s.
  assert.equal(t.durationS, 4);
  assert.deepEqual(t.samples[1], { timeS: 1, up: { kbit: 200 }, down: { kbit: 200 } });
  // An empty down_kbit cell means symmetric too.
  const e = parseTrace('# testbed-trace v1\n# duration_s: 5\ntime_s,up_kbit,down_kbit\n0,100,\n', 'e.trace');
  assert.deepEqual(e.samples, [{ timeS: 0, up: { kbit: 100 }, down: { kbit: 100 } }]);
});

test('every malformed file is one line naming the file and the line', () => {
  const head = '# testbed-trace v1\ntime_s,up_kbit\n';
  const cases: [string, RegExp][] = [
    ['', /^f\.trace line 1: empty file/],
    ['  \n\n', /^f\.trace line 1: empty file/],
    ['time_s,up_kbit\n0,1\n', /^f\.trace line 1: not a testbed trace: the first line must be '# testbed-trace v1'/],
    ['# testbed-trace v2\ntime_s,up_kbit\n0,1\n', /^f\.trace line 1: unsupported format version 'v2'/],
    ['# testbed-trace v1\n# lopp: true\ntime_s,up_kbit\n0,1\n', /^f\.trace line 2: unknown header 'lopp'/],
    ['# testbed-trace v1\n# loop: true\n# loop: false\ntime_s,up_kbit\n0,1\n1,2\n', /^f\.trace line 3: header 'loop' given twice \(also on line 2\)/],
    ['# testbed-trace v1\n# loop: yes\ntime_s,up_kbit\n0,1\n1,2\n', /^f\.trace line 2: loop must be 'true' or 'false', got 'yes'/],
    ['# testbed-trace v1\n# duration_s: 1\ntime_s,up_kbit\n0,1\n1,2\n', /^f\.trace line 2: duration_s 1 must be greater than the last sample's time 1/],
    ['# testbed-trace v1\n# duration_s: soon\ntime_s,up_kbit\n0,1\n', /^f\.trace line 2: duration_s 'soon' is not a number/],
    ['# testbed-trace v1\n# name: x\n', /^f\.trace line 3: missing the column line/],
    ['# testbed-trace v1\ntime_s,up_kbit,jitter_ms\n0,1,2\n', /^f\.trace line 2: unknown column 'jitter_ms'/],
    ['# testbed-trace v1\ntime_s,down_kbit\n0,1\n', /^f\.trace line 2: missing the required column 'up_kbit'/],
    ['# testbed-trace v1\ntime_s,up_kbit,time_s\n0,1,0\n', /^f\.trace line 2: column 'time_s' given twice/],
    [head, /^f\.trace line 3: no samples after the column line/],
    [head + '0,1\n1,abc\n', /^f\.trace line 4: up_kbit 'abc' is not a number/],
    [head + '0,1\n1,0x10\n', /^f\.trace line 4: up_kbit '0x10' is not a number/],
    [head + '0,1\n1,-5\n', /^f\.trace line 4: up_kbit must not be negative, got -5/],
    [head + '0,1\n1,\n', /^f\.trace line 4: up_kbit is empty/],
    [head + '0,1\n2,1\n2,3\n', /^f\.trace line 5: times must increase \(2 after 2\)/],
    [head + '0.5,1\n', /^f\.trace line 3: the first sample must be at time 0, got 0.5/],
    [head + '0,1\n1,2\n2', /^f\.trace line 5: 1 fields, the column line has 2/],
    [head + '0,1,3\n', /^f\.trace line 3: 3 fields, the column line has 2/],
    [head + '0,1\n# late\n', /^f\.trace line 4: comments and headers belong before the column line/],
    ['# testbed-trace v1\ntime_s,up_kbit,up_loss_pct\n0,1,100.5\n', /^f\.trace line 3: up_loss_pct must be a percentage 0–100, got 100.5/],
    [head + '0,1\n', /^f\.trace line 1: missing the header '# duration_s:' \(required when the trace has one sample\)/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseTrace(text, 'f.trace'), (e: Error) => e instanceof TraceError && message.test(e.message) && !e.message.includes('\n'), `${JSON.stringify(text)} → ${message}`);
  }
});

test('fuzz: mutated canonical files parse or fail with a TraceError, never anything else', () => {
  const r = rng(11);
  const fuzz = parseFuzzer((b) => parseTrace(b.toString('latin1'), 'fuzz.trace'), TraceError, (t) => {
    assert.ok(t.samples.length > 0 && t.samples[0].timeS === 0 && t.durationS > t.samples[t.samples.length - 1].timeS);
  });
  const base = Buffer.from(CANONICAL, 'latin1');
  const alphabet = Buffer.from('0123456789.,-#:\n e');
  for (let n = 0; n < 3000; n++) {
    const b = Buffer.from(base);
    for (let k = 0; k < 1 + Math.floor(r() * 4); k++) b[Math.floor(r() * b.length)] = alphabet[Math.floor(r() * alphabet.length)];
    fuzz.attempt(r() < 0.2 ? b.subarray(0, Math.floor(r() * b.length)) : b);
  }
  assert.ok(fuzz.counts.parsed > 50 && fuzz.counts.rejected > 50, JSON.stringify(fuzz.counts));
});

test('formatTrace refuses a header value that would break the file', () => {
  const t = parseTrace(CANONICAL, 'f.trace');
  assert.throws(() => formatTrace({ ...t, source: 'two\nlines' }), /the source must be one line/);
});
