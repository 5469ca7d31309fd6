/**
 * A run's metadata (sender-meta.json / receiver-meta.json): who ran, with which options and
 * versions, on which clock, and whether it finished. Written first, before anything can
 * fail, so a failed run still says what it was.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ffmpegVersion } from '../media/codec';
import type { PeerInfo, RunMeta } from './rows';

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();

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

export function readMeta(dir: string, role: 'sender' | 'receiver'): RunMeta | null {
  const p = join(dir, `${role}-meta.json`);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as RunMeta;
  } catch {
    return null;
  }
}

