/**
 * Experiment specs: JSON files in `experiments/` that name the arms (command-line
 * options of `testbed offer` and `testbed answer`), the traces and how long to run.
 * Everything is checked before the first cell runs — a typo must fail in a second, not
 * after hours — and each error is one line naming the file and the JSON path.
 *
 * Relative paths in a spec (clips, trace files) are relative to the spec file's folder,
 * so a spec means the same thing whatever directory the runner starts in (Slurm jobs
 * do not start where the user typed the command).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { clipText, UsageError } from '../errors';
import { clipsDir, projectRoot } from '../paths';
import { clipRef, DEFAULT_SCENE, type ClipRef } from '../media/scenes';

export { projectRoot };

export type PeerRole = 'offer' | 'answer';

/**
 * Checks one peer's arguments as the real `testbed offer|answer` would parse them,
 * without running anything. Returns the parsed options, or the error and the index of
 * the argument it concerns (null when it concerns no single argument).
 */
export type ArgChecker = (
  role: PeerRole,
  args: string[],
) => { ok: true; options: Record<string, unknown> } | { ok: false; message: string; index: number | null };

export interface ArmSpec {
  name: string;
  offer: string[];
  answer: string[];
  /** The offer's --rate-control, as the CLI parsed it (oracle arms need the replayed trace). */
  rateControl: string;
}

export interface TraceTransforms {
  /** Scale the up capacity so its time-weighted mean over the run is this, kbit/s. */
  scaleMeanKbit?: number;
  /** Clip capacities to [min, max] kbit/s (after scaling). */
  clipKbit?: [number, number];
  /** Start this many seconds into the trace. */
  offsetS?: number;
}

export type TraceEntry =
  | { kind: 'none'; label: 'none' }
  | {
      kind: 'trace';
      /** Used in cell ids and results: the trace's base name unless the spec gives `label`. */
      label: string;
      /** A bundled trace name (`4g-1`) or an absolute path. */
      trace: string;
      transforms: TraceTransforms;
    };

export interface LinkSpec {
  qdisc: 'tbf' | 'htb';
  queueMs?: number;
  queueBytes?: number;
  /** Run even when the kernel cannot emulate part of a trace (delay, loss); record what was not. */
  allowMissing: boolean;
}

export interface ExperimentSpec {
  /** The spec file as given (for messages) and resolved. */
  file: string;
  path: string;
  name: string;
  description: string;
  /**
   * The clips (scenes) every arm × trace runs on: a matrix dimension. A bundled scene's
   * file may not exist yet: the runner makes it before the first cell.
   */
  clips: ClipRef[];
  /** Cell ids name the clip: the spec lists `clips` (a spec with one `clip` keeps the older, shorter ids). */
  clipInCellId: boolean;
  durationS: number;
  warmupS: number;
  seed: number;
  repetitions: number;
  arms: ArmSpec[];
  traces: TraceEntry[];
  link: LinkSpec;
  /** Record the rendered pictures and report PSNR against the clip (costs CPU). */
  psnr: boolean;
  /** Keep the recordings PSNR was measured on (large: CRF 10). */
  keepRecordings: boolean;
}

/** Options the runner sets for every cell; an arm setting them would break the run. */
export const RUNNER_OPTIONS: Record<PeerRole, readonly string[]> = {
  offer: ['--out', '--signaling', '--signaling-host', '--signaling-port', '--signaling-path', '--ice-host', '--play-from', '--loop', '--duration', '--oracle-trace', '--trace-start-ms', '--help', '--version'],
  answer: ['--out', '--signaling', '--signaling-host', '--signaling-port', '--signaling-path', '--ice-host', '--record-to', '--help', '--version'],
};

/** Replaced in arm arguments by the cell's seed (for anything random a peer or controller does). */
export const SEED_PLACEHOLDER = '{seed}';

/**
 * Names that become directory names and parts of cell ids (`<arm>__<trace>__r<k>`). Arm
 * names start with a letter: JSON objects list integer-like keys first, which would
 * reorder the arms (and the cells).
 */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const DEFAULT_QUEUE_MS = 100;

