/**
 * The link monitor: parsing tc's JSON counters, the row arithmetic, the sampling
 * schedule on simulated time, and reading a real link's counters with persistent tc
 * processes (exact byte counts of known pings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readCsv } from '../../src/metrics/csv';
import { LINK_COLUMNS, type LinkRow } from '../../src/metrics/rows';
import { CountersError, LinkMonitor, TcCounterSource, linkCapacity, linkRow, monitorLinkToCsv, shaperCounters, type CounterSource, type MonitorDir, type QdiscCounters } from '../../src/emulation/link-monitor';
import { ShapedLink, detectShaping } from '../../src/emulation/netns';
import { rng } from '../helpers/random';
import { removeTempDirs, tempDir } from '../helpers/cli';
import { SimTime } from './sim-time';

// `tc -s -j qdisc show` output captured on this project's machine (iproute2 6.1).
const TBF = '[{"kind":"tbf","handle":"1:","root":true,"refcnt":3,"options":{"rate":250000,"burst":3000,"lat":88000},"bytes":485088,"packets":396,"drops":148,"overlimits":1320,"requeues":0,"backlog":24560,"qlen":20}]';
const HTB = '[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":1,"default":"0x1","direct_packets_stat":0,"direct_qlen":1000},"bytes":1735164,"packets":1413,"drops":974,"overlimits":1408,"requeues":0,"backlog":24560,"qlen":20},{"kind":"bfifo","handle":"10:","parent":"1:1","options":{"limit":25000},"bytes":1735164,"packets":1413,"drops":974,"overlimits":0,"requeues":0,"backlog":24560,"qlen":20}]';
const HTB_OUTAGE = '[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":1,"default":"0x1","direct_packets_stat":0,"direct_qlen":1000},"bytes":1735164,"packets":1413,"drops":1301,"overlimits":1408,"requeues":0,"backlog":0,"qlen":0},{"kind":"blackhole","handle":"11:","parent":"1:1","options":{},"bytes":0,"packets":0,"drops":307,"overlimits":0,"requeues":0,"backlog":0,"qlen":0}]';
// Hand-written in the same format (no netem on this machine): netem root, tbf under it.
const NETEM_TBF = '[{"kind":"netem","handle":"1:","root":true,"refcnt":3,"options":{"limit":100000,"delay":{"delay":0.02}},"bytes":90000,"packets":80,"drops":9,"overlimits":0,"requeues":0,"backlog":40000,"qlen":33},{"kind":"tbf","handle":"2:","parent":"1:1","options":{"rate":125000,"burst":3000},"bytes":88000,"packets":78,"drops":4,"overlimits":10,"requeues":0,"backlog":12000,"qlen":10}]';

test('shaperCounters picks the shaper out of tc -s -j output', () => {
  assert.deepEqual(shaperCounters(TBF), { bytes: 485088, packets: 396, drops: 148, backlog: 24560, qlen: 20 });
  assert.deepEqual(shaperCounters(HTB), { bytes: 1735164, packets: 1413, drops: 974, backlog: 24560, qlen: 20 });
  assert.equal(shaperCounters(HTB_OUTAGE).drops, 1301, 'htb counts its blackhole leaf drops');
  assert.deepEqual(shaperCounters(NETEM_TBF), { bytes: 88000, packets: 78, drops: 4, backlog: 12000, qlen: 10 }, 'the shaper under netem, not netem');
  assert.equal(shaperCounters('[{"kind":"pfifo_fast","root":true,"bytes":1,"packets":1,"drops":0,"backlog":0,"qlen":0}]').bytes, 1, 'no shaper: the root');
  for (const bad of ['', 'Cannot find device "x"', '[]', '{}', '[{"kind":"tbf","root":true,"bytes":"1"}]', '[{"kind":"bfifo","parent":"1:1"}]']) {
    assert.throws(() => shaperCounters(bad), CountersError, bad);
  }
});

test('linkRow: throughput over the actual elapsed time, drop and reset arithmetic', () => {
  const c = (bytes: number, drops: number, backlog = 0): QdiscCounters => ({ bytes, packets: 0, drops, backlog, qlen: 0 });
  const cap = { traceS: 4.2, up: 2000, down: 500 };
  // 25 000 B in 100 ms = 2000 kbit/s; in 104 ms less.
  assert.deepEqual(linkRow('up', { atMs: 1000, counters: c(10_000, 3) }, { atMs: 1100, counters: c(35_000, 7, 1228) }, cap), {
    time_ms: 1100, trace_s: 4.2, direction: 'up', capacity_kbit: 2000, throughput_kbit: 2000, backlog_bytes: 1228, drops: 4,
  } satisfies LinkRow);
  assert.ok(Math.abs(linkRow('down', { atMs: 0, counters: c(0, 0) }, { atMs: 104, counters: c(25_000, 0) }, cap).throughput_kbit - 1923.077) < 1e-3);
  assert.equal(linkRow('down', { atMs: 0, counters: c(0, 0) }, { atMs: 1, counters: c(0, 0) }, cap).capacity_kbit, 500);
  // A replaced qdisc starts from 0: count from there, never negative.
  const reset = linkRow('up', { atMs: 0, counters: c(50_000, 10) }, { atMs: 100, counters: c(1_000, 2) }, cap);
  assert.equal(reset.throughput_kbit, 80);
  assert.equal(reset.drops, 2);
  assert.throws(() => linkRow('up', { atMs: 100, counters: c(0, 0) }, { atMs: 100, counters: c(0, 0) }, cap), RangeError);
});

/** Counters of a link sending `kbit` per direction, as a function of simulated time; reads take readMs. */
class ModelLink implements CounterSource {
  readonly reads: { dir: MonitorDir; at: number }[] = [];
  failAfter = Infinity;
  constructor(
    private readonly sim: SimTime,
    private readonly kbit: Record<MonitorDir, number>,
    public readMs: number,
  ) {}
  async read(dir: MonitorDir): Promise<QdiscCounters> {
    if (this.reads.length >= this.failAfter) throw new CountersError('tc for tb-x-a ended (exit 1): Cannot find device');
    this.reads.push({ dir, at: this.sim.now() });
    const at = this.sim.now();
    await this.sim.sleep(this.readMs);
    return { bytes: (this.kbit[dir] * at) / 8, packets: 0, drops: Math.floor(at / 1000), backlog: 100, qlen: 1 };
  }
  close(): void {}
}

