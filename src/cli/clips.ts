/**
 * `testbed clips list|show|make`: the bundled scenes and any clip FFmpeg reads, measured —
 * ITU-T P.910 SI/TI and the I/P size ratio at 0.5–2.0 Mbit/s (media/clip-analysis.ts,
 * cached by content) — and making the scenes (media/scenes.ts).
 */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { analyseClip, cachedAnalysis, type ClipAnalysis } from '../media/clip-analysis';
import { clipRef, findScene, makeScene, sceneFile, sceneRef, SCENES, type ClipRef } from '../media/scenes';
import { clipsDir } from '../paths';
import { UsageError } from './session';
import { endStatusLine, statusLine } from './status-line';
import { textTable } from './text-table';

const f = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));
const kB = (v: number | null) => (v === null ? '-' : (v / 1000).toFixed(1));
function ipColumns(a: ClipAnalysis | null): string[] {
  return (a?.ip.rates ?? [null, null, null, null]).map((r) => (r ? f(r.i_to_p, 1) : '?'));
}

async function list(o: { cached: boolean }): Promise<void> {
  const rows = [['clip', 'file', 'SI max', 'TI max', 'I/P 0.5', 'I/P 1.0', 'I/P 1.5', 'I/P 2.0 Mbit/s']];
  let unmeasured = 0;
  for (const scene of SCENES) {
    for (const height of scene.heights) {
      const ref = sceneRef(scene, clipsDir(), height);
      if (!existsSync(ref.file)) {
        // The 720p set is what the set-up makes; larger variants are listed once made.
        if (height === scene.heights[0]) rows.push([ref.label, `not made: testbed clips make ${scene.name}`, '', '', '', '', '', '']);
        continue;
      }
      const a = o.cached ? await cachedAnalysis(ref.file) : await analyseClip(ref.file, statusLine);
      if (!a) unmeasured++;
      rows.push([ref.label, `clips/${ref.file.split('/').pop()}`, a ? f(a.siti.si_max, 1) : '?', a ? f(a.siti.ti_max, 1) : '?', ...ipColumns(a)]);
    }
  }
  endStatusLine();
  process.stdout.write(textTable(rows) + '\n');
  process.stdout.write('1080p variants: testbed clips make --height 1080 [SCENE...]\n');
  process.stdout.write('I/P: mean I-frame size over the P-frames around it, x264 as testbed offer opens it at each fixed rate (testbed clips show NAME for the method and sizes)\n');
  if (unmeasured) process.stdout.write(`? = not measured yet (${unmeasured} clips): run without --cached\n`);
}

function describeScene(ref: ClipRef): string[] {
  if (!ref.scene) return [];
  const scene = findScene(ref.scene.name)!;
  return [`scene     ${scene.name} (${ref.scene.height}p): ${scene.summary}`, `stands for ${scene.standsFor}`];
}

async function show(refText: string, o: { json: boolean }): Promise<void> {
  const ref = clipRef(refText, process.cwd(), clipsDir());
  if (!existsSync(ref.file)) throw new UsageError(`${ref.label} is not made yet: testbed clips make ${ref.scene!.name}${ref.scene!.height !== 720 ? ` --height ${ref.scene!.height}` : ''}`);
  const a = await analyseClip(ref.file, statusLine);
  endStatusLine();
  if (o.json) {
    process.stdout.write(JSON.stringify({ label: ref.label, file: ref.file, scene: ref.scene, analysis: a }, null, 2) + '\n');
    return;
  }
  const lines = [
    `clip      ${ref.label}: ${ref.file}`,
    ...describeScene(ref),
    `picture   ${a.width}x${a.height} ${a.codec}, ${a.fps} fps, ${a.pictures} pictures, ${a.duration_s} s, ${(a.bytes / 1e6).toFixed(1)} MB (${((a.bytes * 8) / a.duration_s / 1e6).toFixed(1)} Mbit/s)`,
    `sha256    ${a.sha256}`,
    `SI        max ${f(a.siti.si_max, 2)}, mean ${f(a.siti.si_mean, 2)}`,
    `TI        max ${f(a.siti.ti_max, 2)}, mean ${f(a.siti.ti_mean, 2)}   (${a.siti.method})`,
    '',
    textTable([
      ['rate Mbit/s', 'I/P', 'I mean kB', 'P around I kB', 'P mean kB', 'I-frames', 'achieved kbit/s'],
      ...a.ip.rates.map((r) => [(r.bitrate_bps / 1e6).toFixed(1), f(r.i_to_p, 2), kB(r.i_mean_bytes), kB(r.neighbour_p_mean_bytes), kB(r.p_mean_bytes), String(r.i_frames), f(r.achieved_kbps, 0)]),
    ]),
    `I/P: ${a.ip.method}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function make(names: string[], o: { height: number; force: boolean }): Promise<void> {
  const wanted = names.length ? names : SCENES.filter((s) => s.heights.includes(o.height)).map((s) => s.name);
  for (const name of wanted) {
    const scene = findScene(name);
    if (!scene) throw new UsageError(`no scene '${name}' (scenes: ${SCENES.map((s) => s.name).join(', ')})`);
    const out = sceneFile(clipsDir(), name, o.height);
    if (existsSync(out) && !o.force) continue;
    process.stderr.write(`testbed: making ${out}\n`);
    await makeScene(scene, { height: o.height, out, force: o.force });
  }
}

export function addClipsCommand(program: Command): void {
  const clips = program.command('clips').description('the bundled scenes and any clip: SI/TI (ITU-T P.910) and I/P size ratios at 0.5-2.0 Mbit/s; making the scenes');
  clips
    .command('list')
    .description('every bundled scene: file, SI/TI, I/P ratio per rate (measured once per clip and cached)')
    .option('--cached', 'print what is already measured, compute nothing', false)
    .action((o: { cached: boolean }) => list(o));
  clips
    .command('show')
    .description('one clip: what it is, its picture format, SI/TI and the I/P table with sizes')
    .argument('<clip>', 'a scene name (talking-head, talking-head@1080) or any video file FFmpeg reads')
    .option('--json', 'print the analysis as JSON', false)
    .action((ref: string, o: { json: boolean }) => show(ref, o));
  clips
    .command('make')
    .description('make bundled scenes with FFmpeg lavfi (deterministic; skips those already made)')
    .argument('[scene...]', 'scene names (default: every scene made at --height)')
    .addOption(new Option('--height <px>', 'picture height').choices(['720', '1080']).default('720'))
    .option('--force', 'make again even if the file exists', false)
    .action((names: string[], o: { height: string; force: boolean }) => make(names, { height: Number(o.height), force: o.force }));
}
