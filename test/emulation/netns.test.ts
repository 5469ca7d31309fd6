/**
 * The shaped namespace link: measured throughput of a saturating UDP flow per 1-s bin
 * (IP bytes) at 2000 then 1000 kbit/s, and clean-up in every way a run can end.
 * Skipped, with the reason, where namespaces or tbf are unavailable (not root, ...).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ShapedLink, detectShaping, linkScript, listNamespaces } from '../../src/emulation/netns';

const support = detectShaping();
const MODULE = resolve(__dirname, '..', '..', 'src', 'emulation', 'netns.js');
const PORT = 5201;
const PAYLOAD = 1200; // + 28 bytes of IPv4 and UDP headers on the wire
const OWN_PREFIX = `tb-${process.pid.toString(36)}-`;

/** Counts IP bytes (payload + 28) per 1-s bin from the first packet; one JSON line per completed bin. */
const RECEIVER = `
const dgram = require('node:dgram');
const host = process.argv[1], port = Number(process.argv[2]);
const s = dgram.createSocket('udp4');
let t0 = null, bin = 0, bytes = 0, pkts = 0;
const emit = () => process.stdout.write(JSON.stringify({ bin, startNs: String(t0 + BigInt(bin) * 1000000000n), bytes, pkts }) + '\\n');
s.on('message', (m) => {
  const t = process.hrtime.bigint();
  if (t0 === null) t0 = t;
  const k = Math.floor(Number(t - t0) / 1e9);
  while (k > bin) { emit(); bin++; bytes = 0; pkts = 0; }
  bytes += m.length + 28; pkts++;
});
s.bind(port, host, () => process.stdout.write(JSON.stringify({ ready: true }) + '\\n'));
`;

/** Sends PAYLOAD-byte datagrams at a fixed IP rate (kbit/s), well above the link's. */
const SENDER = `
const dgram = require('node:dgram');
const host = process.argv[1], port = Number(process.argv[2]), kbit = Number(process.argv[3]), size = Number(process.argv[4]);
const s = dgram.createSocket('udp4');
const buf = Buffer.alloc(size);
const start = process.hrtime.bigint();
let sent = 0;
setInterval(() => {
  const due = (Number(process.hrtime.bigint() - start) / 1e9) * kbit * 125;
  while (sent < due) { s.send(buf, port, host, () => {}); sent += size + 28; }
}, 2);
`;

