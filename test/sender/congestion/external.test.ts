import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalRate } from '../../../src/sender/congestion/external';

/** A policy in another process: echoes what it got to stderr-free stdout as decisions. */
const POLICY = `
const rl = require('readline').createInterface({ input: process.stdin });
let n = 0;
rl.on('line', (l) => {
  const m = JSON.parse(l);
  if (m.type === 'hello') { console.log('not json'); console.log(JSON.stringify({ target_bps: m.start_bps * 2 })); return; }
  n++;
  // Decide from the observation: halve on overuse, else 1.5 Mbit/s; far above max to test the clamp on the 3rd.
  console.log(JSON.stringify({ target_bps: n === 3 ? 1e12 : m.detector === 'overusing' ? m.target_bps / 2 : 1_500_000 }));
});`;

test('external controller: hello, observations every interval, the child\'s targets clamped and applied', async () => {
  let exited = '';
  const policy = join(mkdtempSync(join(tmpdir(), 'testbed-policy-')), 'policy.js');
  writeFileSync(policy, POLICY);
  const ext = new ExternalRate({
    command: `'${process.execPath}' '${policy}'`,
    startBps: 500_000,
    minBps: 100_000,
    maxBps: 3_000_000,
    intervalMs: 100,
    onExit: (why) => (exited = why),
  });
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    // The first estimate sends observation 1; the start rate holds until an answer comes.
    assert.equal(ext.estimate(0).targetBps, 500_000);
    await until(() => ext.answers >= 2);
    assert.equal(ext.answers, 2, 'answers to hello (2 × start) and to observation 1 (1.5 Mbit/s)');
    assert.equal(ext.estimate(50).targetBps, 1_500_000, 'the latest answer wins; no observation within the interval');
    assert.equal(ext.badLines, 1, 'a line that is not JSON is counted and ignored');
    ext.estimate(100); // observation 2 → 1.5 Mbit/s
    ext.estimate(200); // observation 3 → 1e12, clamped to max
    await until(() => ext.answers >= 4);
    assert.equal(ext.estimate(250).targetBps, 3_000_000, 'clamped to max');
    assert.equal(ext.estimate(260).detector, 'normal');
  } finally {
    ext.close();
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(exited, '', 'close() is not reported as the child failing');
});

test('external controller: a command that cannot run is reported once', async () => {
  const whys: string[] = [];
  const ext = new ExternalRate({ command: 'exit 3', startBps: 1, minBps: 1, maxBps: 2, intervalMs: 100, onExit: (w) => whys.push(w) });
  for (let i = 0; i < 100 && whys.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(whys.length, 1);
  assert.match(whys[0], /exited \(code 3\)/);
  ext.close();
});
