/**
 * Signaling in the spirit of aiortc's contrib/signaling: copy-and-paste (stdout/stdin),
 * tcp-socket and unix-socket, newline-delimited JSON. As in aiortc the side that
 * speaks first (the offerer) listens; unlike aiortc the answerer retries its connect
 * until the deadline, so the two commands may be started in either order. The socket
 * stays open for the whole run: its closing is how a vanished peer is noticed fast, and
 * the offer's `bye` on it is the run's reliable end (RTCP BYE travels with the media and
 * is lost when the link is full; the `bye` line always arrives, before the close).
 */
import * as net from 'node:net';
import * as readline from 'node:readline';
import { existsSync, unlinkSync } from 'node:fs';
import type { PeerInfo } from '../metrics/rows';
import type { EncoderConfig } from '../media/codec';
import { z } from 'zod';

/** What the offer tells the answerer beyond SDP: the mode, and the backup encoder's parameters, which a shared-reference seed must reproduce exactly. */
export interface MediaDescription {
  mode: 'single' | 'dual';
  backupReference: 'episodic' | 'shared';
  encoder: EncoderConfig;
  /** Scheduled I-frames every this many pictures (0: none); absent from older peers. */
  keyint?: number;
}

export type SignalMessage =
  | { type: 'offer'; sdp: string; info: PeerInfo; media?: MediaDescription }
  | { type: 'answer'; sdp: string; info: PeerInfo }
  | { type: 'bye'; reason: string };

export type SignalingKind = 'copy-and-paste' | 'tcp-socket' | 'unix-socket';

export interface SignalingOptions {
  kind: SignalingKind;
  host: string;
  port: number;
  path: string;
}

export class SignalingError extends Error {
  override name = 'SignalingError';
}

/** The channel ended (peer gone, or closed here): no message will come any more. */
export class SignalingClosedError extends SignalingError {}

export interface Signaling {
  /** Offerer listens, answerer connects; resolves when a peer is there (or at once for copy-and-paste). */
  connect(role: 'offer' | 'answer', timeoutMs: number): Promise<void>;
  send(msg: SignalMessage): Promise<void>;
  /** The next message; rejects on timeout (none with Infinity) or when the channel closes first (SignalingClosedError). */
  receive(timeoutMs: number): Promise<SignalMessage>;
  /** Called once if the channel closes while the run is still going. */
  onClose(cb: () => void): void;
  close(): void;
}

export function createSignaling(opts: SignalingOptions): Signaling {
  switch (opts.kind) {
    case 'copy-and-paste':
      return new CopyAndPasteSignaling();
    case 'tcp-socket':
      return new SocketSignaling({ host: opts.host, port: opts.port }, `${opts.host}:${opts.port}`);
    case 'unix-socket':
      return new SocketSignaling({ path: opts.path }, opts.path);
  }
}

/**
 * The messages' shapes (zod). A peer is another process, maybe another program or
 * version: every field is checked before the run uses it, and a message that does not
 * fit fails with one line naming the field (a fuzz pass found `info: null`, arrays, any
 * `media`, and a bye reason that threw when printed). Unknown fields are dropped, so a
 * newer peer's additions do not break an older one.
 */
const text = (max: number) => z.string().max(max);
const count = (min: number, max: number) => z.number().int().min(min).max(max);
const peerInfo: z.ZodType<PeerInfo> = z.object({ hostname: text(255), bootId: text(64), pid: count(0, 2 ** 32), version: text(64) });
const encoderConfig: z.ZodType<EncoderConfig> = z.object({
  width: count(16, 8192),
  height: count(16, 8192),
  fps: z.number().positive().max(1000),
  bitrateBps: count(1, 1e10),
  vbvBufferMs: z.number().positive().max(60_000),
  preset: text(32),
  tune: text(32),
  x264Params: text(1000).optional(),
  intraRefreshFrames: count(1, 100_000).optional(),
});
const mediaDescription: z.ZodType<MediaDescription> = z.object({
  mode: z.enum(['single', 'dual']),
  backupReference: z.enum(['episodic', 'shared']),
  encoder: encoderConfig,
  keyint: count(0, 1e9).optional(),
});
// werift accepts any string as a description and fails later with an unrelated message;
// an SDP description starts with its version line (RFC 8866 §5).
const sdp = text(1e6).regex(/^v=0\r?\n/, "it does not start with 'v=0'");
const signalMessage: z.ZodType<SignalMessage> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer'), sdp, info: peerInfo, media: mediaDescription.optional() }),
  z.object({ type: z.literal('answer'), sdp, info: peerInfo }),
  // The bye is the run's reliable end: an unreadable reason must not lose it.
  z.object({ type: z.literal('bye'), reason: text(1000).catch('') }).transform((b) => ({ type: 'bye' as const, reason: b.reason ?? '' })),
]);

export function parseSignalMessage(line: string): SignalMessage {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    throw new SignalingError('malformed signaling message (not JSON)');
  }
  const r = signalMessage.safeParse(m);
  if (r.success) return r.data;
  const type = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  if (type !== 'offer' && type !== 'answer' && type !== 'bye') throw new SignalingError('malformed signaling message (expected an offer, answer or bye)');
  const issue = r.error.issues[0];
  if (issue.path[0] === 'sdp') throw new SignalingError(`malformed SDP in the ${type} (${issue.message.slice(0, 200)})`);
  const field = issue.path.length ? issue.path.join('.') : 'message';
  throw new SignalingError(`malformed ${type}: ${field}: ${issue.message.slice(0, 200)}`);
}

