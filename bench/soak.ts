/**
 * Soak (a script, not a test): one long looped session — dual stream, GCC, over a shaped
 * link in namespaces of its own — printing both processes' resident memory each minute.
 * The aim (issue 16): growth after the first minute below 50 MB per process, so a
 * 10-minute experiment cell measures the same program at its end as at its start.
 *
 *   npm run build && node dist/bench/soak.js [minutes=10] [kbit=1500] [dual|single]
 *
 * Run as root (it creates the namespaces). RSS from /proc/PID/status (VmRSS) of the two
 * node processes (`ip netns exec` execs node in place, so the child's pid is node's).
 */
import { readFileSync } from 'node:fs';
import { ShapedLink } from '../src/emulation/netns';
import { ensureClip, startCli, tempDir, uniquePort } from '../src/experiments/processes';

function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const minutes = Number(process.argv[2] ?? 10);
  const kbit = Number(process.argv[3] ?? 1500);
  const mode = process.argv[4] ?? 'dual';
  if (mode !== 'dual' && mode !== 'single') throw new Error(`mode: dual or single, got '${mode}'`);
  const link = await ShapedLink.up({ rateKbit: kbit, queueMs: 300 });
  const out = tempDir('soak');
  try {
    const sig = ['--out', out, '--signaling', 'tcp-socket', '--signaling-host', link.addrA, '--signaling-port', String(uniquePort())];
    const timeoutMs = (minutes * 60 + 120) * 1000;
    const answer = startCli(['answer', ...sig, '--ice-host', link.addrB], { timeoutMs, spawner: (c, a, o) => link.spawnIn('b', c, a, o) });
    const offer = startCli(
      ['offer', ...sig, '--ice-host', link.addrA, '--play-from', ensureClip(), '--loop', '--duration', String(minutes * 60), '--mode', mode, '--rate-control', 'gcc', '--bitrate', String(Math.round(kbit * 700))],
      { timeoutMs, spawner: (c, a, o) => link.spawnIn('a', c, a, o) },
    );
    console.log(`soak: ${minutes} min, ${mode}, GCC, ${kbit} kbit/s tbf link, 300 ms queue; results in ${out}`);
    console.log(['minute', 'sender RSS MB', 'receiver RSS MB'].join('\t'));
    const samples: [number, number][] = [];
    let ended = false;
    void Promise.all([offer.done, answer.done]).then(() => (ended = true));
    for (let m = 0; m <= minutes && !ended; m++) {
      const s = rssMb(offer.child.pid);
      const r = rssMb(answer.child.pid);
      if (s !== null && r !== null) {
        samples.push([s, r]);
        console.log([m, s.toFixed(0), r.toFixed(0)].join('\t'));
      }
      if (m < minutes) await new Promise((res) => setTimeout(res, 60_000));
    }
    const [o, a] = await Promise.all([offer.done, answer.done]);
    if (o.code !== 0 || a.code !== 0) console.log(`exit codes: offer ${o.code}, answer ${a.code}\n${o.stderr.slice(-500)}\n${a.stderr.slice(-500)}`);
    if (samples.length > 2) {
      const first = samples[1];
      const last = samples[samples.length - 1];
      const span = samples.length - 2;
      for (const [i, who] of [[0, 'sender'], [1, 'receiver']] as const) {
        const g = last[i] - first[i];
        console.log(`${who}: ${g.toFixed(0)} MB after the first minute (${(g / span).toFixed(1)} MB/min over ${span} min): ${g < 50 ? 'within' : 'above'} the 50 MB aim`);
      }
    }
  } finally {
    await link.down();
  }
}

main().catch((e) => {
  console.error(`soak: ${e.message}`);
  process.exit(1);
});
