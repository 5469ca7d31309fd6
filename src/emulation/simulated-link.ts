/**
 * A link in memory on simulated time: the second `PacketTransport`, beside werift over a
 * tc-shaped veth pair. Each direction is a drop-tail FIFO served at a capacity (fixed, or
 * a `.trace` replayed as the tc harness replays it: the same canonical format, `up` is the
 * offer → answer direction), then a propagation delay. On top, for experiments the kernel
 * here cannot emulate (no netem): a loss pattern and reordering, both deterministic.
 *
 * The model is tbf's: a packet leaves when the bytes before it have been served at the
 * capacity in force; the queue limit, in ms of the current capacity or in bytes, drops
 * arriving packets that do not fit (tail drop). During an outage (capacity 0) nothing is
 * served and the queue waits for the capacity to come back. Sizes count IP bytes (the
 * RTP packet plus the transport's overhead), as the traces' capacities do.
 */
import type { PacketHandler, PacketTransport } from '../transport/packet-transport';
import type { SimTime } from '../sim/sim-time';
import { stateAt } from './traces/lookup';
import { seededRandom } from './traces/random';
import type { Trace } from './traces/types';

export type Direction = 'up' | 'down';

export interface LinkDirectionOptions {
  /** Capacity: fixed kbit/s, or a trace (its time 0 at the link's creation unless `traceStartMs`). */
  kbit?: number;
  trace?: Trace;
  traceStartMs?: number;
  /** Queue limit (tail drop): in ms of the current capacity, or in bytes. Default 1000 ms. */
  queueMs?: number;
  queueBytes?: number;
  /** One-way propagation delay added after the queue, ms (a trace sample's delay adds to it). */
  delayMs?: number;
  /** Random loss, percent, drawn from a PRNG seeded with `seed` (a trace sample's loss adds to it). */
  lossPct?: number;
  seed?: number;
  /** A loss pattern: drop the `index`-th packet (0-based, per direction, RTP and RTCP) when true. */
  drop?: (packet: Buffer, index: number) => boolean;
  /** Reordering: every `every`-th packet is held back `delayMs` more, so later ones overtake it. */
  reorder?: { every: number; delayMs: number };
}

export interface SimulatedLinkOptions {
  up: LinkDirectionOptions;
  down: LinkDirectionOptions;
  /** Bytes the transport adds to each RTP/RTCP packet on the wire (SRTP tag 10 + UDP 8 + IPv4 20 by default). */
  overheadBytes?: number;
}

export interface DirectionCounters {
  packetsSent: number;
  packetsDelivered: number;
  bytesDelivered: number;
  /** Dropped at the queue (tail drop). */
  queueDrops: number;
  /** Dropped by the loss pattern or the random loss. */
  lossDrops: number;
}

const DEFAULT_QUEUE_MS = 1000;
const DEFAULT_OVERHEAD_BYTES = 10 + 8 + 20;
/** While the capacity is 0, the queue looks again this often (the trace's next sample may restore it). */
const OUTAGE_POLL_MS = 10;

interface InFlight {
  packet: Buffer;
  wireBytes: number;
  rtcp: boolean;
}

class LinkDirection {
  readonly counters: DirectionCounters = { packetsSent: 0, packetsDelivered: 0, bytesDelivered: 0, queueDrops: 0, lossDrops: 0 };
  private readonly queue: InFlight[] = [];
  private queuedBytes = 0;
  private serving = false;
  private served = 0;
  private readonly random;
  private readonly startMs: number;

  constructor(
    private readonly time: SimTime,
    private readonly dir: Direction,
    private readonly o: LinkDirectionOptions,
    private readonly deliver: (p: InFlight) => void,
  ) {
    if (o.kbit === undefined && !o.trace) throw new Error(`simulated link ${dir}: give kbit or a trace`);
    this.random = seededRandom(o.seed ?? 0, `simulated-link-${dir}`);
    this.startMs = o.traceStartMs ?? time.now();
  }

