/**
 * Benchmark (not a test): 720p30 at 2 Mbit/s over unshaped loopback for 30 s, offer and
 * answer as two processes. Prints p50/p95/p99 of e2e and of each component, and the CPU
 * time each process reported for itself. Run: `node dist/bench/e2e.js [seconds]`.
 * Runs the receiver twice: libwebrtc's default timing, and its low-latency rendering
 * path (playout delay min 0 / max 500 ms, as the playout-delay extension selects).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureClip, runPair, tempDir } from '../src/experiments/processes';
import { formatSummary, summarizeRun } from '../src/metrics/summary';

async function runOnce(label: string, seconds: number, answerArgs: string[]): Promise<void> {
  const clip = ensureClip();
  const out = tempDir('bench');
  const { offer, answer } = await runPair(
    out,
    ['--play-from', clip, '--loop', '--duration', String(seconds), '--rate-control', 'fixed', '--bitrate', '2000000'],
    answerArgs,
  );
  if (offer.code !== 0 || answer.code !== 0) {
    throw new Error(`run failed: offer ${offer.code} ${offer.stderr.trim()} / answer ${answer.code} ${answer.stderr.trim()}`);
  }
  const s = summarizeRun(join(out, 'frames.csv'));
  const cpu = (role: string) => {
    const m = JSON.parse(readFileSync(join(out, `${role}-meta.json`), 'utf8'));
    const wall = (m.ended_ms - m.started_ms) / 1000;
    return { cpu: m.counters.cpu_s as number, wall };
  };
  const so = cpu('sender');
  const rc = cpu('receiver');
  console.log(`\n== ${label}: 720p30, 2 Mbit/s, ${seconds} s, loopback (${out})`);
  console.log(formatSummary(s));
  console.log(
    `CPU: offer ${so.cpu.toFixed(1)} s over ${so.wall.toFixed(1)} s (${((100 * so.cpu) / so.wall).toFixed(0)} % of a core), ` +
      `answer ${rc.cpu.toFixed(1)} s over ${rc.wall.toFixed(1)} s (${((100 * rc.cpu) / rc.wall).toFixed(0)} % of a core), ` +
      `together ${((100 * (so.cpu + rc.cpu)) / Math.max(so.wall, rc.wall)).toFixed(0)} % of a core`,
  );
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 30);
  await runOnce('default timing (libwebrtc jitter buffer)', seconds, []);
  await runOnce('low-latency rendering (playout delay 0..500 ms)', seconds, ['--playout-delay', '0,500']);
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
