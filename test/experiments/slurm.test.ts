/**
 * The Slurm export: the script's directives (array range, time limit) and, run by bash
 * with a stand-in `sbatch` and node (no Slurm here), the commands it submits and runs.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { slurmScript, timeLimit } from '../../src/experiments/slurm';
import { removeTempDirs, tempDir } from '../helpers/cli';

after(removeTempDirs);

const opts = { experiment: 'exp4', root: '/opt/testbed', spec: '/opt/testbed/experiments/4 dynamic.json', out: '/scratch/results/exp4', cells: 36, cellSeconds: 650 };

function directives(script: string): Record<string, string> {
  const d: Record<string, string> = {};
  for (const m of script.matchAll(/^#SBATCH --([\w-]+)=(.*)$/gm)) d[m[1]] = m[2];
  return d;
}

describe('slurm export', () => {
  it('one array task per cell, a time limit of twice the cell estimate, logs under the results', () => {
    const s = slurmScript(opts);
    assert.ok(s.startsWith('#!/bin/bash\n'));
    assert.deepEqual(directives(s), {
      'job-name': 'testbed-exp4',
      array: '0-35',
      'cpus-per-task': '2',
      time: '00:21:40',
      output: '/scratch/results/exp4/slurm/%A_%a.log',
    });
    assert.equal(directives(slurmScript({ ...opts, cells: 1 })).array, '0-0');
    assert.throws(() => slurmScript({ ...opts, cells: 0 }));
    assert.equal(timeLimit(10), '00:10:00', 'at least 10 minutes');
    assert.equal(timeLimit(4000), '02:13:20');
    assert.doesNotThrow(() => execFileSync('bash', ['-n'], { input: s }), 'valid bash');
  });

  it('run by bash: submits the array, then a --summarize job depending on it; a task runs its cell', () => {
    const dir = tempDir('slurm');
    const log = join(dir, 'calls.log');
    // Stand-ins: sbatch logs its arguments and prints a job id; "node" logs its arguments.
    writeFileSync(join(dir, 'sbatch'), `#!/bin/bash\nprintf 'sbatch %s\\n' "$*" >> ${log}\necho 4242\n`);
    writeFileSync(join(dir, 'fake-node'), `#!/bin/bash\nprintf 'node|%s' "$1" >> ${log}; shift; for a in "$@"; do printf '|%s' "$a" >> ${log}; done; echo >> ${log}\n`);
    chmodSync(join(dir, 'sbatch'), 0o755);
    chmodSync(join(dir, 'fake-node'), 0o755);
    const script = join(dir, 'slurm.sh');
    writeFileSync(script, slurmScript({ ...opts, root: dir, out: join(dir, 'out') }));
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, NODE: join(dir, 'fake-node') };

    const printed = execFileSync('bash', [script], { env, encoding: 'utf8' });
    assert.match(printed, /submitted array job 4242 \(36 cells\)/);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(calls[0], `sbatch --parsable ${script}`);
    assert.match(calls[1], /^sbatch --dependency=afterany:4242 --job-name=testbed-exp4-summary /);
    assert.ok(
      calls[1].endsWith(`--wrap cd ${dir} && "${join(dir, 'fake-node')}" ${dir}/bin/testbed.js run '/opt/testbed/experiments/4 dynamic.json' --out ${dir}/out --summarize`),
      calls[1],
    );

    writeFileSync(log, '');
    execFileSync('bash', [script], { env: { ...env, SLURM_ARRAY_TASK_ID: '17' } });
    assert.equal(readFileSync(log, 'utf8').trim(), `node|${dir}/bin/testbed.js|run|/opt/testbed/experiments/4 dynamic.json|--out|${dir}/out|--cell|17`);
  });
});
