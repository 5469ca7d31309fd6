/**
 * The bundled traces: every file is produced by a command in traces/README.md, and running
 * that command again (through the real CLI) reproduces it byte for byte.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listBundled, loadTrace, resolveTrace } from '../../../src/emulation/traces/files';
import { ROOT, removeTempDirs, runCli, tempDir } from '../../helpers/cli';

after(removeTempDirs);

function readmeCommands(): { name: string; args: string[] }[] {
  const readme = readFileSync(join(ROOT, 'traces', 'README.md'), 'utf8');
  return readme
    .split('\n')
    .filter((l) => l.startsWith('testbed traces generate '))
    .map((l) => {
      const args = l.trim().split(/\s+/).slice(1);
      const out = args[args.indexOf('--out') + 1];
      return { name: out.replace(/^traces\//, '').replace(/\.trace$/, ''), args };
    });
}

test('the bundled set: three model traces per family, fixed and step traces, every one documented', () => {
  const names = listBundled();
  for (const f of ['wifi', '4g', '5g']) assert.ok(names.filter((n) => n.startsWith(`${f}-`)).length >= 3, f);
  for (const n of ['fixed-0.5', 'fixed-1.0', 'fixed-2.0', 'fixed-3.0', 'step-2.5-1.0-2.5']) assert.ok(names.includes(n), n);
  assert.deepEqual(readmeCommands().map((c) => c.name).sort(), names, 'one README command per bundled file');
  for (const n of names) {
    const t = loadTrace(n);
    assert.equal(t.name, n);
    if (['wifi', '4g', '5g'].includes(t.family)) {
      assert.equal(t.durationS, 300);
      assert.equal(t.loop, true);
    }
  }
  // The congestion-control benchmark's trace, as bench/cc.ts reads it.
  const step = loadTrace('step-2.5-1.0-2.5');
  assert.deepEqual(
    step.samples.map((s) => [s.timeS, s.up.kbit, s.down.kbit]),
    [[0, 2500, 2500], [20, 1000, 1000], [40, 2500, 2500]],
  );
  assert.equal(step.durationS, 60);
  assert.equal(step.loop, false);
  assert.equal(resolveTrace('4g-1'), join(ROOT, 'traces', '4g-1.trace'));
});

test('regenerating every bundled trace with its README command reproduces it byte for byte', async () => {
  const dir = tempDir('traces-regen');
  for (const { name, args } of readmeCommands()) {
    const out = join(dir, `${name}.trace`);
    const a = [...args];
    a[a.indexOf('--out') + 1] = out;
    const r = await runCli(a);
    assert.equal(r.code, 0, `${a.join(' ')}: ${r.stderr}`);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(ROOT, 'traces', `${name}.trace`), 'utf8'), `${name} differs`);
  }
});