test('LinkMonitor samples on a drift-free 100-ms grid on simulated time', async (t) => {
  await t.test('late timers do not accumulate; throughput is exact over uneven intervals', async () => {
    const random = rng(11);
    const sim = new SimTime(0, () => random() * 7);
    const source = new ModelLink(sim, { up: 2000, down: 300 }, 0.4);
    const rows: LinkRow[] = [];
    const mon = new LinkMonitor({ source, clock: sim, timer: sim, capacityAt: (ms) => ({ traceS: (ms - 500) / 1000, up: 2000, down: 300 }), onRow: (r) => rows.push(r) });
    mon.start(500);
    await sim.runUntil(500 + 60_050);
    await mon.stop();
    const up = rows.filter((r) => r.direction === 'up');
    assert.equal(up.length, 600);
    assert.equal(rows.length, 1200);
    up.forEach((r, i) => {
      const late = r.time_ms - (500 + (i + 1) * 100);
      assert.ok(late >= 0 && late <= 7, `sample ${i + 1} ${late} ms off the grid`);
      assert.ok(Math.abs(r.throughput_kbit - 2000) < 1e-6, `${r.throughput_kbit}`);
      assert.ok(Math.abs(r.trace_s - (r.time_ms - 500) / 1000) < 1e-9);
    });
    assert.ok(rows.filter((r) => r.direction === 'down').every((r) => Math.abs(r.throughput_kbit - 300) < 1e-6));
    assert.equal(up.reduce((s, r) => s + r.drops, 0), 60, 'drops add up to the counter');
    assert.deepEqual(mon.stats, { ticks: 601, missed: 0, rows: 1200 });
  });

  await t.test('a slow read skips the ticks it overran and keeps the grid', async () => {
    const sim = new SimTime();
    const source = new ModelLink(sim, { up: 1000, down: 1000 }, 250);
    const rows: LinkRow[] = [];
    const mon = new LinkMonitor({ source, clock: sim, timer: sim, capacityAt: () => ({ traceS: 0, up: 1000, down: 1000 }), onRow: (r) => rows.push(r) });
    mon.start(0);
    await sim.runUntil(1000);
    const stopping = mon.stop(); // waits for the read that started at 900
    await sim.runUntil(2000);
    await stopping;
    // each read takes 250 ms: after the one at 0, 100 and 200 are passed over, and so on
    assert.deepEqual([...new Set(source.reads.map((r) => r.at))], [0, 300, 600, 900]);
    assert.equal(mon.stats.missed, 8, 'two ticks passed over after each of the four reads');
    assert.ok(rows.every((r) => Math.abs(r.throughput_kbit - 1000) < 1e-6));
  });

  await t.test('a failing source stops sampling and is reported once', async () => {
    const sim = new SimTime();
    const source = new ModelLink(sim, { up: 1000, down: 1000 }, 1);
    source.failAfter = 6;
    const errors: Error[] = [];
    const rows: LinkRow[] = [];
    const mon = new LinkMonitor({ source, clock: sim, timer: sim, capacityAt: () => ({ traceS: 0, up: 1, down: 1 }), onRow: (r) => rows.push(r), onError: (e) => errors.push(e) });
    mon.start(0);
    await sim.runUntil(2000);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /Cannot find device/);
    assert.equal(rows.length, 4, 'two rows per direction before the failure');
    await mon.stop();
  });

  await t.test('rejects a bad interval', () => {
    const sim = new SimTime();
    assert.throws(() => new LinkMonitor({ source: new ModelLink(sim, { up: 1, down: 1 }, 0), clock: sim, timer: sim, capacityAt: () => ({ traceS: 0, up: 1, down: 1 }), onRow: () => {}, intervalMs: 0 }), RangeError);
  });
});

