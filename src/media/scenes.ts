/**
 * The bundled scenes: clips the project generates itself with FFmpeg's lavfi sources (no
 * downloads), each standing for one kind of content real-time video carries. Whether an
 * I-frame hurts depends on the content — the ratio of I- to P-frame size is the whole
 * problem (DESIGN.md §1) — so one synthetic clip cannot stand for all of it.
 *
 * Deterministic: every random source is seeded (geq's random() state, the noise filter's
 * default seed, life's seed), filter graphs run on one thread (geq's slices would
 * otherwise split its random state by the machine's core count) and x264 on a fixed four
 * (its output depends on the thread count, not on the machine), with bit-exact muxing:
 * the same FFmpeg build makes the same bytes. `default` keeps the command it has always
 * had, so its bytes (and every result recorded with it) stay as they were.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { mulberry32 } from '../prng';
import { UsageError } from '../errors';
import { runFfmpeg } from './ffmpeg-cli';

export interface SceneDefinition {
  name: string;
  /** One line: what is on screen. */
  summary: string;
  /** Which real content it stands for, and why it matters for I/P sizes. */
  standsFor: string;
  /** Picture heights it can be made at (16:9, 30 fps). */
  heights: number[];
  durationS: number;
  /** ffmpeg's arguments (after the common ones) making the clip at `height` into `out`. */
  args(o: SceneBuild): string[];
}

export interface SceneBuild {
  height: number;
  durationS: number;
  out: string;
  /** A scratch directory for inputs some graphs need (screen's text). */
  scratch: string;
}

export const FPS = 30;
export const DEFAULT_SCENE = 'default';
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';

/** A picture width for `height` at 16:9, even (4:2:0). */
function widthOf(height: number): number {
  return 2 * Math.round((height * 16) / 9 / 2);
}

/** What a generated scene's filter graph is drawn with: the size, `p` scaling 720p coordinates to it, scratch space. */
interface GraphBuild {
  width: number;
  height: number;
  p: (n: number) => number;
  scratch: string;
}

/** A scene made from one lavfi filter graph, on one filter thread (geq's random state must not be split by slices). */
function generated(scene: Omit<SceneDefinition, 'args'> & { graph(g: GraphBuild): string }): SceneDefinition {
  const { graph, ...rest } = scene;
  return {
    ...rest,
    args: (o) => {
      const k = o.height / 720;
      const g = { width: widthOf(o.height), height: o.height, p: (n: number) => Math.round(n * k), scratch: o.scratch };
      return ['-y', '-filter_complex_threads', '1', '-filter_complex', graph(g), ...x264(o)];
    },
  };
}

/** x264 as for every generated scene: near-lossless source quality (CRF 16, as the default clip). */
function x264(o: SceneBuild): string[] {
  return ['-t', String(o.durationS), '-r', String(FPS), '-c:v', 'libx264', '-preset', 'fast', '-crf', '16', '-g', '60', '-threads', '4', '-pix_fmt', 'yuv420p', '-fflags', '+bitexact', '-map_metadata', '-1', '-movflags', '+faststart', o.out];
}

/**
 * A natural-looking texture (lichen, rock, foliage seen from afar): fractal value noise,
 * five octaves of seeded random pixels upscaled bicubically and mixed with weights falling
 * with frequency, luma normalised to the full range, chroma from two coarser octaves kept
 * close to grey-brown-green. One still picture of w×h, looped at 30 fps.
 */
function texture(w: number, h: number, label: string): string {
  const octave = (cw: number, ch: number, state: number) =>
    `color=c=black:s=${cw}x${ch}:r=${FPS}:d=1,format=gray,geq=lum='random(${state})*255',scale=${w}x${h}:flags=bicubic,setsar=1`;
  const sizes: [number, number][] = [
    [24, 14],
    [96, 54],
    [384, 216],
    [Math.round(w / 2), Math.round(h / 2)],
    [w, h],
  ];
  const o = sizes.map(([cw, ch], i) => `${octave(cw, ch, i)}[${label}o${i}]`);
  return [
    ...o,
    `[${label}o0][${label}o1]blend=all_expr='A*0.5+B*0.5'[${label}m1]`,
    `[${label}m1][${label}o2]blend=all_expr='A*0.65+B*0.35'[${label}m2]`,
    `[${label}m2][${label}o3]blend=all_expr='A*0.75+B*0.25'[${label}m3]`,
    `[${label}m3][${label}o4]blend=all_expr='A*0.82+B*0.18',normalize=independence=0[${label}y]`,
    `${octave(12, 7, 5)}[${label}u]`,
    `${octave(16, 9, 6)}[${label}v]`,
    `[${label}y][${label}u][${label}v]mergeplanes=0x001020:yuv444p,lutyuv=u='118+(val-128)*0.15':v='134+(val-128)*0.12',format=yuv420p,loop=loop=-1:size=1,setpts=N/${FPS}/TB[${label}]`,
  ].join(';');
}

