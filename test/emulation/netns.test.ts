/**
 * The shaped namespace link: measured throughput of a saturating UDP flow per 1-s bin
 * (IP bytes) at 2000 then 1000 kbit/s with tbf, per direction with htb and a byte
 * queue, outages with both; netem refused clearly where the kernel lacks it; feature
 * checks and their messages (also as `nobody`); clean-up in every way a run can end.
 * Link tests are skipped, with the reason, where namespaces or tbf are unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../../src/cli/session';
import { monotonicClock } from '../../src/clock';
import { ShapedLink, USERNS_PREFIX, checkRequested, describeFeatures, detectFeatures, detectShaping, linkScript, listNamespaces, type Features } from '../../src/emulation/netns';
import { SLOT_MS, UdpFlow } from './udp-flow';

const support = detectShaping();
const MODULE = resolve(__dirname, '..', '..', 'src', 'emulation', 'netns.js');

/**
 * What the `nobody` probes load, copied where `nobody` can read it: a clone in root's home
 * (mode 700) is not readable by another user, and the suite must pass from any checkout.
 * netns.js needs only errors.js and scripts/tc/link.sh (found by walking up from itself).
 */
function readableCopy(): string {
  const root = mkdtempSync(join(tmpdir(), 'testbed-nobody-'));
  const dist = resolve(__dirname, '..', '..');
  for (const rel of [join('src', 'emulation', 'netns.js'), join('src', 'errors.js')]) {
    mkdirSync(dirname(join(root, 'dist', rel)), { recursive: true });
    copyFileSync(join(dist, rel), join(root, 'dist', rel));
  }
  mkdirSync(join(root, 'scripts', 'tc'), { recursive: true });
  copyFileSync(resolve(dist, '..', 'scripts', 'tc', 'link.sh'), join(root, 'scripts', 'tc', 'link.sh'));
  spawnSync('chmod', ['-R', 'a+rX', root]);
  return join(root, 'dist', 'src', 'emulation', 'netns.js');
}
const PORT = 5201;
const OWN_PREFIX = `tb-${process.pid.toString(36)}-`;
const STATE_DIR = process.env.TB_LINK_STATE_DIR || '/run/tb-link';
const now = () => monotonicClock.now();

/** `tc -s -j qdisc show` of a namespace's veth. */
function qdiscs(ns: string): Record<string, unknown>[] {
  return JSON.parse(spawnSync('tc', ['-n', ns, '-s', '-j', 'qdisc', 'show', 'dev', ns], { encoding: 'utf8' }).stdout);
}

/** Counters of the shaper (tbf or htb) on a namespace's veth. */
function shaper(ns: string): { bytes: number; drops: number; backlog: number } {
  const q = qdiscs(ns).find((x) => x.kind === 'tbf' || x.kind === 'htb')!;
  return { bytes: q.bytes as number, drops: q.drops as number, backlog: q.backlog as number };
}

