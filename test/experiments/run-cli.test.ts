/**
 * `testbed run` through the real CLI, without running cells: bad specs and options end
 * in one line and exit 2; --dry-run, --export slurm and --summarize do what they say.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli } from '../../src/cli/main';
import { commanderArgChecker } from '../../src/experiments/arg-check';
import { expandMatrix } from '../../src/experiments/matrix';
import { CELL_SUMMARY_COLUMNS } from '../../src/experiments/results';
import { loadSpec } from '../../src/experiments/spec';
import { assertOneLine, removeTempDirs, ROOT, runCli, tempDir } from '../helpers/cli';

after(removeTempDirs);

const SMOKE = join(ROOT, 'experiments', 'smoke.json');

function specFile(dir: string, spec: unknown): string {
  const p = join(dir, 'spec.json');
  writeFileSync(p, typeof spec === 'string' ? spec : JSON.stringify(spec));
  return p;
}

describe('testbed run: errors are one line', () => {
  it('a missing spec, a typo in an arm, an unknown trace, a cell out of range, clashing modes', async () => {
    const dir = tempDir('run-cli');
    let r = await runCli(['run', join(dir, 'nope.json')]);
    assert.equal(r.code, 2);
    assertOneLine(r, /^testbed: cannot read spec .*nope\.json \(ENOENT\)$/);

    const typo = specFile(dir, { name: 't', duration_s: 5, arms: { dual: { offer: ['--mdoe', 'dual'] } }, traces: 'none' });
    r = await runCli(['run', typo, '--dry-run']);
    assert.equal(r.code, 2);
    assertOneLine(r, new RegExp(`^testbed: ${typo.replace(/[.]/g, '\\.')}: arms\\.dual\\.offer\\[0\\]: unknown option '--mdoe' \\(Did you mean --mode\\?\\)$`));

    const badTrace = specFile(dir, { name: 't', duration_s: 5, arms: { a: {} }, traces: ['no-such-trace'] });
    r = await runCli(['run', badTrace, '--dry-run']);
    assert.equal(r.code, 2);
    assertOneLine(r, /spec\.json: traces\[0\]: no bundled trace 'no-such-trace' \(bundled: .*4g-1/);

    r = await runCli(['run', SMOKE, '--cell', '4', '--dry-run']);
    assert.equal(r.code, 2);
    assertOneLine(r, /^testbed: --cell 4: .*smoke\.json has 4 cells \(0–3; --dry-run lists them\)$/);

    r = await runCli(['run', SMOKE, '--dry-run', '--summarize']);
    assert.equal(r.code, 2);
    assertOneLine(r, /^testbed: --dry-run and --summarize cannot be combined$/);

    r = await runCli(['run', SMOKE, '--export', 'pbs']);
    assert.equal(r.code, 2);
    assertOneLine(r, /argument 'pbs' is invalid\. Allowed choices are slurm/);
  });
});

describe('testbed run: modes that do not run cells', () => {
  it('--dry-run lists every cell with its seed and the exact command lines', async () => {
    const out = tempDir('run-dry');
    const r = await runCli(['run', SMOKE, '--dry-run', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const cells = expandMatrix(loadSpec(SMOKE, commanderArgChecker(buildCli)));
    assert.match(r.stdout, /^experiment smoke: 4 cells \(2 arms × 1 clip × 2 traces × 1 repetition\), 18 s each after 2 s of warm-up/);
    for (const c of cells) {
      assert.ok(r.stdout.includes(`[${c.index}] ${c.id}  arm ${c.arm.name}  clip default  trace ${c.trace.label}  rep 0  seed ${c.seed}  (absent)`), c.id);
      assert.ok(r.stdout.includes(`answer: ip netns exec '<ns-b>' ${process.execPath} ${ROOT}/bin/testbed.js answer --out ${out}/${c.id} `), c.id);
    }
    assert.match(r.stdout, /offer: +ip netns exec '<ns-a>' \S+ \S+\/bin\/testbed\.js offer --out \S+\/dual__step__r0 .*--ice-host '<addr-a>' --play-from \S+\/clips\/default-720p30\.mp4 --loop --duration 20 --mode dual\n/);
    assert.doesNotMatch(r.stdout, /--oracle-trace/, 'no oracle arm: no trace on the command lines');
    assert.equal(existsSync(join(out, 'summary.csv')), false, 'a dry run writes nothing');

    const one = await runCli(['run', SMOKE, '--dry-run', '--cell', '2', '--out', out]);
    assert.equal(one.stdout.split('\n').filter((l) => /^\[\d+\]/.test(l)).length, 1);
    assert.match(one.stdout, /^\[2\] single__4g-1__r0 /m);
  });

  it('--export slurm writes an executable job-array script with one task per cell', async () => {
    const out = tempDir('run-slurm');
    const r = await runCli(['run', SMOKE, '--export', 'slurm', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), join(out, 'slurm.sh'));
    const script = readFileSync(join(out, 'slurm.sh'), 'utf8');
    assert.match(script, /^#SBATCH --array=0-3$/m);
    assert.ok(script.includes(`exec "$NODE" ${ROOT}/bin/testbed.js run ${SMOKE} --out ${out} --cell "$SLURM_ARRAY_TASK_ID"\n`));
    assert.ok(statSync(join(out, 'slurm.sh')).mode & 0o100, 'executable');
    assert.ok(statSync(join(out, 'slurm')).isDirectory(), 'the log directory sbatch --output needs');
  });

  it('--summarize writes summary.csv from whatever cells are there (none yet: the header)', async () => {
    const out = tempDir('run-summarize');
    const r = await runCli(['run', SMOKE, '--summarize', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${join(out, 'summary.csv')} (0 of 4 cells)`);
    assert.equal(readFileSync(join(out, 'summary.csv'), 'utf8'), CELL_SUMMARY_COLUMNS.join(',') + '\n');
  });
});