/**
 * Resolves with the reason of the peer's `bye`, skipping any other (or malformed) message;
 * rejects with SignalingClosedError when the channel ends without one.
 */
export async function waitForBye(signaling: Signaling): Promise<string> {
  for (;;) {
    let m: SignalMessage;
    try {
      m = await signaling.receive(Infinity);
    } catch (e) {
      if (e instanceof SignalingClosedError) throw e;
      continue; // a malformed line: not a goodbye
    }
    if (m.type === 'bye') return m.reason;
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Delivers received lines to waiting receive() calls in order. */
class LineQueue {
  private lines: string[] = [];
  private waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private ended: Error | null = null;

  push(line: string): void {
    const w = this.waiters.shift();
    if (w) w.resolve(line);
    else this.lines.push(line);
  }

  end(err: Error): void {
    this.ended = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  next(timeoutMs: number, what: string): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.reject(this.ended);
    // Node fires timers beyond 2^31 − 1 ms at once: treat those as no timeout at all.
    const timed = Number.isFinite(timeoutMs) && timeoutMs <= MAX_TIMER_MS;
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (l: string) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = timed
        ? setTimeout(() => {
            this.waiters = this.waiters.filter((x) => x !== w);
            reject(new SignalingError(`no ${what} within ${seconds(timeoutMs)} s (is the other peer running?)`));
          }, timeoutMs)
        : undefined;
      this.waiters.push(w);
    });
  }
}

class SocketSignaling implements Signaling {
  private socket: net.Socket | null = null;
  private server: net.Server | null = null;
  private readonly queue = new LineQueue();
  private closeCb: () => void = () => {};
  private closing = false;

  constructor(
    private readonly address: { host: string; port: number } | { path: string },
    private readonly label: string,
  ) {}

  async connect(role: 'offer' | 'answer', timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (role === 'offer') {
      await this.listen();
      this.adopt(await this.accept(deadline, timeoutMs));
    } else {
      this.adopt(await this.dialUntil(deadline, timeoutMs));
    }
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      this.server = server;
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new SignalingError(`cannot listen for signaling on ${this.label} (${e.code ?? e.message})`)),
      );
      if ('path' in this.address) {
        if (existsSync(this.address.path)) unlinkSync(this.address.path);
        server.listen(this.address.path, () => resolve());
      } else {
        server.listen(this.address.port, this.address.host, () => resolve());
      }
    });
  }

  private accept(deadline: number, timeoutMs: number): Promise<net.Socket> {
    const server = this.server!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new SignalingError(`no peer connected to ${this.label} within ${seconds(timeoutMs)} s`));
      }, Math.max(0, deadline - Date.now()));
      server.once('connection', (s) => {
        clearTimeout(timer);
        resolve(s);
      });
    });
  }

  private async dialUntil(deadline: number, timeoutMs: number): Promise<net.Socket> {
    for (;;) {
      try {
        return await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(this.address as net.NetConnectOpts);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
      } catch (e) {
        if (Date.now() > deadline) {
          const why = (e as NodeJS.ErrnoException).code ?? String(e);
          throw new SignalingError(`cannot reach the offerer at ${this.label} within ${seconds(timeoutMs)} s (${why})`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private adopt(socket: net.Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    const rl = readline.createInterface({ input: socket });
    rl.on('line', (l) => this.queue.push(l));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.queue.end(new SignalingClosedError('the signaling connection closed (peer gone)'));
      if (!this.closing) this.closeCb();
    });
  }

  send(msg: SignalMessage): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed) return Promise.reject(new SignalingError('signaling channel is closed'));
    return new Promise((resolve) => s.write(JSON.stringify(msg) + '\n', () => resolve()));
  }

  async receive(timeoutMs: number): Promise<SignalMessage> {
    return parseSignalMessage(await this.queue.next(timeoutMs, 'message from the peer'));
  }

  onClose(cb: () => void): void {
    this.closeCb = cb;
  }

  close(): void {
    this.closing = true;
    this.socket?.end();
    this.socket?.destroy();
    this.server?.close();
    if ('path' in this.address && this.server && existsSync(this.address.path)) {
      try {
        unlinkSync(this.address.path);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * SDP on stdout, one JSON line; the peer's JSON line read from stdin (aiortc's
 * copy-and-paste). The prompts go to stderr, and only when a person is typing: when
 * stdin is a pipe, stderr stays for the one-line outcome.
 */
class CopyAndPasteSignaling implements Signaling {
  private readonly prompt = process.stdin.isTTY ? (l: string) => process.stderr.write(`${l}\n`) : () => {};
  private readonly queue = new LineQueue();
  private rl: readline.Interface | null = null;

  async connect(): Promise<void> {
    this.rl = readline.createInterface({ input: process.stdin });
    this.rl.on('line', (l) => {
      if (l.trim()) this.queue.push(l.trim());
    });
    this.rl.on('close', () => this.queue.end(new SignalingClosedError('standard input closed before the peer message arrived')));
  }

  async send(msg: SignalMessage): Promise<void> {
    if (msg.type === 'bye') return;
    this.prompt('-- Please send this message to the remote party (one line) --');
    process.stdout.write(JSON.stringify(msg) + '\n');
  }

  async receive(timeoutMs: number): Promise<SignalMessage> {
    this.prompt('-- Please enter a message from the remote party --');
    return parseSignalMessage(await this.queue.next(timeoutMs, 'message on standard input'));
  }

  onClose(): void {}

  close(): void {
    this.rl?.close();
  }
}

/** A timeout in seconds for messages, at most one decimal (2000 → "2", 500 → "0.5"). */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
