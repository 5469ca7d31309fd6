/**
 * A shaped point-to-point link between two network namespaces, for tests, benchmarks
 * and experiments that run the testbed's two processes on either side of a bottleneck.
 *
 * The shaping itself lives in `scripts/tc/link.sh` (usable on its own, see
 * scripts/tc/README.md); this module drives it, probes what the kernel offers
 * (`detectFeatures`, `checkRequested`), spawns processes inside the namespaces, and
 * removes the link on process exit (also after an uncaught error), SIGINT, SIGTERM and
 * SIGHUP. A link whose owner was SIGKILLed is removed by the next
 * `ShapedLink.sweepStale()` (also run by `ShapedLink.up`).
 *
 * What is emulated, per direction: capacity (tbf or htb, counting IP bytes, 0 = outage)
 * with a byte-counted tail-drop queue; base delay and random loss through netem where
 * the kernel has it. Not emulated: jitter, reordering, duplication, and — on kernels
 * without netem, such as this project's CI machine — delay and random loss.
 */
import { ChildProcess, SpawnOptions, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors';
import type { LinkState } from './traces/types';

export type Side = 'a' | 'b';
/** a2b: traffic from namespace a to b (the egress of a's veth); b2a the reverse. */
export type Direction = 'both' | 'a2b' | 'b2a';
export type Qdisc = 'tbf' | 'htb';

export interface ShapedLinkOptions {
  /** `tb-` followed by [a-z0-9-], 13 characters at most (default tb-<pid36>-<n36>). */
  name?: string;
  /** Capacity of each direction, kbit/s (1 kbit = 1000 bit), counting IP bytes; 0 = outage. */
  rateKbit: number;
  /** Per-direction overrides of rateKbit / delayMs / lossPct. */
  a2b?: Partial<LinkState>;
  b2a?: Partial<LinkState>;
  /** One-way base delay of each direction, ms (netem). */
  delayMs?: number;
  /** Random loss of each direction, percent (netem). */
  lossPct?: number;
  /** Put netem in even when every delay and loss is 0, so `setState` can change them later. */
  netem?: boolean;
  /** Tail-drop queue, in ms at the current rate (default 100): bytes = rate × ms / 8, ≥ 2 MTU. */
  queueMs?: number;
  /** Or a fixed tail-drop queue in bytes (≥ 1500), whatever the rate. */
  queueBytes?: number;
  /** Token-bucket depth in bytes (default max(2 MTU, rate × 5 ms)). */
  burstBytes?: number;
  /** The shaper (default tbf). */
  qdisc?: Qdisc;
}

/** What the kernel offers; each field probed once per process (`detectFeatures`). */
export interface Features {
  /** This process runs as root (uid 0, also the mapped root of a user namespace). */
  root: boolean;
  namespaces: boolean;
  veth: boolean;
  tbf: boolean;
  /** htb with a bfifo leaf, and the blackhole qdisc it needs for outages. */
  htb: boolean;
  netem: boolean;
  /** This user can build the link inside an unprivileged user namespace. */
  userns: boolean;
  /** Not root: namespaces … netem were probed inside a user namespace (userns). */
  probedInUserns: boolean;
  /** One line per missing feature: why. */
  missing: Partial<Record<FeatureName, string>>;
}
export type FeatureName = 'root' | 'namespaces' | 'veth' | 'tbf' | 'htb' | 'netem' | 'userns';

/** What a run asks the link to emulate (`checkRequested`). */
export interface Requested {
  delay?: boolean;
  loss?: boolean;
  qdisc: Qdisc;
}

/** The older summary of `detectFeatures`, kept for callers that only need yes/no. */
export interface ShapingSupport {
  /** Namespaces, veth and tbf work: `ShapedLink` can be used. */
  available: boolean;
  /** One line: why not, or what works and what is missing. */
  reason: string;
  /** netem (delay, jitter, random loss) is available. */
  netem: boolean;
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

// ---------------------------------------------------------------------------------
// Feature detection

/**
 * The command that runs `script` inside an unprivileged user namespace in which the
 * caller is root, with a private /run (where `ip netns` keeps its namespaces and
 * link.sh its state). Verified on Linux 6.x: namespaces, veth, tbf and htb all work
 * there without any privilege.
 */
export const USERNS_PREFIX = ['unshare', '--user', '--map-root-user', '--net', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run && exec "$@"', 'sh'];

/** Parses `link.sh probe` output (KEY=yes, or KEY=no REASON per line). */
export function parseProbe(out: string): Record<string, { ok: boolean; reason: string }> {
  const r: Record<string, { ok: boolean; reason: string }> = {};
  for (const line of out.split('\n')) {
    const m = /^([a-z]+)=(yes|no)(?: (.*))?$/.exec(line.trim());
    if (m) r[m[1]] = { ok: m[2] === 'yes', reason: m[3]?.trim() || '' };
  }
  return r;
}

let cachedFeatures: Features | undefined;

/**
 * Probes once per process (cached): as root `link.sh probe` in a throwaway pair of
 * namespaces; otherwise the same probe inside an unprivileged user namespace (whose
 * success is `userns`). Cleans up after itself. Synchronous; ~100–300 ms.
 */
export function detectFeatures(): Features {
  cachedFeatures ??= probeFeatures();
  return cachedFeatures;
}

function probeFeatures(): Features {
  const f: Features = { root: false, namespaces: false, veth: false, tbf: false, htb: false, netem: false, userns: false, probedInUserns: false, missing: {} };
  const missingAll = (reason: string): Features => {
    for (const k of ['root', 'namespaces', 'veth', 'tbf', 'htb', 'netem', 'userns'] as const) if (!f[k]) f.missing[k] = reason;
    return f;
  };
  if (process.platform !== 'linux') return missingAll(`needs Linux network namespaces (platform ${process.platform})`);
  const uid = process.getuid?.() ?? -1;
  f.root = uid === 0;
  if (!f.root) f.missing.root = `not root (uid ${uid}): network namespaces and tc need CAP_NET_ADMIN`;
  for (const tool of ['ip', 'tc']) {
    const r = runSync(tool, ['-V']);
    if (!r.ok) return missingAll(`'${tool}' unavailable (${r.out}); apt-get install iproute2`);
  }
  let script: string;
  try {
    script = linkScript();
  } catch (e) {
    return missingAll((e as Error).message);
  }
  const userns = runSync(USERNS_PREFIX[0], [...USERNS_PREFIX.slice(1), 'bash', script, 'probe']);
  f.userns = userns.ok;
  if (!userns.ok) f.missing.userns = `no unprivileged user namespace (${userns.out})`;
  const probe = f.root ? runSync('bash', [script, 'probe']) : userns;
  f.probedInUserns = !f.root;
  if (!probe.ok) return missingAll(`probe failed: ${probe.out}`);
  const p = parseProbe(probe.out);
  const take = (k: 'namespaces' | 'veth' | 'tbf' | 'netem', reason?: string): void => {
    f[k] = p[k]?.ok ?? false;
    if (!f[k]) f.missing[k] = reason ?? p[k]?.reason ?? 'not probed';
  };
  take('namespaces');
  take('veth');
  take('tbf');
  take('netem');
  f.htb = (p.htb?.ok ?? false) && (p.blackhole?.ok ?? false);
  if (!f.htb) f.missing.htb = p.htb?.ok ? `no blackhole qdisc for outages (${p.blackhole?.reason})` : p.htb?.reason || 'not probed';
  return f;
}

/** One line saying what works and what does not. */
export function describeFeatures(f: Features): string {
  const names = ['namespaces', 'veth', 'tbf', 'htb', 'netem'] as const;
  const have = names.filter((k) => f[k]);
  const lack = names.filter((k) => !f[k]).map((k) => `${k} (${f.missing[k]})`);
  const where = f.probedInUserns ? ' inside an unprivileged user namespace' : '';
  return `${f.root ? 'root' : 'not root'}${where}: ${have.length ? have.join(', ') : 'nothing'} available${lack.length ? `; missing: ${lack.join(', ')}` : ''}`;
}

/** Quotes one argument for sh. */
function shQuote(s: string): string {
  return /^[A-Za-z0-9_\/.,:=+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** How to get the privileges the link needs, as one line with the exact commands. */
export function privilegeHint(f: Features, command: string[]): string {
  const cmd = command.map(shQuote).join(' ');
  const sudo = `sudo ${cmd}`;
  if (f.userns) return `run it as root (${sudo}) or, without root, inside a user namespace: ${[...USERNS_PREFIX.map(shQuote), cmd].join(' ')}`;
  return `run it as root: ${sudo} (no unprivileged user namespace here: ${f.missing.userns})`;
}

/**
 * Checks that the kernel can emulate what a run asks for. Capacity shaping (root,
 * namespaces, veth, the qdisc) cannot be done without: a one-line UsageError naming
 * what is missing and how to get it. Delay and loss (netem) can: without
 * `allowMissing` a UsageError names them and says `--allow-missing` runs without
 * them; with it, returns what is not emulated, for the run metadata.
 */
export function checkRequested(requested: Requested, features: Features, allowMissing: boolean, command: string[] = process.argv): string[] {
  if (!features.root) throw new UsageError(`network emulation needs root (CAP_NET_ADMIN): ${privilegeHint(features, command)}`);
  for (const k of ['namespaces', 'veth'] as const) {
    if (!features[k]) throw new UsageError(`network emulation unavailable: no ${k} (${features.missing[k]})`);
  }
  if (!features[requested.qdisc]) {
    const alt = requested.qdisc === 'htb' && features.tbf ? '; use --qdisc tbf' : '';
    throw new UsageError(`network emulation unavailable: qdisc ${requested.qdisc} missing (${features.missing[requested.qdisc]})${alt}`);
  }
  const notEmulated: string[] = [];
  if (requested.delay && !features.netem) notEmulated.push('delay');
  if (requested.loss && !features.netem) notEmulated.push('loss');
  if (notEmulated.length && !allowMissing) {
    throw new UsageError(`cannot emulate ${notEmulated.join(' and ')}: netem is not available in this kernel (${features.missing.netem}); --allow-missing runs without ${notEmulated.length > 1 ? 'them' : 'it'}`);
  }
  return notEmulated;
}

/**
 * The earlier yes/no summary: `available` when ShapedLink works in this process
 * (root, namespaces, veth, tbf).
 */
export function detectShaping(): ShapingSupport {
  const f = detectFeatures();
  const available = f.root && f.namespaces && f.veth && f.tbf;
  if (!available) {
    const k = (['root', 'namespaces', 'veth', 'tbf'] as const).find((n) => !f[n])!;
    return { available, reason: `no shaping: ${f.missing[k]}`, netem: f.netem };
  }
  const reason = f.netem
    ? 'shaping available: namespaces, veth, tbf (capacity, tail-drop queue) and netem (delay, loss)'
    : `capacity shaping available (namespaces, veth, tbf${f.htb ? ', htb' : ''} with a tail-drop queue); netem unavailable (${f.missing.netem}): no delay, jitter or random loss`;
  return { available, reason, netem: f.netem };
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
  // 'exit' also runs after an uncaught exception or unhandled rejection.
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

/**
 * The link's resolution: integer kbit/s (a positive rate never rounds down to an
 * outage), delay in µs, loss in 0.001 %. Absent delay and loss mean 0.
 */
export function normalizeState(s: Partial<LinkState> & { kbit: number }): Required<LinkState> {
  const kbit = s.kbit > 0 ? Math.max(1, Math.round(s.kbit)) : 0;
  return { kbit, delayMs: Math.round((s.delayMs ?? 0) * 1000) / 1000, lossPct: Math.round((s.lossPct ?? 0) * 1000) / 1000 };
}

function checkState(what: string, s: Required<LinkState>): void {
  if (!Number.isFinite(s.kbit) || s.kbit < 0) throw new UsageError(`${what}: rate must be >= 0 kbit/s (got ${s.kbit})`);
  if (!Number.isFinite(s.delayMs) || s.delayMs < 0) throw new UsageError(`${what}: delay must be >= 0 ms (got ${s.delayMs})`);
  if (!Number.isFinite(s.lossPct) || s.lossPct < 0 || s.lossPct > 100) throw new UsageError(`${what}: loss must be 0-100 % (got ${s.lossPct})`);
}

const LINK_DIRS = ['a2b', 'b2a'] as const;
type LinkDir = (typeof LINK_DIRS)[number];

/** link.sh options putting one direction in a state (only the fields that differ from `from`). */
function stateArgs(dir: LinkDir, to: Required<LinkState>, from: Required<LinkState> | undefined, netem: boolean): string[] {
  const args: string[] = [];
  if (!from || to.kbit !== from.kbit) args.push(`--${dir}-rate`, String(to.kbit));
  if (netem && (!from || to.delayMs !== from.delayMs)) args.push(`--${dir}-delay-ms`, String(to.delayMs));
  if (netem && (!from || to.lossPct !== from.lossPct)) args.push(`--${dir}-loss-pct`, String(to.lossPct));
  return args;
}

export class ShapedLink {
  /** Namespace and veth of each side: `${name}-a`, `${name}-b`. */
  readonly nsA: string;
  readonly nsB: string;
  /** IPv4 address of each side's veth (a /30 between them). */
  readonly addrA: string;
  readonly addrB: string;
  /** Queue in ms of the rate, or undefined when the queue is a fixed `queueBytes`. */
  readonly queueMs: number | undefined;
  readonly queueBytes: number | undefined;
  readonly qdisc: Qdisc;
  /** netem is in place: delay and loss can be set. */
  readonly netem: boolean;
  private current: Record<LinkDir, Required<LinkState>>;
  private children = new Set<ChildProcess>();
  private isDown = false;

  private constructor(
    readonly name: string,
    state: Record<string, string>,
    opts: { states: Record<LinkDir, Required<LinkState>>; queueMs?: number; queueBytes?: number; qdisc: Qdisc; netem: boolean },
  ) {
    this.nsA = state.NS_A ?? `${name}-a`;
    this.nsB = state.NS_B ?? `${name}-b`;
    this.addrA = state.ADDR_A;
    this.addrB = state.ADDR_B;
    this.queueMs = opts.queueMs;
    this.queueBytes = opts.queueBytes;
    this.qdisc = opts.qdisc;
    this.netem = opts.netem;
    this.current = opts.states;
  }

  /**
   * Creates the link (removing stale links of dead owners first). Throws a UsageError
   * when not root, when netem is asked for and missing (`features` defaults to
   * `detectFeatures()`, probed only in those cases), or with link.sh's message.
   */
  static async up(opts: ShapedLinkOptions, features?: Features): Promise<ShapedLink> {
    const name = opts.name ?? defaultName();
    if (!NAME_RE.test(name) || name.length > MAX_NAME) {
      throw new UsageError(`netns: link name '${name}' must match ${NAME_RE} and have at most ${MAX_NAME} characters`);
    }
    const states = {} as Record<LinkDir, Required<LinkState>>;
    for (const dir of LINK_DIRS) {
      const o = opts[dir] ?? {};
      const raw = { kbit: o.kbit ?? opts.rateKbit, delayMs: o.delayMs ?? opts.delayMs, lossPct: o.lossPct ?? opts.lossPct };
      if (typeof raw.kbit !== 'number' || !Number.isFinite(raw.kbit)) throw new UsageError(`netns: ${dir} rate must be a number of kbit/s (got ${raw.kbit})`);
      states[dir] = normalizeState(raw);
      checkState(`netns: ${dir}`, states[dir]);
    }
    const { queueMs, queueBytes, burstBytes, qdisc = 'tbf' } = opts;
    if (queueMs !== undefined && queueBytes !== undefined) throw new UsageError('netns: give queueMs or queueBytes, not both');
    if (queueMs !== undefined && (!Number.isInteger(queueMs) || queueMs < 0)) throw new UsageError(`netns: queueMs must be a non-negative integer (got ${queueMs})`);
    if (queueBytes !== undefined && (!Number.isInteger(queueBytes) || queueBytes < 1500)) throw new UsageError(`netns: queueBytes must be an integer >= 1500 (got ${queueBytes})`);
    if (burstBytes !== undefined && (!Number.isInteger(burstBytes) || burstBytes < 1500)) throw new UsageError(`netns: burstBytes must be an integer >= 1500 (got ${burstBytes})`);
    const given = (k: 'delayMs' | 'lossPct'): boolean => opts[k] !== undefined || LINK_DIRS.some((d) => opts[d]?.[k] !== undefined);
    const bare = opts.netem === true && !given('delayMs') && !given('lossPct');
    const wantsNetem = opts.netem === true || given('delayMs') || given('lossPct');
    if (process.getuid?.() !== 0 || wantsNetem || qdisc !== 'tbf') {
      checkRequested({ qdisc, delay: bare || given('delayMs'), loss: bare || given('lossPct') }, features ?? detectFeatures(), false);
    }
    ShapedLink.sweepStale();
    installHandlers();
    const args = ['up', name, '--qdisc', qdisc];
    for (const dir of LINK_DIRS) args.push(...stateArgs(dir, states[dir], undefined, wantsNetem));
    if (wantsNetem) args.push('--netem');
    if (queueBytes !== undefined) args.push('--queue-bytes', String(queueBytes));
    else args.push('--queue-ms', String(queueMs ?? 100));
    if (burstBytes !== undefined) args.push('--burst', String(burstBytes));
    const env = { ...process.env, TB_LINK_OWNER: String(process.pid) };
    await runAsync('bash', [linkScript(), ...args], env);
    const state = readState(name);
    if (!state?.ADDR_A || !state.ADDR_B) {
      runSync('bash', [linkScript(), 'down', name]);
      throw new Error(`netns: link ${name} came up without a readable state file in ${STATE_DIR}`);
    }
    const link = new ShapedLink(name, state, { states, queueMs: queueBytes === undefined ? (queueMs ?? 100) : undefined, queueBytes, qdisc, netem: wantsNetem });
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

  /** Where a direction is shaped: the namespace and veth its packets leave through. */
  egress(dir: 'a2b' | 'b2a'): { ns: string; dev: string } {
    const ns = dir === 'a2b' ? this.nsA : this.nsB;
    return { ns, dev: ns };
  }

  /** Current rate of each direction, kbit/s. */
  get rateKbit(): { a2b: number; b2a: number } {
    return { a2b: this.current.a2b.kbit, b2a: this.current.b2a.kbit };
  }

  /** Current state of each direction (delay and loss are 0 without netem). */
  get state(): { a2b: Required<LinkState>; b2a: Required<LinkState> } {
    return { a2b: { ...this.current.a2b }, b2a: { ...this.current.b2a } };
  }

  /** Changes the capacity of one or both directions (see setState). */
  async setRate(kbit: number, dir: Direction = 'both'): Promise<void> {
    const dirs = dir === 'both' ? LINK_DIRS : [dir];
    const change: Partial<Record<LinkDir, LinkState>> = {};
    for (const d of dirs) change[d] = { ...this.current[d], kbit };
    await this.setState(change);
  }

  /**
   * Puts directions in new states with one link.sh call (`tc qdisc change`, one tc exec
   * per direction that changed; nothing when nothing changed). Rates are rounded to
   * 1 kbit/s; 0 is an outage. Delay or loss other than 0 need netem (`up` with
   * `delayMs`, `lossPct` or `netem: true`). Note: tbf refills its bucket on every change,
   * so each change lets up to one burst (default max(3000 B, 5 ms)) through at line rate.
   */
  async setState(change: Partial<Record<LinkDir, LinkState>>): Promise<void> {
    if (this.isDown) throw new Error(`netns: link ${this.name} is down`);
    const next = { ...this.current };
    const args: string[] = [];
    for (const dir of LINK_DIRS) {
      const s = change[dir];
      if (!s) continue;
      const to = normalizeState(s);
      checkState(`netns: ${this.name} ${dir}`, to);
      if (!this.netem && (to.delayMs > 0 || to.lossPct > 0)) {
        throw new UsageError(`netns: link ${this.name} has no netem: cannot set ${dir} delay ${to.delayMs} ms / loss ${to.lossPct} % (bring it up with delayMs, lossPct or netem: true)`);
      }
      args.push(...stateArgs(dir, to, this.current[dir], this.netem));
      next[dir] = to;
    }
    if (args.length === 0) return;
    await runAsync('bash', [linkScript(), 'set', this.name, ...args]);
    this.current = next;
  }

  /** Spawns `cmd args` inside namespace a or b (`ip netns exec`, which execs cmd: same pid). */
  spawnIn(side: Side, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.isDown) throw new Error(`netns: link ${this.name} is down`);
    return this.track(spawn('ip', ['netns', 'exec', this.ns(side), cmd, ...args], opts));
  }

  /** Adopts a child that enters a namespace by itself (e.g. `tc -n`): killed by `down`. */
  track(child: ChildProcess): ChildProcess {
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
