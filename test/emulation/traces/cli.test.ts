/** `testbed traces ...` through the real CLI: output, written files, and bad input (one line, exit 2). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrace } from '../../../src/emulation/traces/format';
import { listBundled } from '../../../src/emulation/traces/files';
import { assertOneLine, removeTempDirs, runCli, tempDir } from '../../helpers/cli';

after(removeTempDirs);

test('traces list: one row per bundled trace', async () => {
  const r = await runCli(['traces', 'list']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^name\s+family\s+duration_s\s+loop\s+mean_kbit\s+min_kbit\s+max_kbit\s+cv$/);
  assert.equal(lines.length, 1 + listBundled().length);
  assert.match(r.stdout, /^step-2\.5-1\.0-2\.5\s+step\s+60\s+no\s+2000\s+1000\s+2500\s+0\.35$/m);
  assert.match(r.stdout, /^fixed-1\.0\s+fixed\s+60\s+yes\s+1000\s+1000\s+1000\s+0\.00$/m);
});

test('traces show: header, statistics and the per-bin table, by name or path', async () => {
  const r = await runCli(['traces', 'show', 'step-2.5-1.0-2.5', '--bin-s', '20']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^name {4}step-2\.5-1\.0-2\.5$/m);
  assert.match(r.stdout, /^length {2}60 s, plays once/m);
  assert.match(r.stdout, /^up {4}mean 2000 kbit\/s, cv 0\.35; min 1000, p5 1000, p50 2500, p95 2500, max 2500 kbit\/s; below 10 % of the mean 0\.0 % of the time$/m);
  assert.match(r.stdout, /^down {2}same capacity as up$/m);
  assert.match(r.stdout, /^0 +2500 +#{40}$/m);
  assert.match(r.stdout, /^20 +1000 +#{16} *$/m);
  const byPath = await runCli(['traces', 'show', 'traces/4g-1.trace']);
  assert.equal(byPath.code, 0, byPath.stderr);
  assert.match(byPath.stdout, /per 1-s bin: cv \d\.\d\d, lag-1 autocorrelation \d\.\d\d/);
  assert.equal(byPath.stdout.split('\n').filter((l) => /^\d+ +\d+ /.test(l)).length, 30, '30 bins of 10 s');
});

test('traces import: each format to a canonical file, with the transforms and warnings', async () => {
  const dir = tempDir('traces-import');
  const mm = join(dir, 'link.mm');
  writeFileSync(mm, Array.from({ length: 1000 }, (_, i) => String((i + 1) * 2)).join('\n') + '\n');
  const out = join(dir, 'lte.trace');
  const r = await runCli(['traces', 'import', 'mahimahi', mm, '--out', out, '--family', '4g', '--scale-mean-kbit', '3000', '--clip', '100,2500']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^wrote .*lte\.trace: 1 samples, 2 s, loops, mean 2500 kbit\/s$/m);
  const t = parseTrace(readFileSync(out, 'utf8'), out);
  assert.equal(t.name, 'lte');
  assert.equal(t.family, '4g');
  assert.match(t.source, /^mahimahi link\.mm: 1000 delivery opportunities .*; scaled x0\.5 to mean 3000 kbit\/s, clipped to \[100, 2500\] kbit\/s \(outages kept\)$/);

  const txt = join(dir, 'rate.txt');
  writeFileSync(txt, '10 1\n11 2\n30 3\n31 4\n');
  const r2 = await runCli(['traces', 'import', 'text', txt, '--unit', 'Mbit', '--out', join(dir, 'rate.trace'), '--name', 'walk', '--duration', '40', '--loop']);
  assert.equal(r2.code, 0, r2.stderr);
  assertOneLine(r2, /^testbed: warning: .*rate\.txt: 1 gap\(s\) longer than 5 s/);
  const t2 = parseTrace(readFileSync(join(dir, 'rate.trace'), 'utf8'), 'rate.trace');
  assert.equal(t2.name, 'walk');
  assert.equal(t2.loop, true);
  assert.equal(t2.durationS, 40);

  const csv = join(dir, 'log.csv');
  writeFileSync(csv, 'Timestamp,DL_bitrate\na,100\nb,-\nc,300\n');
  const r3 = await runCli(['traces', 'import', 'csv', csv, '--column', 'DL_bitrate', '--unit', 'kbit', '--out', join(dir, 'log.trace')]);
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stderr, /1 of 3 samples had no DL_bitrate/);

  // No header, one run of several picked with --where, Mbit/s.
  const runs = join(dir, 'runs.csv');
  writeFileSync(runs, '0,1,5\n1,1,6\n0,2,50\n1,2,60\n');
  const r5 = await runCli(['traces', 'import', 'csv', runs, '--no-header', '--column', '3', '--time-column', '1', '--where', '2=2', '--unit', 'Mbit', '--out', join(dir, 'run2.trace')]);
  assert.equal(r5.code, 0, r5.stderr);
  assert.deepEqual(parseTrace(readFileSync(join(dir, 'run2.trace'), 'utf8'), 'run2.trace').samples.map((s) => s.up.kbit), [50000, 60000]);

  // An AlphaRTC gym trace in, mahimahi out.
  const gym = join(dir, 'gym.json');
  writeFileSync(gym, JSON.stringify({ uplink: { trace_pattern: [{ duration: 1000, capacity: 1200, rtt: 40 }] } }));
  const r6 = await runCli(['traces', 'import', 'alphartc', gym, '--out', join(dir, 'gym.trace')]);
  assert.equal(r6.code, 0, r6.stderr);
  const r7 = await runCli(['traces', 'export', 'mahimahi', join(dir, 'gym.trace'), '--out', join(dir, 'gym.mm')]);
  assert.equal(r7.code, 0, r7.stderr);
  assert.match(r7.stdout, /^wrote .*gym\.mm: gym up, 101 delivery opportunities of 1500 B in 1000 ms/);
  assert.equal(readFileSync(join(dir, 'gym.mm'), 'utf8').split('\n')[0], '9');

  const json = join(dir, 'p.json');
  writeFileSync(json, '[{"duration": 2000, "capacity": 1500.4}, {"duration": 1000, "capacity": 0}]');
  const r4 = await runCli(['traces', 'import', 'json', json, '--out', join(dir, 'p.trace')]);
  assert.equal(r4.code, 0, r4.stderr);
  const t4 = parseTrace(readFileSync(join(dir, 'p.trace'), 'utf8'), 'p.trace');
  assert.deepEqual(t4.samples.map((s) => s.up.kbit), [1500, 0], 'whole kbit/s');
});

test('traces generate: model, fixed and step traces', async () => {
  const dir = tempDir('traces-gen');
  const r = await runCli(['traces', 'generate', '--family', '5g', '--seed', '9', '--duration', '20', '--cv', '0.2', '--out', join(dir, 'g.trace')]);
  assert.equal(r.code, 0, r.stderr);
  const t = parseTrace(readFileSync(join(dir, 'g.trace'), 'utf8'), 'g.trace');
  assert.match(t.source, /^model 5g\(seed=9, mean=\d+ kbit\/s, cv=0\.20, /);
  assert.equal(t.durationS, 20);
  const s = await runCli(['traces', 'generate', '--family', 'step', '--steps', '100:1.5,200:2', '--out', join(dir, 's.trace')]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(readFileSync(join(dir, 's.trace'), 'utf8'), /# duration_s: 3\.5\n# loop: false\n.*\n0\.0,100,100,,,,\n1\.5,200,200,,,,\n$/);
});

test('bad input: one line on stderr, exit 2, no file written', async () => {
  const dir = tempDir('traces-bad');
  const badTrace = join(dir, 'bad.trace');
  writeFileSync(badTrace, '# testbed-trace v1\ntime_s,up_kbit\n0,100\n5,fast\n');
  const badMm = join(dir, 'bad.mm');
  writeFileSync(badMm, '10\n20\nx\n');
  const out = join(dir, 'o.trace');
  const cases: [string[], RegExp][] = [
    [['traces', 'show', 'no-such-trace'], /^testbed: no bundled trace 'no-such-trace' \(bundled: .*4g-1.*\)/],
    [['traces', 'show', join(dir, 'missing.trace')], /^testbed: cannot read trace .*missing\.trace \(ENOENT\)/],
    [['traces', 'show', badTrace], /^testbed: .*bad\.trace line 4: up_kbit 'fast' is not a number$/],
    [['traces', 'import', 'mahimahi', badMm, '--out', out], /^testbed: .*bad\.mm line 3: expected one integer millisecond timestamp, got 'x'$/],
    [['traces', 'import', 'pcap', badMm, '--out', out], /^testbed: .*'pcap'.*mahimahi, text, csv, json, alphartc/],
    [['traces', 'import', 'csv', badMm, '--out', out], /^testbed: the csv format needs --column NAME/],
    [['traces', 'import', 'text', badMm, '--column', 'x', '--out', out], /^testbed: --column applies to the csv format, not text$/],
    [['traces', 'import', 'text', badMm, '--out', out], /^testbed: the text format needs --unit \(bit, kbit, Mbit, Gbit, byte, kbyte, Mbyte; per second\)/],
    [['traces', 'import', 'mahimahi', badMm, '--unit', 'kbit', '--out', out], /^testbed: --unit applies to the csv and text formats, not mahimahi$/],
    [['traces', 'import', 'csv', badMm, '--column', 'x', '--unit', 'kbit', '--where', 'x', '--out', out], /^testbed: --where must be COLUMN=VALUE, got 'x'$/],
    [['traces', 'import', 'csv', badMm, '--column', 'x', '--unit', 'mbps', '--out', out], /^testbed: .*'mbps'.*bit, kbit, Mbit/],
    [['traces', 'export', 'mahimahi', 'no-such-trace', '--out', join(dir, 'x.mm')], /^testbed: no bundled trace 'no-such-trace'/],
    [['traces', 'import', 'mahimahi', badMm, '--out', join(dir, 'o.txt')], /^testbed: --out .*o\.txt: a canonical trace file must end in \.trace$/],
    [['traces', 'import', 'mahimahi', join(dir, 'none.mm'), '--out', out], /^testbed: cannot read .*none\.mm \(ENOENT\)$/],
    [['traces', 'import', 'json', badMm, '--out', out, '--clip', '9,1'], /^testbed: --clip must be MIN,MAX in kbit\/s with MIN <= MAX, got '9,1'$/],
    [['traces', 'generate', '--family', 'lte', '--out', out], /^testbed: .*'lte'.*wifi, 4g, 5g, fixed, step/],
    [['traces', 'generate', '--family', 'fixed', '--out', out], /^testbed: --family fixed needs --kbit KBIT$/],
    [['traces', 'generate', '--family', 'fixed', '--kbit', '5', '--seed', '2', '--out', out], /^testbed: --seed does not apply to --family fixed/],
    [['traces', 'generate', '--family', 'wifi', '--kbit', '5', '--out', out], /^testbed: --kbit does not apply to --family wifi/],
    [['traces', 'generate', '--family', 'step', '--steps', '100:0', '--out', out], /^testbed: --steps: step 1 '100:0' must be KBIT:SECONDS/],
    [['traces', 'generate', '--family', '4g', '--step-ms', '300', '--out', out], /^testbed: model: the step must be a whole number of ms dividing 1000/],
    [['traces', 'generate', '--family', '4g', '--out', join(dir, 'no', 'dir', 'x.trace')], /^testbed: cannot write .*x\.trace \(ENOENT\)$/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assertOneLine(r, message);
  }
  assert.ok(!existsSync(out), 'no output written on failure');
});