const TOP_FIELDS = ['name', 'description', 'clip', 'clips', 'duration_s', 'warmup_s', 'seed', 'repetitions', 'arms', 'traces', 'link', 'psnr', 'keep_recordings'];
const TRACE_FIELDS = ['trace', 'label', 'scale_mean_kbit', 'clip_kbit', 'offset_s'];
const LINK_FIELDS = ['qdisc', 'queue_ms', 'queue_bytes', 'allow_missing'];
const ARM_FIELDS = ['offer', 'answer'];
const CLIP_FIELDS = ['clip', 'label'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

class Where {
  constructor(
    readonly file: string,
    readonly path: string,
  ) {}
  at(key: string | number): Where {
    if (typeof key === 'number') return new Where(this.file, `${this.path}[${key}]`);
    return new Where(this.file, this.path ? `${this.path}.${key}` : key);
  }
  fail(msg: string): never {
    // Keys and values come from the file: the message stays one short line whatever they hold.
    throw new UsageError(`${this.file}: ${clipText(`${this.path ? this.path + ': ' : ''}${msg}`, 250)}`);
  }
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${clipText(JSON.stringify(v), 60)}`;
}

function onlyKnown(obj: { [k: string]: Json }, known: string[], w: Where): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) w.at(k).fail(`unknown field (known: ${known.join(', ')})`);
  }
}

function num(v: Json | undefined, w: Where, o: { min?: number; above?: number; integer?: boolean; max?: number }): number {
  const kind = o.integer ? 'an integer' : 'a number';
  const bound = o.above !== undefined ? ` > ${o.above}` : o.min !== undefined ? ` >= ${o.min}` : '';
  const upper = o.max !== undefined ? ` and <= ${o.max}` : '';
  const want = `${kind}${bound}${upper}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) w.fail(`must be ${want}, got ${describe(v)}`);
  if (o.integer && !Number.isInteger(v)) w.fail(`must be ${want}, got ${v}`);
  if ((o.above !== undefined && v <= o.above) || (o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) {
    w.fail(`must be ${want}, got ${v}`);
  }
  return v;
}

function str(v: Json | undefined, w: Where): string {
  if (typeof v !== 'string' || v === '') w.fail(`must be a non-empty string, got ${describe(v)}`);
  return v;
}

function bool(v: Json | undefined, w: Where): boolean {
  if (typeof v !== 'boolean') w.fail(`must be true or false, got ${describe(v)}`);
  return v;
}

function name(v: Json | undefined, w: Where, what: string): string {
  const s = str(v, w);
  const letterFirst = what === 'arm name';
  if (!NAME_RE.test(s) || s.includes('__') || (letterFirst && !/^[A-Za-z]/.test(s))) {
    w.fail(`${what} '${s}' must start with a ${letterFirst ? 'letter' : 'letter or digit'} and hold only letters, digits, '.', '-', '_' (no '__': it separates the parts of cell ids)`);
  }
  return s;
}

/** JSON.parse's "at position N" as a line number, so the error points into the file. */
function jsonError(text: string, file: string, e: Error): never {
  const m = /position (\d+)/.exec(e.message);
  const where = m ? ` line ${text.slice(0, Number(m[1])).split('\n').length}` : '';
  throw new UsageError(`${file}${where}: not valid JSON (${clipText(e.message.replace(/ in JSON at position \d+.*$/s, ''))})`);
}

/** Reads and validates a spec file. */
export function loadSpec(file: string, check: ArgChecker): ExperimentSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read spec ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSpec(text, file, check);
}

/**
 * Validates a spec's text. `file` names it in errors and anchors its relative paths.
 * Trace files are only resolved here; loading and transforming them is the caller's
 * (see traces.ts), so that this stays a pure check of the JSON.
 */
export function parseSpec(text: string, file: string, check: ArgChecker): ExperimentSpec {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    jsonError(text, file, e as Error);
  }
  const top: Where = new Where(file, '');
  if (!isObject(json)) top.fail(`must hold one JSON object, got ${describe(json)}`);
  onlyKnown(json, TOP_FIELDS, top);
  const specDir = dirname(resolve(file));
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(specDir, p));

  for (const required of ['name', 'duration_s', 'arms', 'traces']) {
    if (json[required] === undefined) top.fail(`missing field '${required}'`);
  }
  const specName = name(json.name, top.at('name'), 'name');
  const description = json.description === undefined ? '' : str(json.description, top.at('description'));
  const durationS = num(json.duration_s, top.at('duration_s'), { above: 0 });
  const warmupS = json.warmup_s === undefined ? 0 : num(json.warmup_s, top.at('warmup_s'), { min: 0 });
  const seed = json.seed === undefined ? 1 : num(json.seed, top.at('seed'), { min: 0, max: 0xffffffff, integer: true });
  const repetitions = json.repetitions === undefined ? 1 : num(json.repetitions, top.at('repetitions'), { min: 1, integer: true });
  const psnr = json.psnr === undefined ? false : bool(json.psnr, top.at('psnr'));
  const keepRecordings = json.keep_recordings === undefined ? false : bool(json.keep_recordings, top.at('keep_recordings'));

  if (json.clip !== undefined && json.clips !== undefined) top.fail("give 'clip' or 'clips', not both");
  const clips = parseClips(json, top, specDir);

  const traces = parseTraces(json.traces, top.at('traces'), rel);
  const link = parseLink(json.link, top.at('link'));
  const arms = parseArms(json.arms, top.at('arms'), check);
  const shaped = traces.some((t) => t.kind === 'trace');
  for (const arm of arms) {
    if (arm.rateControl === 'oracle' && traces.some((t) => t.kind === 'none')) {
      top.at('arms').at(arm.name).fail(`--rate-control oracle needs a replayed trace, but traces include "none" (an unshaped run)`);
    }
  }
  if (!shaped && json.link !== undefined) top.at('link').fail('is set but no trace is replayed (traces is "none")');

  return {
    file,
    path: resolve(file),
    name: specName,
    description,
    clips,
    clipInCellId: json.clips !== undefined,
    durationS,
    warmupS,
    seed,
    repetitions,
    arms,
    traces,
    link,
    psnr,
    keepRecordings,
  };
}