/** Lines of code-like text for the screen scene, from a seeded generator (no file in the repository to drift). */
export function screenText(lines = 220, seed = 3): string {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const words = ['const', 'let', 'return', 'if', 'else', 'for', 'while', 'function', 'await', 'async', 'frame', 'packet', 'rate', 'delay', 'queue', 'buffer', 'jitter', 'send', 'receive', 'encode', 'decode', 'pacer', 'target', 'estimate'] as const;
  const out: string[] = [];
  let indent = 0;
  for (let i = 0; i < lines; i++) {
    const n = 2 + Math.floor(rand() * 8);
    let line = '    '.repeat(indent) + Array.from({ length: n }, () => pick(words)).join(' ');
    const opens = rand() < 0.3;
    if (opens) line += ' {';
    out.push(line.slice(0, 90));
    if (opens && indent < 4) indent++;
    else if (indent > 0 && rand() < 0.3) indent--;
  }
  return out.join('\n') + '\n';
}

export const SCENES: readonly SceneDefinition[] = [
  {
    name: 'default',
    summary: 'a static Mandelbrot background, a test card drifting on a sinusoid, a Game-of-Life panel',
    standsFor: 'the original embedded clip (synthetic; a detailed still background makes I-frames large and P-frames tiny at every rate)',
    heights: [720],
    durationS: 20,
    // The command the project has always made it with (formerly scripts/make-clip.sh): unchanged, so are its bytes.
    args: (o) => [
      '-y',
      '-f', 'lavfi', '-i', `mandelbrot=s=1280x720:r=30:start_scale=0.8:end_scale=0.8:maxiter=200,format=yuv420p`,
      '-f', 'lavfi', '-i', 'testsrc2=s=360x240:r=30',
      '-f', 'lavfi', '-i', 'life=s=320x180:r=30:mold=10:ratio=0.1:seed=7:death_color=#101030:life_color=#30c060',
      '-filter_complex', "[0]trim=end_frame=1,loop=loop=-1:size=1,setpts=N/30/TB[bg];[bg][1]overlay=x='460+360*sin(t*0.9)':y='80+60*cos(t*0.7)'[a];[a][2]overlay=x='W-w-40':y='H-h-40',format=yuv420p",
      '-t', String(o.durationS), '-r', '30', '-c:v', 'libx264', '-preset', 'fast', '-crf', '16', '-g', '60', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', o.out,
    ],
  },
  generated({
    name: 'talking-head',
    summary: 'a head and shoulders swaying a few pixels before an out-of-focus background; eyes blink, the mouth opens and closes; mild sensor noise',
    standsFor: 'a video call: low motion, most of the picture static, small local changes — P-frames small, so I-frames stand out most',
    heights: [720, 1080],
    durationS: 20,
    graph: ({ width, height, p }) => {
      const k = height / 720;
      const c = p(720); // the head layer's canvas (square)
      const inHead = `lte(pow((X-${p(360)})/${p(130)},2)+pow((Y-${p(250)})/${p(165)},2),1)`;
      const inBody = `lte(pow((X-${p(360)})/${p(330)},2)+pow((Y-${p(760)})/${p(260)},2),1)`;
      const box = (x: number, y: number, bw: number, bh: number, colour: string, enable?: string) =>
        `drawbox=x=${p(x)}:y=${p(y)}:w=${p(bw)}:h=${p(bh)}:c=${colour}:t=fill${enable ? `:enable='${enable}'` : ''}`;
      const blink = 'lt(mod(t,3.7),0.13)';
      return [
        texture(p(1440), p(810), 'tex'),
        `[tex]crop=${width}:${height}:${p(80)}:${p(45)},gblur=sigma=${(8 * k).toFixed(1)},eq=brightness=-0.12:saturation=0.6[bg]`,
        [
          `color=c=black@0:s=${c}x${c}:r=${FPS}:d=1,format=yuva444p`,
          `geq=lum='if(${inHead},175-60*pow((X-${p(330)})/${p(150)},2)-30*pow((Y-${p(200)})/${p(190)},2),if(${inBody},70+20*sin(X/${(9 * k).toFixed(2)}),0))':cb='if(${inHead},112,150)':cr='if(${inHead},150,110)':a='255*max(${inHead},${inBody})'`,
          box(230, 85, 260, 70, '0x2a1a10@1'),
          `loop=loop=-1:size=1,setpts=N/${FPS}/TB,format=yuva420p`,
          box(300, 230, 34, 14, '0x202020'),
          box(392, 230, 34, 14, '0x202020'),
          box(296, 226, 42, 22, '0xb08070', blink),
          box(388, 226, 42, 22, '0xb08070', blink),
          box(325, 335, 70, 10, '0x501818'),
          box(330, 333, 60, 22, '0x300808', 'lt(mod(t+0.1*floor(t/0.7),0.7),0.3)'),
        ].join(',') + '[head]',
        `[bg][head]overlay=x='${p(280)}+${p(10)}*sin(t*0.7)+${p(4)}*sin(t*2.3)':y='${p(20)}+${p(5)}*sin(t*0.9)',noise=alls=3:allf=t,format=yuv420p`,
      ].join(';');
    },
  }),
  generated({
    name: 'pan-texture',
    summary: 'a camera panning steadily across a detailed natural-looking texture (fractal noise), slight vertical drift, mild sensor noise',
    standsFor: 'a moving camera over a detailed scene: global motion that prediction follows well, so P-frames stay moderate while I-frames carry all the detail',
    heights: [720, 1080],
    durationS: 20,
    graph: ({ width, height, p }) => {
      return [
        texture(p(2880), p(1620), 'tex'),
        `[tex]crop=${width}:${height}:'${p(80)}*t':'${p(450)}+${p(120)}*sin(t*0.4)',noise=alls=2:allf=t,format=yuv420p`,
      ].join(';');
    },
  }),
  generated({
    name: 'high-motion',
    summary: 'a shaking, rotating camera over the texture with a Game-of-Life panel and a test card darting across it; sensor noise',
    standsFor: 'sport or a hand-held camera: high motion and high texture, P-frames nearly as costly as I-frames',
    heights: [720, 1080],
    durationS: 20,
    graph: ({ width, height, p }) => {
      return [
        texture(p(2880), p(1620), 'tex'),
        `[tex]crop=${p(1600)}:${p(1000)}:'${p(640)}+${p(600)}*sin(t*1.9)':'${p(310)}+${p(300)}*sin(t*2.7+1)',rotate=a='0.25*sin(t*1.3)':ow=${width}:oh=${height}[bg]`,
        `life=s=${p(480)}x${p(360)}:r=${FPS}:mold=0:ratio=0.5:seed=11:life_color=#e0e040:death_color=#203060[life]`,
        `testsrc2=s=${p(320)}x${p(240)}:r=${FPS}[card]`,
        `[bg][life]overlay=x='${p(400)}+${p(380)}*sin(t*3.1)':y='${p(180)}+${p(170)}*cos(t*2.3)'[a]`,
        `[a][card]overlay=x='${p(480)}+${p(470)}*cos(t*4.3)':y='${p(240)}+${p(230)}*sin(t*3.7)',noise=alls=4:allf=t,format=yuv420p`,
      ].join(';');
    },
  }),
  generated({
    name: 'screen',
    summary: 'an editor window: menu bar, sidebar, a page of code-like text that scrolls three lines at a time every 1.3 s, a blinking cursor',
    standsFor: 'screen sharing: sharp edges and text, no noise, long static stretches — P-frames almost empty, I-frames full of detail, scroll bursts in between',
    heights: [720, 1080],
    durationS: 20,
    graph: ({ width, height, p, scratch }) => {
      const textFile = join(scratch, 'screen.txt');
      writeFileSync(textFile, screenText());
      const line = p(22);
      const text = (size: number, spacing: number, colour: string, x: number, y: number) =>
        `drawtext=fontfile=${FONT}:textfile=${textFile}:fontsize=${p(size)}:line_spacing=${p(spacing)}:fontcolor=${colour}:x=${p(x)}:y=${p(y)}`;
      return [
        `color=c=0xf4f4f0:s=${p(1000)}x${p(5000)}:r=${FPS}:d=1,${text(17, 5, '0x202020', 56, 8)},loop=loop=-1:size=1,setpts=N/${FPS}/TB,crop=${p(1000)}:${p(642)}:0:'${3 * line}*(floor(t/1.3)+min(1,mod(t,1.3)/0.2))'[doc]`,
        [
          `color=c=0x2b2d31:s=${width}x${height}:r=${FPS}`,
          `drawbox=x=0:y=0:w=${width}:h=${p(36)}:c=0x3c3f44:t=fill`,
          `drawbox=x=0:y=${p(36)}:w=${p(240)}:h=${height - p(36)}:c=0x232529:t=fill`,
          `drawtext=fontfile=${FONT}:text='File  Edit  View  Run  Help':fontsize=${p(16)}:fontcolor=0xdddddd:x=${p(14)}:y=${p(10)}`,
          text(14, 12, '0xa0a4aa', 16, 52),
          `drawbox=x=${p(8)}:y=${p(118)}:w=${p(224)}:h=${p(26)}:c=0x3d6fb0@0.6:t=fill`,
        ].join(',') + '[ui]',
        `[ui][doc]overlay=x=${p(260)}:y=${p(58)},drawbox=x=${p(316)}:y=${p(320)}:w=${Math.max(2, p(2))}:h=${p(18)}:c=black:t=fill:enable='lt(mod(t,1),0.5)',format=yuv420p`,
      ].join(';');
    },
  }),
];