const support = detectShaping();
const ECHO_PORT = 5203;
const ECHO = `const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(${ECHO_PORT}, process.argv[1], () => console.log('ready'));`;
const CLIENT = `const s = require('node:dgram').createSocket('udp4');
let n = 0;
s.on('message', () => { if (++n === 3) process.exit(0); });
for (let i = 0; i < 3; i++) s.send(Buffer.alloc(1000), ${ECHO_PORT}, process.argv[1]);
setTimeout(() => { console.error('echoes received: ' + n); process.exit(1); }, 3000);`;

test('TcCounterSource reads a real link: exact IP bytes of known pings, both directions', { timeout: 30_000 }, async (t) => {
  if (!support.available) {
    t.skip(support.reason);
    return;
  }
  const link = await ShapedLink.up({ rateKbit: 5000, qdisc: 'htb' });
  const dir = tempDir('link-monitor');
  try {
    const source = new TcCounterSource(link);
    const before = { up: await source.read('up'), down: await source.read('down') };
    // Three 1000-byte datagrams a → b, each echoed b → a: 3 × (1000 + 8 UDP + 20 IP) each way.
    const echo = link.spawnIn('b', process.execPath, ['-e', ECHO, link.addrB], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => echo.stdout!.once('data', r));
    const client = spawnSync('ip', ['netns', 'exec', link.nsA, process.execPath, '-e', CLIENT, link.addrB], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(client.status, 0, client.stderr);
    echo.kill();
    const after = { up: await source.read('up'), down: await source.read('down') };
    // No ARP (permanent neighbours), no IPv6: nothing else crosses the link.
    for (const d of ['up', 'down'] as const) {
      assert.equal(after[d].bytes - before[d].bytes, 3 * 1028, `${d} bytes`);
      assert.equal(after[d].packets - before[d].packets, 3, `${d} packets`);
    }
    source.close();

    const path = join(dir, 'link.csv');
    const t0 = performance.now();
    const mon = monitorLinkToCsv(link, path, { capacityAt: linkCapacity(link, t0), clock: { now: () => performance.now() } });
    await new Promise((r) => setTimeout(r, 450));
    await mon.close();
    const rows = readCsv(path);
    assert.deepEqual(Object.keys(rows[0]), [...LINK_COLUMNS]);
    assert.ok(rows.length >= 6, `${rows.length} rows in 450 ms`);
    assert.deepEqual(new Set(rows.map((r) => r.direction)), new Set(['up', 'down']));
    assert.ok(rows.every((r) => r.capacity_kbit === '5000' && r.throughput_kbit === '0' && r.drops === '0'));
  } finally {
    await link.down();
    removeTempDirs();
  }
});
