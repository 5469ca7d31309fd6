import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLine, removeTempDirs, ROOT, runCli, tempDir } from '../helpers/cli';

after(removeTempDirs);

const FIXTURE = join(ROOT, 'test', 'fixtures', 'loopback-experiment');
const CELLS = ['single__fixed-1.5__r0', 'dual__fixed-1.5__r0', 'single__step-2.5-1.0-2.5__r0', 'dual__step-2.5-1.0-2.5__r0'];

test('testbed plot EXPERIMENT writes its dashboard, every cell dashboard, SVGs and PNGs, and prints the path', async () => {
  const out = tempDir('plot-exp');
  const r = await runCli(['plot', FIXTURE, '--out', out], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), join(out, 'dashboard.html'));
  for (const id of ['e2e-cdf', 'tail-latency', 'iframe-pframe', 'i-to-p', 'backup-bytes']) {
    for (const ext of ['svg', 'png']) assert.ok(existsSync(join(out, 'charts', `${id}.${ext}`)), `${id}.${ext}`);
  }
  const html = readFileSync(join(out, 'dashboard.html'), 'utf8');
  for (const cell of CELLS) {
    assert.ok(existsSync(join(out, cell, 'dashboard.html')), cell);
    assert.ok(existsSync(join(out, cell, 'charts', 'latency.png')), `${cell} latency.png`);
    assert.ok(html.includes(`href="${cell}/dashboard.html"`), `link to ${cell}`);
  }
  // Self-contained: the libraries are inlined, nothing is fetched.
  assert.doesNotMatch(html, /<script[^>]+src=/);
  assert.doesNotMatch(html, /<link[^>]+href="https?:/);
  assert.match(html, /vega-lite/);
});

test('testbed plot RUN --no-png writes SVGs only, into the run directory by default', async () => {
  const dir = join(tempDir('plot-run'), 'run');
  cpSync(join(FIXTURE, 'single__fixed-1.5__r0'), dir, { recursive: true });
  const r = await runCli(['plot', dir, '--no-png'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'dashboard.html')));
  assert.ok(existsSync(join(dir, 'charts', 'latency.svg')));
  assert.ok(!existsSync(join(dir, 'charts', 'latency.png')));
});

test('bad input to testbed plot: one line naming the problem, exit 2', async () => {
  const base = tempDir('plot-bad');
  const missing = await runCli(['plot', join(base, 'nope')]);
  assert.equal(missing.code, 2);
  assertOneLine(missing, /no such directory: .*nope/);
  assert.ok(!existsSync(join(base, 'nope')), 'a mistyped DIR is not created');

  const unwritable = await runCli(['plot', FIXTURE, '--out', join(FIXTURE, 'summary.csv', 'x')]);
  assert.equal(unwritable.code, 2);
  assertOneLine(unwritable, /cannot write to --out .*summary\.csv\/x \(ENOTDIR\)/);

  const empty = await runCli(['plot', base]);
  assert.equal(empty.code, 2);
  assertOneLine(empty, /holds neither frames\.csv/);

  const run = join(base, 'run');
  cpSync(join(FIXTURE, 'dual__fixed-1.5__r0'), run, { recursive: true });
  const frames = readFileSync(join(run, 'frames.csv'), 'utf8').split('\n');
  frames[3] = frames[3].replace(/^(\d+),primary,(\d+),(\w?),(\d+)/, '$1,primary,$2,$3,12kB');
  writeFileSync(join(run, 'frames.csv'), frames.join('\n'));
  const bad = await runCli(['plot', run]);
  assert.equal(bad.code, 2);
  assertOneLine(bad, /frames\.csv line 4: size_bytes must be a number or empty, got '12kB'/);

  writeFileSync(join(run, 'frames.csv'), 'frame_id,stream\n1,primary\n');
  const cols = await runCli(['plot', run]);
  assert.equal(cols.code, 2);
  assertOneLine(cols, /frames\.csv: missing columns frame_type, capture_ms/);

  writeFileSync(join(run, 'frames.csv'), frames.slice(0, 3).join('\n') + '\n1,2,3\n');
  const ragged = await runCli(['plot', run]);
  assert.equal(ragged.code, 2);
  assertOneLine(ragged, /frames\.csv: .*line 4/);
});