interface Bin {
  bin: number;
  startNs: string;
  bytes: number;
  pkts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function assertGone(link: { nsA: string; nsB: string }): void {
  const left = listNamespaces();
  assert.ok(!left.includes(link.nsA) && !left.includes(link.nsB), `namespaces left: ${left.join(' ')}`);
}

const kbps = (b: Bin) => (b.bytes * 8) / 1000;

test('netns shaped link', { timeout: 60_000 }, async (t) => {
  if (!support.available) {
    t.skip(support.reason);
    return;
  }
  t.diagnostic(support.reason);

  await t.test('tbf holds 2000 then 1000 kbit/s per 1-s bin (±5 %), and down removes everything', async (t) => {
    const link = await ShapedLink.up({ rateKbit: 2000 });
    const children: ChildProcess[] = [];
    try {
      t.diagnostic(`${link.name}: ${link.nsA} ${link.addrA} <-> ${link.nsB} ${link.addrB}`);
      const receiver = link.spawnIn('b', process.execPath, ['-e', RECEIVER, link.addrB, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(receiver);
      const bins: Bin[] = [];
      let ready = false;
      createInterface({ input: receiver.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line);
        if (msg.ready) ready = true;
        else bins.push(msg as Bin);
      });
      await until('the receiver to bind', () => ready, 5_000);
      const sender = link.spawnIn('a', process.execPath, ['-e', SENDER, link.addrB, String(PORT), '5000', String(PAYLOAD)], { stdio: 'inherit' });
      children.push(sender);

      // ~4 s at 2000 kbit/s, then 1000 kbit/s for three whole bins.
      await until('4 bins at 2000 kbit/s', () => bins.length >= 4, 10_000);
      const changeStart = process.hrtime.bigint();
      await link.setRate(1000);
      const changeEnd = process.hrtime.bigint();
      const after = () => bins.filter((b) => BigInt(b.startNs) >= changeEnd);
      await until('3 bins at 1000 kbit/s', () => after().length >= 3, 10_000);

      const before = bins.filter((b) => b.bin >= 1 && BigInt(b.startNs) + 1_000_000_000n <= changeStart);
      t.diagnostic(`bins (kbit/s, IP bytes): ${bins.map((b) => `${b.bin}:${kbps(b).toFixed(1)}`).join(' ')}; rate changed during bin ${bins.find((b) => BigInt(b.startNs) + 1_000_000_000n > changeStart)?.bin}`);
      t.diagnostic(`at 2000: ${before.map((b) => kbps(b).toFixed(1)).join(', ')}; at 1000: ${after().map((b) => kbps(b).toFixed(1)).join(', ')}`);
      assert.ok(before.length >= 3, `expected 3 whole bins before the change, got ${before.length}`);
      for (const b of before) assert.ok(Math.abs(kbps(b) - 2000) <= 100, `bin ${b.bin}: ${kbps(b)} kbit/s, expected 2000 ± 5 %`);
      for (const b of after()) assert.ok(Math.abs(kbps(b) - 1000) <= 50, `bin ${b.bin}: ${kbps(b)} kbit/s, expected 1000 ± 5 %`);
      assert.deepEqual(link.rateKbit, { a2b: 1000, b2a: 1000 });
    } finally {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map(exited));
      await link.down();
    }
    assertGone(link);
    const left = listNamespaces().filter((n) => n.startsWith('tb-'));
    assert.deepEqual(left.filter((n) => n.startsWith(OWN_PREFIX)), [], 'a tb- namespace of this process remains');
    if (left.length) t.diagnostic(`tb- namespaces of other processes: ${left.join(' ')}`);
    await link.down(); // idempotent, never throws
  });

  await t.test('down cleans up after SIGKILLed children and ends processes left inside', async () => {
    const link = await ShapedLink.up({ rateKbit: 1000, queueMs: 50 });
    const recv = link.spawnIn('a', process.execPath, ['-e', RECEIVER, link.addrA, String(PORT)], { stdio: 'ignore' });
    // The shell dies below; its background sleep lives on inside namespace b.
    const sh = link.spawnIn('b', 'sh', ['-c', 'sleep 60 & sleep 60'], { stdio: 'ignore' });
    await sleep(300);
    const orphans = spawnSync('ip', ['netns', 'pids', link.nsB], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    assert.ok(orphans.length >= 2, `expected the shell and its sleeps in ${link.nsB}, got ${orphans}`);
    recv.kill('SIGKILL');
    sh.kill('SIGKILL');
    await Promise.all([exited(recv), exited(sh)]);
    await link.down();
    assertGone(link);
    for (const pid of orphans) assert.ok(!running(pid), `process ${pid} still runs after down`);
  });

  await t.test('SIGTERM to the owning process removes its link; a SIGKILLed owner is swept', async () => {
    const owner = (): { child: ChildProcess; name: Promise<string> } => {
      const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(MODULE)}).ShapedLink.up({ rateKbit: 1000 }).then((l) => { console.log(l.name); setInterval(() => {}, 1e6); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
      const name = new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r));
      return { child, name };
    };

    const a = owner();
    const nameA = await a.name;
    assert.ok(listNamespaces().includes(`${nameA}-a`));
    a.child.kill('SIGTERM');
    await exited(a.child);
    assert.equal(a.child.signalCode, 'SIGTERM', 'the owner still dies of SIGTERM');
    assertGone({ nsA: `${nameA}-a`, nsB: `${nameA}-b` });

    const b = owner();
    const nameB = await b.name;
    b.child.kill('SIGKILL');
    await exited(b.child);
    assert.ok(listNamespaces().includes(`${nameB}-a`), 'SIGKILL leaves the link behind');
    assert.ok(ShapedLink.sweepStale().includes(nameB));
    assertGone({ nsA: `${nameB}-a`, nsB: `${nameB}-b` });
  });

  await t.test('link.sh refuses to remove namespaces it did not create, and bad arguments', () => {
    const name = `tb-f${process.pid.toString(36)}`;
    spawnSync('ip', ['netns', 'add', `${name}-a`]);
    try {
      const r = spawnSync('bash', [linkScript(), 'down', name], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /^link\.sh: refusing to remove/);
      assert.ok(listNamespaces().includes(`${name}-a`));
    } finally {
      spawnSync('ip', ['netns', 'delete', `${name}-a`]);
    }
    for (const args of [['up', 'foo', '1000'], ['up', 'tb-x', '0'], ['up', 'tb-much-too-long', '1000'], ['down', 'eth0']]) {
      const r = spawnSync('bash', [linkScript(), ...args], { encoding: 'utf8' });
      assert.equal(r.status, 1, `link.sh ${args.join(' ')}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  });
});
