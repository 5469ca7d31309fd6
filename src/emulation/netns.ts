/**
 * A shaped point-to-point link between two network namespaces, for tests and
 * benchmarks that run the testbed's two processes on either side of a bottleneck.
 *
 * The shaping itself lives in `scripts/tc/link.sh` (usable on its own, see
 * scripts/tc/README.md); this module drives it, probes what the kernel offers
 * (`detectShaping`), spawns processes inside the namespaces, and removes the link on
 * process exit, SIGINT and SIGTERM. A link whose owner was SIGKILLed is removed by
 * the next `ShapedLink.sweepStale()` (also run by `ShapedLink.up`).
 *
 * What is emulated: capacity per direction (tbf, counting IP bytes) with a byte-counted
 * tail-drop queue. Not emulated: propagation delay, jitter, random loss (these need
 * netem, which `detectShaping()` reports as `netem: false` when the kernel lacks it).
 */
import { ChildProcess, SpawnOptions, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ShapingSupport {
  /** Namespaces, veth and tbf work: `ShapedLink` can be used. */
  available: boolean;
  /** One line: why not, or what works and what is missing. */
  reason: string;
  /** netem (delay, jitter, random loss) is available. */
  netem: boolean;
}

export type Side = 'a' | 'b';
/** a2b: traffic from namespace a to b (the egress of a's veth); b2a the reverse. */
export type Direction = 'both' | 'a2b' | 'b2a';

export interface ShapedLinkOptions {
  /** `tb-` followed by [a-z0-9-], 13 characters at most (default tb-<pid36>-<n36>). */
  name?: string;
  /** Capacity of each direction, kbit/s (1 kbit = 1000 bit), counting IP bytes. */
  rateKbit: number;
  /** Tail-drop queue, in ms at the rate (default 100); bytes = rate × ms / 8. */
  queueMs?: number;
  /** Token-bucket depth in bytes (default max(2 MTU, rate × 5 ms)). */
  burstBytes?: number;
}

const STATE_DIR = process.env.TB_LINK_STATE_DIR || '/run/tb-link';
const NAME_RE = /^tb-[a-z0-9][a-z0-9-]*$/;
const MAX_NAME = 13; // NAME-a must fit IFNAMSIZ - 1 = 15

/** scripts/tc/link.sh, found upwards from this file (works from src/ and dist/src/). */
export function linkScript(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'scripts', 'tc', 'link.sh');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('netns: scripts/tc/link.sh not found above ' + __dirname);
    dir = parent;
  }
}