export function findScene(name: string): SceneDefinition | undefined {
  return SCENES.find((s) => s.name === name);
}

export function sceneNames(): string[] {
  return SCENES.map((s) => s.name);
}

/** Where a scene's clip lives: clips/<name>-<height>p30.mp4 under `clipsDir`. */
export function sceneFile(clipsDir: string, name: string, height = 720): string {
  return join(clipsDir, `${name}-${height}p${FPS}.mp4`);
}

/**
 * Makes a scene's clip at `out` unless it exists (written to a temporary name and renamed:
 * an interrupted run never leaves half a clip that looks made). Returns `out`.
 */
export async function makeScene(scene: SceneDefinition, o: { height: number; out: string; durationS?: number; force?: boolean }): Promise<string> {
  checkHeight(scene, o.height);
  if (!o.force && existsSync(o.out)) return o.out;
  mkdirSync(dirname(o.out), { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'testbed-scene-'));
  const tmp = `${o.out}.tmp-${process.pid}.mp4`;
  try {
    await runFfmpeg(scene.args({ height: o.height, durationS: o.durationS ?? scene.durationS, out: tmp, scratch }));
    renameSync(tmp, o.out);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
  return o.out;
}

/** A clip an experiment or command names: a bundled scene (made on demand) or a file. */
export interface ClipRef {
  /** Names the clip in cell ids, summaries and dashboards. */
  label: string;
  file: string;
  /** The scene and height when the clip is a bundled scene; null for a user's file. */
  scene: { name: string; height: number } | null;
}

const SCENE_REF_RE = /^([a-z][a-z0-9-]*)(?:@(\d+)p?)?$/;

function checkHeight(scene: SceneDefinition, height: number): void {
  if (!scene.heights.includes(height)) throw new UsageError(`scene '${scene.name}' is made at ${scene.heights.map((h) => `${h}p`).join(' or ')}, not ${height}p`);
}

/** A bundled scene at `height` (its first height unless given), labelled `name` or `name-<height>p`. */
export function sceneRef(scene: SceneDefinition, bundledDir: string, height = scene.heights[0]): ClipRef {
  checkHeight(scene, height);
  const label = height === scene.heights[0] ? scene.name : `${scene.name}-${height}p`;
  return { label, file: sceneFile(bundledDir, scene.name, height), scene: { name: scene.name, height } };
}

/**
 * `talking-head` (720p) or `talking-head@1080` names a bundled scene; anything else is a
 * path, relative to `baseDir`. A scene-like word that is neither a scene nor a file fails
 * naming the scenes.
 */
export function clipRef(ref: string, baseDir: string, bundledDir: string): ClipRef {
  const m = SCENE_REF_RE.exec(ref);
  const scene = m ? findScene(m[1]) : undefined;
  if (m && scene) return sceneRef(scene, bundledDir, m[2] === undefined ? undefined : Number(m[2]));
  const file = isAbsolute(ref) ? ref : resolve(baseDir, ref);
  if (!existsSync(file)) {
    if (m) throw new UsageError(`no scene or file '${ref}' (bundled scenes: ${sceneNames().join(', ')})`);
    throw new UsageError(`no such file: ${file}`);
  }
  const label = basename(file).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'clip';
  return { label, file, scene: null };
}

/** Makes the clip if it is a scene not made yet; a user's file is left alone. */
export async function ensureClip(ref: ClipRef): Promise<void> {
  if (ref.scene && !existsSync(ref.file)) await makeScene(findScene(ref.scene.name)!, { height: ref.scene.height, out: ref.file });
}