/*
 * Outage windows end one slot early: UdpFlow counts a 10-ms slot by its start, so the slot
 * that starts just before the rate comes back also holds packets that arrive after it
 * (seen: 2456 B at +1004.7 ms of a 1005-ms outage, the shaper having sent nothing).
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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


test('netns shaped link', { timeout: 60_000 }, async (t) => {
  if (!support.available) {
    t.skip(support.reason);
    return;
  }
  t.diagnostic(support.reason);

  await t.test('tbf holds 2000 then 1000 kbit/s per 1-s bin (±5 %), and down removes everything', async (t) => {
    // A deep queue (400 ms) keeps the link busy through sender stalls on a loaded machine.
    const link = await ShapedLink.up({ rateKbit: 2000, queueMs: 400 });
    let flow: UdpFlow | undefined;
    try {
      t.diagnostic(`${link.name}: ${link.nsA} ${link.addrA} <-> ${link.nsB} ${link.addrB}`);
      flow = await UdpFlow.start(link, 'a', 5000, PORT);
      const f = flow;
      // Bins of 1 s from the first second the flow has run: one warm-up second, three at
      // 2000 kbit/s, the change, then three whole seconds at 1000 kbit/s.
      const t0 = now() + 1000;
      await sleep(t0 + 3000 - now());
      const changeStart = now();
      await link.setRate(1000);
      const changeEnd = now();
      await f.flushedUntil(changeEnd + 3000);
      const before = [0, 1, 2].map((i) => f.kbit(t0 + 1000 * i, t0 + 1000 * (i + 1)));
      const after = [0, 1, 2].map((i) => f.kbit(changeEnd + 1000 * i, changeEnd + 1000 * (i + 1)));
      t.diagnostic(`at 2000: ${before.map((k) => k.toFixed(1)).join(', ')}; at 1000: ${after.map((k) => k.toFixed(1)).join(', ')} kbit/s (IP bytes); change took ${(changeEnd - changeStart).toFixed(0)} ms`);
      for (const k of before) assert.ok(Math.abs(k - 2000) <= 100, `${k} kbit/s, expected 2000 ± 5 %`);
      for (const k of after) assert.ok(Math.abs(k - 1000) <= 50, `${k} kbit/s, expected 1000 ± 5 %`);
      assert.deepEqual(link.rateKbit, { a2b: 1000, b2a: 1000 });
    } finally {
      flow?.stop();
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
    const recv = link.spawnIn('a', 'sleep', ['60'], { stdio: 'ignore' });
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

  await t.test('the owner ending by SIGINT, SIGTERM or an uncaught error removes its link; a SIGKILLed owner is swept', async () => {
    const owner = (then: string): { child: ChildProcess; name: Promise<string> } => {
      const script = `require(${JSON.stringify(MODULE)}).ShapedLink.up({ rateKbit: 1000, qdisc: 'htb' }).then((l) => { console.log(l.name); ${then} })`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      const name = new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r));
      return { child, name };
    };
    const gone = (name: string): void => {
      assertGone({ nsA: `${name}-a`, nsB: `${name}-b` });
      assert.ok(!existsSync(join(STATE_DIR, name)), `state file of ${name} left`);
    };
    const wait = 'setInterval(() => {}, 1e6);';

    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const o = owner(wait);
      const name = await o.name;
      assert.ok(listNamespaces().includes(`${name}-a`));
      assert.ok(existsSync(join(STATE_DIR, name)));
      o.child.kill(sig);
      await exited(o.child);
      assert.equal(o.child.signalCode, sig, `the owner still dies of ${sig}`);
      gone(name);
    }

    const e = owner(`setTimeout(() => { throw new Error('boom'); }, 50);`);
    const nameE = await e.name;
    await exited(e.child);
    assert.equal(e.child.exitCode, 1, 'uncaught error: exit 1');
    gone(nameE);

    const k = owner(wait);
    const nameK = await k.name;
    k.child.kill('SIGKILL');
    await exited(k.child);
    assert.ok(listNamespaces().includes(`${nameK}-a`), 'SIGKILL leaves the link behind');
    assert.ok(ShapedLink.sweepStale().includes(nameK));
    gone(nameK);
  });

  await t.test('htb: per-direction rates and a byte-limited queue; an outage passes nothing, and the rate comes back at once', async (t) => {
    const link = await ShapedLink.up({ rateKbit: 2000, b2a: { kbit: 800 }, qdisc: 'htb', queueBytes: 60_000 });
    const flows: UdpFlow[] = [];
    try {
      const leaf = (ns: string) => qdiscs(ns).find((q) => q.parent === '1:1')!;
      assert.equal(leaf(link.nsA).kind, 'bfifo');
      assert.equal((leaf(link.nsA).options as { limit: number }).limit, 60_000);
      assert.equal((leaf(link.nsB).options as { limit: number }).limit, 60_000, 'queue in bytes: the same at 800 kbit/s');
      const fwd = await UdpFlow.start(link, 'a', 3000, PORT + 10);
      flows.push(fwd);
      const rev = await UdpFlow.start(link, 'b', 1500, PORT + 11);
      flows.push(rev);
      await sleep(500);
      const m0 = now();
      await sleep(2000);
      const m1 = now();
      const outStart = now();
      await link.setState({ a2b: { kbit: 0 } });
      const o0 = now();
      const before = shaper(link.nsA);
      await sleep(1000);
      const o1 = now();
      const during = shaper(link.nsA);
      await link.setRate(1200, 'a2b');
      const r0 = now();
      await sleep(1000);
      const r1 = now();
      await fwd.flushedUntil(r1);
      t.diagnostic(`a2b ${fwd.kbit(m0, m1).toFixed(1)} kbit/s (2000), b2a ${rev.kbit(m0, m1).toFixed(1)} kbit/s (800) over ${((m1 - m0) / 1000).toFixed(2)} s`);
      t.diagnostic(`outage: set took ${(o0 - outStart).toFixed(1)} ms; a2b ${fwd.bytes(o0, o1 - SLOT_MS)} B in ${(o1 - o0).toFixed(0)} ms, shaper sent ${during.bytes - before.bytes} B, dropped ${during.drops - before.drops}; b2a ${rev.kbit(o0, o1).toFixed(1)} kbit/s meanwhile`);
      t.diagnostic(`after the outage: a2b ${fwd.kbit(r0, r1).toFixed(1)} kbit/s (1200) over the first second`);
      assert.ok(Math.abs(fwd.kbit(m0, m1) / 2000 - 1) <= 0.05);
      assert.ok(Math.abs(rev.kbit(m0, m1) / 800 - 1) <= 0.05);
      assert.equal(fwd.bytes(o0, o1 - SLOT_MS), 0, 'nothing passes an outage');
      assert.equal(during.bytes, before.bytes);
      assert.ok(during.drops - before.drops > 200, 'arrivals are dropped');
      assert.ok(Math.abs(rev.kbit(o0, o1) / 800 - 1) <= 0.05, 'the other direction is unaffected');
      assert.ok(Math.abs(fwd.kbit(r0, r1) / 1200 - 1) <= 0.05, 'no token debt after the outage');
      assert.deepEqual(link.rateKbit, { a2b: 1200, b2a: 800 });
    } finally {
      for (const f of flows) f.stop();
      await link.down();
    }
  });

  await t.test('tbf outage: nothing passes, the queued packets wait and leave when the rate comes back', async (t) => {
    const link = await ShapedLink.up({ rateKbit: 2000, queueMs: 400 });
    let flow: UdpFlow | undefined;
    try {
      flow = await UdpFlow.start(link, 'a', 3000, PORT + 12);
      await sleep(500);
      await link.setRate(0, 'a2b');
      const o0 = now();
      const before = shaper(link.nsA);
      await sleep(1000);
      const during = shaper(link.nsA);
      const o1 = now();
      await link.setRate(2000, 'a2b');
      const r0 = now();
      await sleep(1000);
      const r1 = now();
      await flow.flushedUntil(r1);
      t.diagnostic(`outage: ${flow.bytes(o0, o1 - SLOT_MS)} B received in ${(o1 - o0).toFixed(0)} ms; backlog held ${before.backlog} → ${during.backlog} B; ${during.drops - before.drops} arrivals dropped; then ${flow.kbit(r0, r1).toFixed(1)} kbit/s`);
      assert.equal(flow.bytes(o0, o1 - SLOT_MS), 0, 'nothing passes an outage');
      assert.equal(during.bytes, before.bytes);
      assert.ok(during.backlog > 20_000 && during.backlog === before.backlog, 'the queue is held, not flushed');
      assert.ok(during.drops - before.drops > 200);
      assert.ok(Math.abs(flow.kbit(r0, r1) / 2000 - 1) <= 0.05);
    } finally {
      flow?.stop();
      await link.down();
    }
  });

  await t.test('netem: by the book where the kernel has it, refused clearly where it does not', async (t) => {
    const plan = spawnSync('bash', [linkScript(), 'plan', 'tb-x', '--rate', '2000', '--delay-ms', '20', '--b2a-loss-pct', '1.5', '--qdisc', 'htb'], { encoding: 'utf8' });
    assert.equal(plan.status, 0, plan.stderr);
    const lines = plan.stdout.split('\n').filter((l) => l.startsWith('tc '));
    assert.deepEqual(lines, [
      'tc -n tb-x-a qdisc add dev tb-x-a root handle 1: stab overhead -14 netem limit 100000 delay 20ms loss 0%',
      'tc -n tb-x-a qdisc add dev tb-x-a parent 1:1 handle 2: htb default 1',
      'tc -n tb-x-a class add dev tb-x-a parent 2: classid 2:1 htb rate 2000kbit ceil 2000kbit burst 3000 cburst 3000 quantum 1500',
      'tc -n tb-x-a qdisc replace dev tb-x-a parent 2:1 handle 20: bfifo limit 25000',
      'tc -n tb-x-b qdisc add dev tb-x-b root handle 1: stab overhead -14 netem limit 100000 delay 20ms loss 1.5%',
      'tc -n tb-x-b qdisc add dev tb-x-b parent 1:1 handle 2: htb default 1',
      'tc -n tb-x-b class add dev tb-x-b parent 2: classid 2:1 htb rate 2000kbit ceil 2000kbit burst 3000 cburst 3000 quantum 1500',
      'tc -n tb-x-b qdisc replace dev tb-x-b parent 2:1 handle 20: bfifo limit 25000',
    ]);
    const features = detectFeatures();
    if (features.netem) {
      const link = await ShapedLink.up({ rateKbit: 1000, delayMs: 20, lossPct: 1 });
      try {
        assert.deepEqual(qdiscs(link.nsA).map((q) => q.kind), ['netem', 'tbf']);
        await link.setState({ a2b: { kbit: 1000, delayMs: 40 } });
        assert.deepEqual(link.state.a2b, { kbit: 1000, delayMs: 40, lossPct: 0 });
      } finally {
        await link.down();
      }
      return;
    }
    t.diagnostic(`no netem here: ${features.missing.netem}`);
    const mine = () => listNamespaces().filter((n) => n.startsWith(OWN_PREFIX));
    const left = mine();
    await assert.rejects(ShapedLink.up({ rateKbit: 1000, delayMs: 20 }), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /^cannot emulate delay: netem is not available in this kernel \(.*\); --allow-missing runs without it$/);
      return true;
    });
    // Past the check, as on a kernel that claims netem: link.sh refuses and removes what it made.
    await assert.rejects(ShapedLink.up({ rateKbit: 1000, lossPct: 1 }, { ...features, netem: true }), /^Error: link\.sh: netem is not available in this kernel \(.*\): cannot emulate delay or random loss/);
    assert.deepEqual(mine(), left, 'a failed up leaves no namespace');
    const r = spawnSync('bash', [linkScript(), 'up', `tb-n${process.pid.toString(36)}`, '--rate', '1000', '--delay-ms', '10'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^link\.sh: netem is not available in this kernel .*\n$/);
    // A link without netem refuses delay and loss changes.
    const link = await ShapedLink.up({ rateKbit: 1000 });
    try {
      await assert.rejects(link.setState({ b2a: { kbit: 1000, lossPct: 2 } }), /has no netem: cannot set b2a delay 0 ms \/ loss 2 %/);
      const set = spawnSync('bash', [linkScript(), 'set', link.name, '--delay-ms', '5'], { encoding: 'utf8' });
      assert.match(set.stderr, /^link\.sh: link .* was brought up without netem/);
    } finally {
      await link.down();
    }
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
    for (const args of [
      ['up', 'foo', '1000'], ['up', 'tb-x', 'abc'], ['up', 'tb-much-too-long', '1000'], ['down', 'eth0'],
      ['up', 'tb-x', '--rate', '-5'], ['up', 'tb-x', '--rate', '100', '--qdisc', 'cbq'], ['up', 'tb-x', '--rate', '100', '--loss-pct', '101'],
      ['up', 'tb-x', '--rate', '100', '--queue-ms', '10', '--queue-bytes', '3000'], ['up', 'tb-x', '--delay-ms', '5'],
      ['set', 'tb-x', '--queue-ms', '5'], ['plan', 'tb-x', '--rate', '1000', '--queue-bytes', '100'],
    ]) {
      const r = spawnSync('bash', [linkScript(), ...args], { encoding: 'utf8' });
      assert.equal(r.status, 1, `link.sh ${args.join(' ')}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  });
});

const FULL: Features = { root: true, namespaces: true, veth: true, tbf: true, htb: true, netem: true, userns: true, probedInUserns: false, missing: {} };

test('checkRequested: what cannot be emulated, in one line each', () => {
  assert.deepEqual(checkRequested({ qdisc: 'tbf', delay: true, loss: true }, FULL, false), []);
  const noNetem: Features = { ...FULL, netem: false, missing: { netem: 'Error: Specified qdisc kind is unknown.' } };
  assert.deepEqual(checkRequested({ qdisc: 'tbf' }, noNetem, false), []);
  assert.throws(() => checkRequested({ qdisc: 'htb', loss: true }, noNetem, false), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, 'cannot emulate loss: netem is not available in this kernel (Error: Specified qdisc kind is unknown.); --allow-missing runs without it');
    return true;
  });
  assert.throws(() => checkRequested({ qdisc: 'tbf', delay: true, loss: true }, noNetem, false), { message: /^cannot emulate delay and loss: .* --allow-missing runs without them$/ });
  assert.deepEqual(checkRequested({ qdisc: 'tbf', delay: true, loss: true }, noNetem, true), ['delay', 'loss']);
  // Capacity shaping cannot be skipped, with or without --allow-missing.
  const noHtb: Features = { ...FULL, htb: false, missing: { htb: 'Error: Specified qdisc kind is unknown.' } };
  assert.throws(() => checkRequested({ qdisc: 'htb' }, noHtb, true), { message: /^network emulation unavailable: qdisc htb missing \(Error: Specified qdisc kind is unknown\.\); use --qdisc tbf$/ });
  assert.throws(() => checkRequested({ qdisc: 'tbf' }, { ...FULL, veth: false, missing: { veth: 'no veth driver' } }, true), { message: /^network emulation unavailable: no veth \(no veth driver\)$/ });
  const user: Features = { ...FULL, root: false, probedInUserns: true, missing: { root: 'not root (uid 1000)' } };
  assert.throws(() => checkRequested({ qdisc: 'tbf' }, user, true, ['/usr/bin/node', 'bin/testbed.js', 'offer', '--out', 'my dir']), (e: Error) => {
    assert.equal(
      e.message,
      `network emulation needs root (CAP_NET_ADMIN): run it as root (sudo /usr/bin/node bin/testbed.js offer --out 'my dir') or, without root, inside a user namespace: unshare --user --map-root-user --net --mount --propagation private sh -c 'mount -t tmpfs tmpfs /run && exec "$@"' sh /usr/bin/node bin/testbed.js offer --out 'my dir'`,
    );
    return true;
  });
  assert.throws(() => checkRequested({ qdisc: 'tbf' }, { ...user, userns: false, missing: { userns: 'unshare: Operation not permitted' } }, true, ['node', 'x.js']), { message: /^network emulation needs root \(CAP_NET_ADMIN\): run it as root: sudo node x\.js \(no unprivileged user namespace here: unshare: Operation not permitted\)$/ });
});

test('without root: the probe runs in a user namespace, and the message gives commands that work', { timeout: 30_000 }, async (t) => {
  const f = detectFeatures();
  t.diagnostic(describeFeatures(f));
  const setpriv = spawnSync('setpriv', ['--version']);
  if (process.getuid?.() !== 0 || setpriv.status !== 0) {
    t.skip(process.getuid?.() !== 0 ? 'not root: cannot switch to nobody (this process is the non-root case: see the diagnostic)' : 'no setpriv');
    return;
  }
  const asNobody = (args: string[]) => spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...args], { encoding: 'utf8', cwd: '/', timeout: 20_000 });
  const module = readableCopy();
  const probe = `const n = require(${JSON.stringify(module)});
const f = n.detectFeatures();
let message = null;
try { n.checkRequested({ qdisc: 'tbf' }, f, true, ['node', 'bin/testbed.js', 'offer']); } catch (e) { message = e.message; }
n.ShapedLink.up({ rateKbit: 1000 }).then(() => 'up', (e) => e.constructor.name + ': ' + e.message).then((up) => console.log(JSON.stringify({ f, message, up })));`;
  const r = asNobody([process.execPath, '-e', probe]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { f: Features; message: string; up: string };
  t.diagnostic(`as nobody: ${describeFeatures(out.f)}`);
  t.diagnostic(`as nobody: ${out.message}`);
  assert.equal(out.f.root, false);
  assert.match(out.f.missing.root!, /^not root \(uid 65534\)/);
  if (out.f.userns) {
    assert.equal(out.f.probedInUserns, true);
    assert.deepEqual([out.f.namespaces, out.f.veth, out.f.tbf, out.f.htb, out.f.netem], [f.namespaces, f.veth, f.tbf, f.htb, f.netem], 'the user namespace offers what root has');
    assert.match(out.message, /^network emulation needs root \(CAP_NET_ADMIN\): run it as root \(sudo node bin\/testbed\.js offer\) or, without root, inside a user namespace: unshare --user --map-root-user --net --mount --propagation private sh -c 'mount -t tmpfs tmpfs \/run && exec "\$@"' sh node bin\/testbed\.js offer$/);
  } else {
    assert.match(out.message, /^network emulation needs root \(CAP_NET_ADMIN\): run it as root: sudo node bin\/testbed\.js offer \(no unprivileged user namespace here: /);
  }
  // ShapedLink.up refuses with the same line (naming this process's own command: node -e).
  assert.equal(out.up, `UsageError: ${out.message.replace(/node bin\/testbed\.js offer/g, process.execPath)}`);
  if (!out.f.userns) return;

  // The suggested user-namespace command works: a link up, shaped, changed and down, as nobody.
  const script = `const n = require(${JSON.stringify(module)});
n.ShapedLink.up({ rateKbit: 1000, qdisc: 'htb' }).then(async (l) => {
  await l.setRate(0, 'a2b'); await l.setRate(2500);
  const names = n.listNamespaces(); await l.down();
  console.log(JSON.stringify({ names, rate: l.rateKbit, after: n.listNamespaces() }));
});`;
  const u = asNobody([...USERNS_PREFIX, process.execPath, '-e', script]);
  assert.equal(u.status, 0, u.stderr);
  const res = JSON.parse(u.stdout);
  assert.equal(res.names.length, 2);
  assert.deepEqual(res.rate, { a2b: 2500, b2a: 2500 });
  assert.deepEqual(res.after, []);
});