/** `clip` (one, the default scene when absent) or `clips` (a list): scene names or files relative to the spec. */
function parseClips(json: { [k: string]: Json }, top: Where, specDir: string): ClipRef[] {
  const one = (v: Json | undefined, w: Where): ClipRef => {
    const obj = typeof v === 'string' ? { clip: v } : isObject(v) ? v : w.fail(`must be a scene name, a file or { "clip": ..., "label": ... }, got ${describe(v)}`);
    onlyKnown(obj, CLIP_FIELDS, w);
    const refText = str(obj.clip, typeof v === 'string' ? w : w.at('clip'));
    let ref: ClipRef;
    try {
      ref = clipRef(refText, specDir, clipsDir());
    } catch (e) {
      return (typeof v === 'string' ? w : w.at('clip')).fail((e as Error).message);
    }
    if (obj.label !== undefined) ref = { ...ref, label: name(obj.label, w.at('label'), 'clip label') };
    else name(ref.label, w, "clip label (give one with { \"clip\": ..., \"label\": ... })");
    return ref;
  };
  if (json.clips === undefined) return [one(json.clip ?? DEFAULT_SCENE, top.at('clip'))];
  const w: Where = top.at('clips');
  const list = json.clips;
  if (!Array.isArray(list) || list.length === 0) w.fail(`must be a non-empty list of scene names or files, got ${describe(list)}`);
  const refs = list.map((v, i) => one(v, w.at(i)));
  refs.forEach((r, i) => {
    const first = refs.findIndex((o) => o.label === r.label);
    if (first !== i) w.at(i).fail(`label '${r.label}' is also clips[${first}]'s: give each a distinct "label" (it names the cells)`);
  });
  return refs;
}

function parseArms(v: Json | undefined, w: Where, check: ArgChecker): ArmSpec[] {
  if (!isObject(v)) w.fail(`must be an object of arm name → { "offer": [...], "answer": [...] }, got ${describe(v)}`);
  const names = Object.keys(v);
  if (names.length === 0) w.fail('must name at least one arm');
  return names.map((armName) => {
    const aw: Where = w.at(armName);
    name(armName, aw, 'arm name');
    const arm = v[armName];
    if (!isObject(arm)) aw.fail(`must be an object { "offer": [...], "answer": [...] }, got ${describe(arm)}`);
    onlyKnown(arm, ARM_FIELDS, aw);
    const offer = parseArgs(arm.offer, aw.at('offer'), 'offer', check);
    const answer = parseArgs(arm.answer, aw.at('answer'), 'answer', check);
    return { name: armName, offer: offer.args, answer: answer.args, rateControl: String(offer.options.rateControl ?? 'gcc') };
  });
}

/** A list of CLI arguments (numbers allowed for convenience), checked by the real parser. */
function parseArgs(v: Json | undefined, w: Where, role: PeerRole, check: ArgChecker): { args: string[]; options: Record<string, unknown> } {
  if (v === undefined) v = [];
  if (!Array.isArray(v)) w.fail(`must be a list of command-line arguments of 'testbed ${role}', got ${describe(v)}`);
  const args = v.map((a, i) => {
    if (typeof a === 'number' && Number.isFinite(a)) return String(a);
    if (typeof a !== 'string') return w.at(i).fail(`must be a string (one argument), got ${describe(a)}`);
    return a;
  });
  args.forEach((a, i) => {
    const flag = a.split('=')[0];
    if (RUNNER_OPTIONS[role].includes(flag)) w.at(i).fail(`${flag} is set by the runner for every cell`);
  });
  // Checked with a stand-in seed, so that numeric options holding {seed} parse.
  const r = check(role, args.map((a) => a.split(SEED_PLACEHOLDER).join('1')));
  if (!r.ok) {
    const at: Where = r.index === null ? w : w.at(r.index);
    const hint = r.index !== null && /^--?\S+\s+\S/.test(args[r.index]) ? ' (an option and its value are two list items)' : '';
    at.fail(r.message + hint);
  }
  return { args, options: r.options };
}

