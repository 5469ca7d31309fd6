/**
 * What both peers' commands share: the output directory, run metadata, the end of a
 * run (normal, peer gone, interrupted) and the rule that every failure is one line on
 * stderr and a non-zero exit, with whatever was measured flushed first.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Clock } from '../clock';
import type { PeerInfo, RunMeta } from '../metrics/rows';
import { ffmpegVersion } from '../media/codec';
import { createSignaling, type SignalingOptions } from '../transport/signaling';
import { WebRtcPeer } from '../transport/webrtc';

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();

import { UsageError } from '../errors';
export { UsageError };

/** Commander's message as one line: its lines joined, blank ones dropped. */
export function oneLine(msg: string): string {
  return msg
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

export function selfInfo(): PeerInfo {
  let bootId = 'unknown';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Not Linux: clocks are then never assumed shared.
  }
  return { hostname: hostname(), bootId, pid: process.pid, version: VERSION };
}

export function sameClock(a: PeerInfo, b: PeerInfo | null): boolean {
  return !!b && a.bootId !== 'unknown' && a.bootId === b.bootId;
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync never returns under /proc
 * (Node 20), so a mistyped --out there would hang instead of failing.
 */
export function makeDirs(dir: string): void {
  const full = resolve(dir);
  if (existsSync(full)) return;
  makeDirs(dirname(full));
  mkdirSync(full);
}

/** Creates (if needed) and checks the output directory before anything runs. */
export function prepareOutDir(dir: string): string {
  try {
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error('exists and is not a directory');
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`cannot write to --out ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return dir;
}

/** A run's metadata as it starts: marked incomplete until the run says otherwise. */
export function newRunMeta(role: RunMeta['role'], self: PeerInfo, options: Record<string, unknown>, startedMs: number): RunMeta {
  return {
    role,
    command: process.argv.slice(1),
    versions: { testbed: self.version, node: process.version, ffmpeg: ffmpegVersion(), werift: packageVersion('werift') },
    options,
    self,
    peer: null,
    clock: null,
    started_ms: startedMs,
    ended_ms: null,
    complete: false,
    incomplete_reason: 'did not finish',
    counters: {},
  };
}

/** An installed package's version (its package.json may be hidden by "exports": walk up from its entry). */
function packageVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (;;) {
      const pj = join(dir, 'package.json');
      if (existsSync(pj)) {
        const json = JSON.parse(readFileSync(pj, 'utf8'));
        if (json.name === name) return json.version;
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'unknown';
  }
}

export function writeMeta(dir: string, meta: RunMeta): void {
  writeFileSync(join(dir, `${meta.role}-meta.json`), JSON.stringify(meta, null, 2) + '\n');
}

/**
 * How both peers start: the run's metadata (every option) is written before anything can
 * fail, so a failed run still says what it was; then signaling and the WebRTC peer.
 */
export function startPeer<O extends { signaling: SignalingOptions; iceHost: string }>(role: RunMeta['role'], o: O, outDir: string, clock: Clock) {
  const self = selfInfo();
  const meta = newRunMeta(role, self, { ...o, signaling: { ...o.signaling } }, clock.now());
  writeMeta(outDir, meta);
  return { self, meta, signaling: createSignaling(o.signaling), peer: WebRtcPeer.create({ iceHost: o.iceHost, clock }) };
}

export function readMeta(dir: string, role: 'sender' | 'receiver'): RunMeta | null {
  const p = join(dir, `${role}-meta.json`);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as RunMeta;
  } catch {
    return null;
  }
}

export function parseIntOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+(\.\d+)?(e\d+)?$/i.test(v.trim()) || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${name} must be a number between ${min} and ${max}, got '${v}'`);
    }
    return Math.round(n);
  };
}

export function parseFloatOption(name: string, min: number, max = Number.MAX_VALUE) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${name} must be a number between ${min} and ${max}, got '${v}'`);
    }
    return n;
  };
}

/** Verbose logging to stderr (stdout may carry SDP), with the time on our clock. */
export function makeLogger(verbose: boolean, tag: string): (msg: string) => void {
  return verbose ? (msg) => process.stderr.write(`[${tag} ${new Date().toISOString().slice(11, 23)}] ${msg}\n`) : () => {};
}

/**
 * Runs `onStop` once on SIGINT/SIGTERM so files are flushed and closed; a second
 * signal exits at once.
 */
export function onInterrupt(onStop: (signal: string) => void): void {
  let seen = false;
  const handler = (signal: string) => {
    if (seen) process.exit(130);
    seen = true;
    onStop(signal);
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