  private state(nowMs: number): { kbit: number; delayMs: number; lossPct: number } {
    const s = this.o.trace ? stateAt(this.o.trace, (nowMs - this.startMs) / 1000)[this.dir] : null;
    return {
      kbit: s ? s.kbit : this.o.kbit!,
      delayMs: (this.o.delayMs ?? 0) + (s?.delayMs ?? 0),
      lossPct: (this.o.lossPct ?? 0) + (s?.lossPct ?? 0),
    };
  }

  send(p: InFlight): void {
    const index = this.counters.packetsSent++;
    const now = this.time.now();
    const st = this.state(now);
    // Every packet draws, so the random losses of a seed do not depend on the pattern's.
    const lost = this.random.uniform() * 100 < st.lossPct;
    if (lost || this.o.drop?.(p.packet, index)) {
      this.counters.lossDrops++;
      return;
    }
    const limit = this.o.queueBytes ?? ((this.o.queueMs ?? DEFAULT_QUEUE_MS) * st.kbit) / 8;
    if (this.queuedBytes + p.wireBytes > Math.max(limit, p.wireBytes) && this.queue.length > 0) {
      this.counters.queueDrops++;
      return;
    }
    this.queue.push(p);
    this.queuedBytes += p.wireBytes;
    if (!this.serving) this.serveHead();
  }

  /** Serves the packet at the head: it leaves once its bytes went through at the capacity in force. */
  private serveHead(): void {
    const head = this.queue[0];
    if (!head) {
      this.serving = false;
      return;
    }
    this.serving = true;
    const st = this.state(this.time.now());
    if (st.kbit <= 0) {
      this.time.setTimeout(() => this.serveHead(), OUTAGE_POLL_MS);
      return;
    }
    const serviceMs = (head.wireBytes * 8) / st.kbit;
    this.time.setTimeout(() => {
      this.queue.shift();
      this.queuedBytes -= head.wireBytes;
      const extra = this.o.reorder && ++this.served % this.o.reorder.every === 0 ? this.o.reorder.delayMs : 0;
      const flight = this.state(this.time.now()).delayMs + extra;
      this.time.setTimeout(() => {
        this.counters.packetsDelivered++;
        this.counters.bytesDelivered += head.wireBytes;
        this.deliver(head);
      }, flight);
      this.serveHead();
    }, serviceMs);
  }

  /** Queueing delay a packet arriving now would see, ms. */
  queueDelayMs(): number {
    const kbit = this.state(this.time.now()).kbit;
    return kbit > 0 ? (this.queuedBytes * 8) / kbit : Infinity;
  }
}

/** One end of the link: what a session sees as its transport. */
class Endpoint implements PacketTransport {
  onRtp: PacketHandler = () => {};
  onRtcp: PacketHandler = () => {};

  constructor(
    private readonly out: LinkDirection,
    private readonly overhead: number,
  ) {}

  sendRtp(packet: Buffer): number {
    const wireBytes = packet.length + this.overhead;
    this.out.send({ packet: Buffer.from(packet), wireBytes, rtcp: false });
    return wireBytes;
  }

  sendRtcp(compound: Buffer): void {
    this.out.send({ packet: Buffer.from(compound), wireBytes: compound.length + this.overhead, rtcp: true });
  }

  overheadBytes(): number {
    return this.overhead;
  }

  receive(p: InFlight, arrivalMs: number): void {
    if (p.rtcp) this.onRtcp(p.packet, arrivalMs);
    else this.onRtp(p.packet, arrivalMs);
  }
}

export class SimulatedLink {
  /** The offer's end (sends up, receives down). */
  readonly a: PacketTransport;
  /** The answer's end (sends down, receives up). */
  readonly b: PacketTransport;
  readonly up: LinkDirection;
  readonly down: LinkDirection;

  constructor(time: SimTime, o: SimulatedLinkOptions) {
    const overhead = o.overheadBytes ?? DEFAULT_OVERHEAD_BYTES;
    let a!: Endpoint;
    let b!: Endpoint;
    this.up = new LinkDirection(time, 'up', o.up, (p) => b.receive(p, time.now()));
    this.down = new LinkDirection(time, 'down', o.down, (p) => a.receive(p, time.now()));
    a = new Endpoint(this.up, overhead);
    b = new Endpoint(this.down, overhead);
    this.a = a;
    this.b = b;
  }
}