function parseTraces(v: Json | undefined, w: Where, rel: (p: string) => string): TraceEntry[] {
  if (v === 'none') return [{ kind: 'none', label: 'none' }];
  if (!Array.isArray(v) || v.length === 0) w.fail(`must be "none" or a non-empty list of traces, got ${describe(v)}`);
  const entries = v.map((item, i) => parseTrace(item, w.at(i), rel));
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const first = seen.get(e.label);
    if (first !== undefined) {
      w.at(i).fail(`label '${e.label}' is also traces[${first}]'s: give each a distinct "label" (it names the cells)`);
    }
    seen.set(e.label, i);
  });
  return entries;
}

function parseTrace(item: Json, w: Where, rel: (p: string) => string): TraceEntry {
  if (item === 'none') return { kind: 'none', label: 'none' };
  const obj: { [k: string]: Json } = typeof item === 'string' ? { trace: item } : isObject(item) ? item : w.fail(`must be a trace name, "none" or { "trace": ..., transforms }, got ${describe(item)}`);
  onlyKnown(obj, TRACE_FIELDS, w);
  const ref = str(obj.trace, w.at('trace'));
  // A bare name is a bundled trace; anything path-like is a file relative to the spec.
  const isPath = ref.includes('/') || ref.endsWith('.trace');
  const trace = isPath ? rel(ref) : ref;
  if (isPath && !existsSync(trace)) w.at('trace').fail(`no such file: ${trace}`);
  const transforms: TraceTransforms = {};
  if (obj.scale_mean_kbit !== undefined) transforms.scaleMeanKbit = num(obj.scale_mean_kbit, w.at('scale_mean_kbit'), { above: 0 });
  if (obj.clip_kbit !== undefined) {
    const c = obj.clip_kbit;
    const cw: Where = w.at('clip_kbit');
    if (!Array.isArray(c) || c.length !== 2) cw.fail(`must be [min, max] in kbit/s, got ${describe(c)}`);
    const lo = num(c[0], w.at('clip_kbit').at(0), { min: 0 });
    const hi = num(c[1], w.at('clip_kbit').at(1), { above: 0 });
    if (lo >= hi) w.at('clip_kbit').fail(`min ${lo} must be below max ${hi}`);
    transforms.clipKbit = [lo, hi];
  }
  if (obj.offset_s !== undefined) transforms.offsetS = num(obj.offset_s, w.at('offset_s'), { min: 0 });
  const label = obj.label === undefined ? basename(ref, '.trace') : str(obj.label, w.at('label'));
  name(label, obj.label === undefined ? w.at('trace') : w.at('label'), 'trace label');
  if (label === 'none') w.at('label').fail(`'none' is reserved for unshaped runs`);
  return { kind: 'trace', label, trace, transforms };
}

function parseLink(v: Json | undefined, w: Where): LinkSpec {
  if (v === undefined) return { qdisc: 'tbf', queueMs: DEFAULT_QUEUE_MS, allowMissing: false };
  if (!isObject(v)) w.fail(`must be an object { "qdisc", "queue_ms" | "queue_bytes", "allow_missing" }, got ${describe(v)}`);
  onlyKnown(v, LINK_FIELDS, w);
  const qdisc = v.qdisc === undefined ? 'tbf' : str(v.qdisc, w.at('qdisc'));
  const qw: Where = w.at('qdisc');
  if (qdisc !== 'tbf' && qdisc !== 'htb') qw.fail(`must be "tbf" or "htb", got '${qdisc}'`);
  if (v.queue_ms !== undefined && v.queue_bytes !== undefined) w.fail('give queue_ms or queue_bytes, not both');
  const link: LinkSpec = { qdisc, allowMissing: v.allow_missing === undefined ? false : bool(v.allow_missing, w.at('allow_missing')) };
  if (v.queue_bytes !== undefined) link.queueBytes = num(v.queue_bytes, w.at('queue_bytes'), { min: 1, integer: true });
  else link.queueMs = v.queue_ms === undefined ? DEFAULT_QUEUE_MS : num(v.queue_ms, w.at('queue_ms'), { min: 1, integer: true });
  return link;
}