function firstLine(s: string | Buffer | null | undefined): string {
  return String(s ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
}

function runSync(cmd: string, args: string[], timeoutMs = 10_000): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { ok: false, out: r.error.message };
  return { ok: r.status === 0, out: r.status === 0 ? String(r.stdout) : firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.status ?? r.signal}` };
}

function runAsync(cmd: string, args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env: env ?? process.env }, (err, stdout, stderr) => {
      if (err) reject(new Error(firstLine(stderr) || firstLine(stdout) || err.message));
      else resolvePromise(stdout);
    });
  });
}

let cachedSupport: ShapingSupport | undefined;

/**
 * Probes once (cached) in a throwaway link: root, `ip netns`, veth, tbf (through
 * link.sh itself, so "available" means ShapedLink works), and netem on the probe
 * namespace's loopback. Cleans up after itself. Synchronous; takes ~100 ms.
 */
export function detectShaping(): ShapingSupport {
  if (cachedSupport) return cachedSupport;
  cachedSupport = probe();
  return cachedSupport;
}

function probe(): ShapingSupport {
  const no = (reason: string): ShapingSupport => ({ available: false, reason, netem: false });
  if (process.platform !== 'linux') return no(`no shaping: needs Linux network namespaces (platform ${process.platform})`);
  const uid = process.getuid?.();
  if (uid !== 0) return no(`no shaping: not root (uid ${uid}); network namespaces and tc need CAP_NET_ADMIN`);
  for (const tool of ['ip', 'tc']) {
    const r = runSync(tool, ['-V']);
    if (!r.ok) return no(`no shaping: '${tool}' unavailable (${r.out}); apt-get install iproute2`);
  }
  let script: string;
  try {
    script = linkScript();
  } catch (e) {
    return no(`no shaping: ${(e as Error).message}`);
  }
  const name = `tb-p${process.pid.toString(36)}`;
  runSync('bash', [script, 'down', name]); // a leftover from an earlier probe of this pid
  const up = runSync('bash', [script, 'up', name, '1000']);
  if (!up.ok) return no(`no shaping: ${up.out}`);
  try {
    const set = runSync('bash', [script, 'set', name, '2000']);
    if (!set.ok) return no(`no shaping: tc qdisc change failed: ${set.out}`);
    const ne = runSync('tc', ['-n', `${name}-a`, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms', 'loss', '1%']);
    const reason = ne.ok
      ? 'shaping available: namespaces, veth, tbf (capacity, tail-drop queue) and netem (delay, jitter, loss)'
      : `capacity shaping available (namespaces, veth, tbf with a tail-drop queue); netem unavailable (${ne.out}): no delay, jitter or random loss`;
    return { available: true, reason, netem: ne.ok };
  } finally {
    runSync('bash', [script, 'down', name]);
  }
}

// ---------------------------------------------------------------------------------
// Live links and process-exit cleanup

const live = new Set<ShapedLink>();
let handlersInstalled = false;

function cleanupAllSync(): void {
  for (const link of [...live]) link.downSync();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      cleanupAllSync();
      // Alone on this signal: restore the default action and re-raise it, so the
      // process still dies of the signal. Otherwise the other listeners decide.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

let counter = 0;

function defaultName(): string {
  for (;;) {
    const name = `tb-${process.pid.toString(36)}-${(counter++).toString(36)}`;
    if (!existsSync(`/run/netns/${name}-a`)) return name;
  }
}

function readState(name: string): Record<string, string> | undefined {
  try {
    const out: Record<string, string> = {};
    for (const line of readFileSync(join(STATE_DIR, name), 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces currently listed by `ip netns list`. */
export function listNamespaces(): string[] {
  const r = runSync('ip', ['netns', 'list']);
  if (!r.ok) return [];
  return r.out.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
}

export class ShapedLink {
  /** Namespace and veth of each side: `${name}-a`, `${name}-b`. */
  readonly nsA: string;
  readonly nsB: string;
  /** IPv4 address of each side's veth (a /30 between them). */
  readonly addrA: string;
  readonly addrB: string;
  readonly queueMs: number;
  private rates: { a2b: number; b2a: number };
  private children = new Set<ChildProcess>();
  private isDown = false;

  private constructor(readonly name: string, state: Record<string, string>, rateKbit: number, queueMs: number) {
    this.nsA = state.NS_A ?? `${name}-a`;
    this.nsB = state.NS_B ?? `${name}-b`;
    this.addrA = state.ADDR_A;
    this.addrB = state.ADDR_B;
    this.queueMs = queueMs;
    this.rates = { a2b: rateKbit, b2a: rateKbit };
  }

  /** Creates the link (removing stale links of dead owners first). Throws with link.sh's message. */
  static async up(opts: ShapedLinkOptions): Promise<ShapedLink> {
    const { rateKbit, queueMs = 100, burstBytes } = opts;
    const name = opts.name ?? defaultName();
    if (!NAME_RE.test(name) || name.length > MAX_NAME) {
      throw new Error(`netns: link name '${name}' must match ${NAME_RE} and have at most ${MAX_NAME} characters`);
    }
    if (!Number.isInteger(rateKbit) || rateKbit <= 0) throw new Error(`netns: rateKbit must be a positive integer (got ${rateKbit})`);
    if (!Number.isInteger(queueMs) || queueMs < 0) throw new Error(`netns: queueMs must be a non-negative integer (got ${queueMs})`);
    ShapedLink.sweepStale();
    installHandlers();
    const args = ['up', name, String(rateKbit), String(queueMs)];
    if (burstBytes !== undefined) args.push(String(burstBytes));
    const env = { ...process.env, TB_LINK_OWNER: String(process.pid) };
    await runAsync('bash', [linkScript(), ...args], env);
    const state = readState(name);
    if (!state?.ADDR_A || !state.ADDR_B) {
      runSync('bash', [linkScript(), 'down', name]);
      throw new Error(`netns: link ${name} came up without a readable state file in ${STATE_DIR}`);
    }
    const link = new ShapedLink(name, state, rateKbit, queueMs);
    live.add(link);
    return link;
  }

  /**
   * Removes links whose recorded owner process no longer exists (owner SIGKILLed, so
   * its exit handlers never ran). Links made by hand with link.sh have no owner and
   * are left alone. Returns the names removed.
   */
  static sweepStale(): string[] {
    let names: string[];
    try {
      names = readdirSync(STATE_DIR).filter((n) => NAME_RE.test(n));
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      const owner = Number(readState(name)?.OWNER_PID);
      if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || pidAlive(owner)) continue;
      if (runSync('bash', [linkScript(), 'down', name]).ok) removed.push(name);
    }
    return removed;
  }

  ns(side: Side): string {
    return side === 'a' ? this.nsA : this.nsB;
  }

  addr(side: Side): string {
    return side === 'a' ? this.addrA : this.addrB;
  }

  /** Current rate of each direction, kbit/s. */
  get rateKbit(): { a2b: number; b2a: number } {
    return { ...this.rates };
  }

  /**
   * Changes the capacity (tc qdisc change), keeping the queue in ms at the new rate.
   * Note: tbf refills its bucket on every change, so each change lets up to one burst
   * (default max(3000 B, 5 ms)) through at line rate.
   */
  async setRate(kbit: number, dir: Direction = 'both'): Promise<void> {
    if (this.isDown) throw new Error(`netns: link ${this.name} is down`);
    if (!Number.isInteger(kbit) || kbit <= 0) throw new Error(`netns: rate must be a positive integer kbit/s (got ${kbit})`);
    await runAsync('bash', [linkScript(), 'set', this.name, String(kbit), dir]);
    if (dir !== 'b2a') this.rates.a2b = kbit;
    if (dir !== 'a2b') this.rates.b2a = kbit;
  }

  /** Spawns `cmd args` inside namespace a or b (`ip netns exec`, which execs cmd: same pid). */
  spawnIn(side: Side, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.isDown) throw new Error(`netns: link ${this.name} is down`);
    const child = spawn('ip', ['netns', 'exec', this.ns(side), cmd, ...args], opts);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /**
   * Ends every process left in both namespaces (SIGTERM, SIGKILL after 1 s) and deletes
   * them, with the veth and qdiscs. Never throws; idempotent. Failures go to stderr.
   */
  async down(): Promise<void> {
    if (this.isDown) return;
    this.isDown = true;
    live.delete(this);
    try {
      await runAsync('bash', [linkScript(), 'down', this.name], undefined, 15_000);
    } catch (e) {
      process.stderr.write(`netns: removing link ${this.name} failed: ${(e as Error).message}\n`);
    }
    this.killChildren();
  }

  /** Synchronous `down`, for exit handlers. Never throws. */
  downSync(): void {
    if (this.isDown) return;
    this.isDown = true;
    live.delete(this);
    try {
      const r = runSync('bash', [linkScript(), 'down', this.name], 15_000);
      if (!r.ok) process.stderr.write(`netns: removing link ${this.name} failed: ${r.out}\n`);
    } catch (e) {
      process.stderr.write(`netns: removing link ${this.name} failed: ${(e as Error).message}\n`);
    }
    this.killChildren();
  }

  /** A child spawned but not yet inside the namespace when it was emptied. */
  private killChildren(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    this.children.clear();
  }
}
