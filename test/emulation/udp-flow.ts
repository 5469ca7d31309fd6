/**
 * A saturating UDP flow across a ShapedLink for measurements: a sender at a fixed IP
 * rate in one namespace, a receiver in the other counting IP bytes (payload + 28) per
 * 10-ms slot of CLOCK_MONOTONIC — the clock of monotonicClock — so the test can sum
 * any window it likes (1-s bins, an outage) on the same timeline as the link changes.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { monotonicClock } from '../../src/clock';
import type { ShapedLink, Side } from '../../src/emulation/netns';

export const SLOT_MS = 10;
const PAYLOAD = 1200;

const RECEIVER = `
const dgram = require('node:dgram');
const s = dgram.createSocket('udp4');
const slots = new Map();
s.on('message', (m) => {
  const slot = Number(process.hrtime.bigint() / ${SLOT_MS * 1_000_000}n);
  slots.set(slot, (slots.get(slot) || 0) + m.length + 28);
});
setInterval(() => {
  const cur = Number(process.hrtime.bigint() / ${SLOT_MS * 1_000_000}n);
  const out = [];
  for (const [k, v] of slots) if (k < cur) { out.push([k, v]); slots.delete(k); }
  if (out.length) process.stdout.write(JSON.stringify(out) + '\\n');
}, 100);
s.bind(Number(process.argv[2]), process.argv[1], () => process.stdout.write('[]\\n'));
`;

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class UdpFlow {
  /** IP bytes received per 10-ms slot (slot = floor(monotonic ms / 10)). */
  readonly slots = new Map<number, number>();
  private readonly children: ChildProcess[] = [];

  private constructor() {}

  /** Starts a receiver on the far side, then a sender at `kbit` on `from`. */
  static async start(link: ShapedLink, from: Side, kbit: number, port: number): Promise<UdpFlow> {
    const flow = new UdpFlow();
    const to: Side = from === 'a' ? 'b' : 'a';
    const receiver = link.spawnIn(to, process.execPath, ['-e', RECEIVER, link.addr(to), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    flow.children.push(receiver);
    let ready = false;
    createInterface({ input: receiver.stdout! }).on('line', (line) => {
      ready = true;
      for (const [k, v] of JSON.parse(line) as [number, number][]) flow.slots.set(k, (flow.slots.get(k) ?? 0) + v);
    });
    for (let i = 0; !ready; i++) {
      if (i > 250) throw new Error('udp flow: the receiver did not start');
      await sleep(20);
    }
    flow.children.push(link.spawnIn(from, process.execPath, ['-e', SENDER, link.addr(to), String(port), String(kbit), String(PAYLOAD)], { stdio: 'inherit' }));
    return flow;
  }

  /** Waits until the receiver has reported every slot before `ms` (it flushes every 100 ms). */
  async flushedUntil(ms: number): Promise<void> {
    while (monotonicClock.now() < ms + 250) await sleep(50);
  }

  /** IP bytes received in [fromMs, toMs) (slot resolution: 10 ms). */
  bytes(fromMs: number, toMs: number): number {
    let sum = 0;
    for (const [slot, b] of this.slots) if (slot * SLOT_MS >= fromMs && slot * SLOT_MS < toMs) sum += b;
    return sum;
  }

  /** kbit/s received in [fromMs, toMs). */
  kbit(fromMs: number, toMs: number): number {
    return (this.bytes(fromMs, toMs) * 8) / (toMs - fromMs);
  }

  stop(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}
