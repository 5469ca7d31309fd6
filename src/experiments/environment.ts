/** Versions of everything a cell's figures depend on, for its meta.json. */
import { spawnSync } from 'node:child_process';
import { release } from 'node:os';
import { ffmpegVersion } from '../media/codec';
import { VERSION } from '../metrics/run-meta';

let cached: Record<string, string> | null = null;

export function environmentVersions(): Record<string, string> {
  if (cached) return cached;
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: 5000 });
  // "ip utility, iproute2-6.1.0, libbpf 1.1.0"
  const iproute2 = /iproute2-([\w.-]+)/.exec(String(ip.stdout ?? ''))?.[1] ?? 'unknown';
  cached = { testbed: VERSION, node: process.version, ffmpeg: ffmpegVersion(), kernel: release(), iproute2 };
  return cached;
}
