import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTable, ReportInputError } from '../../src/report/input';
import { detectKind, loadExperiment, loadRun } from '../../src/report/load';
import { meanPsnr } from '../../src/report/dashboard';
import { removeTempDirs, ROOT, tempDir } from '../helpers/cli';

after(removeTempDirs);

const FIXTURE = join(ROOT, 'test', 'fixtures', 'loopback-experiment');

function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('readTable names the file, the line and the column of what is wrong', () => {
  const d = tempDir('report-input');
  const spec = { required: ['time_ms', 'rtt_ms'], present: ['time_ms'], numeric: ['rtt_ms'] };
  assert.throws(() => readTable(write(d, 'a.csv', 'time_ms\n1\n'), spec), { name: 'ReportInputError', message: `${join(d, 'a.csv')}: missing column rtt_ms` });
  assert.throws(() => readTable(write(d, 'b.csv', 'time_ms,rtt_ms\n1,2\n2,abc\n'), spec), {
    message: `${join(d, 'b.csv')} line 3: rtt_ms must be a number or empty, got 'abc'`,
  });
  assert.throws(() => readTable(write(d, 'c.csv', 'time_ms,rtt_ms\n,2\n'), spec), { message: /c\.csv line 2: time_ms must be a number, got ''/ });
  assert.throws(() => readTable(write(d, 'd.csv', 'time_ms,rtt_ms\n1,2\n3\n'), spec), (e: Error) => {
    assert.ok(e instanceof ReportInputError);
    assert.match(e.message, /d\.csv: .*line 3/);
    return true;
  });
  assert.throws(() => readTable(write(d, 'e.csv', 'time_ms,rtt_ms\n'), spec), { message: /e\.csv: no data rows/ });
  assert.deepEqual(readTable(write(d, 'f.csv', 'time_ms,rtt_ms\n'), { ...spec, allowEmpty: true }), []);
  assert.deepEqual(readTable(write(d, 'g.csv', 'time_ms,rtt_ms\n5,\n'), spec), [{ time_ms: '5', rtt_ms: '' }]);
});

test('detectKind tells a run from an experiment, and says what a directory lacks', () => {
  assert.equal(detectKind(FIXTURE), 'experiment');
  assert.equal(detectKind(join(FIXTURE, 'dual__fixed-1.5__r0')), 'run');
  const d = tempDir('report-kind');
  assert.throws(() => detectKind(join(d, 'nope')), { message: `no such directory: ${join(d, 'nope')}` });
  assert.throws(() => detectKind(d), { message: /holds neither frames\.csv \(a run\) nor summary\.csv/ });
  write(d, 'summary.csv', 'cell\n');
  assert.throws(() => detectKind(d), /holds neither/, 'summary.csv without cell directories is not an experiment');
});

test('the fixture loads: every cell, events, network, link and the PSNR mean', () => {
  const exp = loadExperiment(FIXTURE);
  assert.equal(exp.rows.length, 4);
  assert.deepEqual(exp.missing, []);
  assert.deepEqual(new Set(exp.rows.map((r) => r.arm)), new Set(['single', 'dual']));
  for (const run of exp.runs) {
    assert.ok(run.frames.length >= 140, `${run.name}: ${run.frames.length} frames`);
    assert.ok(run.events && run.events.length > 0);
    assert.ok(run.network && run.network.length > 0);
    assert.ok(run.link && run.link.every((l) => l.direction === 'up'));
  }
  const dual = loadRun(join(FIXTURE, 'dual__fixed-1.5__r0'));
  assert.ok(dual.frames.some((f) => f.stream === 'backup'), 'the dual cell has backup frames');
  const psnr = meanPsnr(dual.summary);
  assert.ok(psnr !== null && psnr > 25 && psnr < 60, `mean PSNR ${psnr}`);
  assert.equal(meanPsnr({ quality: { meanPsnr: 37.5 } }), 37.5, "testbed summary --json's shape");
  assert.equal(meanPsnr({ psnr: null }), null);
});

test('an experiment cell without frames.csv is listed as missing, not fatal', () => {
  const d = tempDir('report-missing');
  const header = 'cell,arm,trace,trace_family,repetition,seed,duration_s,frames,rendered,e2e_p50_ms,e2e_p95_ms,e2e_p99_ms,encode_mean_ms,pacer_mean_ms,network_mean_ms,jitter_mean_ms,decode_mean_ms,render_wait_mean_ms,iframe_picture_p95_ms,pframe_picture_p95_ms,freezes,fps,bitrate_kbps,backup_bytes_pct,psnr_db,utilisation_pct';
  write(d, 'summary.csv', `${header}\nfailed__x__r0,dual,x,x,0,1,0,0,0,,,,,,,,,,,,0,,,,,\n`);
  mkdirSync(join(d, 'failed__x__r0'));
  const exp = loadExperiment(d);
  assert.deepEqual(exp.missing, ['failed__x__r0']);
  assert.equal(exp.runs.length, 0);
});
