/**
 * Spec validation: every error is one line naming the file and the JSON path, and arm
 * options are checked by the real `testbed offer|answer` parser (a typo in a spec fails
 * before any cell runs).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildCli } from '../../src/cli/main';
import { UsageError } from '../../src/errors';
import { argumentIndex, commanderArgChecker } from '../../src/experiments/arg-check';
import { DEFAULT_QUEUE_MS, parseSpec, projectRoot, type ExperimentSpec } from '../../src/experiments/spec';
import { removeTempDirs, ROOT, tempDir } from '../helpers/cli';

const check = commanderArgChecker(buildCli);
const FILE = 'experiments/x.json';

const base = {
  name: 'x',
  duration_s: 10,
  arms: { single: { offer: ['--mode', 'single'] }, dual: { offer: ['--mode', 'dual'], answer: [] } },
  traces: 'none',
};

function parse(spec: unknown, file = FILE): ExperimentSpec {
  return parseSpec(typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2), file, check);
}

/** The spec is rejected with exactly this one-line message. */
function rejects(spec: unknown, message: string | RegExp): void {
  assert.throws(
    () => parse(spec),
    (e: unknown) => {
      assert.ok(e instanceof UsageError, `a UsageError, got ${String(e)}`);
      assert.equal(e.message.split('\n').length, 1, 'one line');
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

after(removeTempDirs);

describe('experiment spec: a valid spec', () => {
  it('takes the defaults and keeps the arms in the order written', () => {
    const s = parse(base);
    assert.equal(s.name, 'x');
    assert.deepEqual(s.arms.map((a) => a.name), ['single', 'dual']);
    assert.deepEqual(s.arms[1].offer, ['--mode', 'dual']);
    assert.equal(s.arms[0].rateControl, 'gcc', "the CLI's default controller");
    assert.deepEqual(s.traces, [{ kind: 'none', label: 'none' }]);
    assert.equal(s.warmupS, 0);
    assert.equal(s.seed, 1);
    assert.equal(s.repetitions, 1);
    assert.equal(s.psnr, false);
    assert.deepEqual(s.clips, [{ label: 'default', file: resolve(projectRoot(), 'clips/default-720p30.mp4'), scene: { name: 'default', height: 720 } }]);
    assert.equal(s.clipInCellId, false, 'one clip: cell ids as before clips were a dimension');
    assert.deepEqual(s.link, { qdisc: 'tbf', queueMs: DEFAULT_QUEUE_MS, allowMissing: false });
  });

  it('reads traces with transforms, labels and paths relative to the spec file', () => {
    const dir = tempDir('spec');
    writeFileSync(join(dir, 'my.trace'), '# testbed-trace v1\ntime_s,up_kbit\n0,1000\n');
    const s = parse(
      {
        ...base,
        arms: { o: { offer: ['--rate-control', 'oracle', '--bitrate', 500000] } },
        traces: ['4g-1', { trace: 'my.trace', scale_mean_kbit: 2000, clip_kbit: [300, 6000], offset_s: 30 }, { trace: '4g-1', label: '4g-1-late', offset_s: 120 }],
        link: { qdisc: 'htb', queue_bytes: 30000, allow_missing: true },
      },
      join(dir, 'spec.json'),
    );
    assert.deepEqual(s.traces, [
      { kind: 'trace', label: '4g-1', trace: '4g-1', transforms: {} },
      { kind: 'trace', label: 'my', trace: join(dir, 'my.trace'), transforms: { scaleMeanKbit: 2000, clipKbit: [300, 6000], offsetS: 30 } },
      { kind: 'trace', label: '4g-1-late', trace: '4g-1', transforms: { offsetS: 120 } },
    ]);
    assert.deepEqual(s.link, { qdisc: 'htb', queueBytes: 30000, allowMissing: true });
    assert.equal(s.arms[0].rateControl, 'oracle');
    assert.deepEqual(s.arms[0].offer, ['--rate-control', 'oracle', '--bitrate', '500000'], 'numbers become arguments');
  });

  it('accepts {seed} in arm options, checking them with a stand-in number', () => {
    const s = parse({ ...base, arms: { a: { offer: ['--bitrate', '{seed}0000'] } } });
    assert.deepEqual(s.arms[0].offer, ['--bitrate', '{seed}0000']);
  });

  it('every shipped spec in experiments/ is valid', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(join(ROOT, 'experiments')).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 5, `specs shipped: ${files}`);
    for (const f of files) {
      const { readFileSync } = await import('node:fs');
      const path = join(ROOT, 'experiments', f);
      assert.doesNotThrow(() => parseSpec(readFileSync(path, 'utf8'), path, check), f);
    }
  });
});

describe('experiment spec: clips as a matrix dimension', () => {
  it('scene names, scene@height, files relative to the spec and labels', () => {
    const dir = tempDir('spec-clips');
    writeFileSync(join(dir, 'street cam.mp4'), 'not read at parse time');
    writeFileSync(join(dir, 'b.mkv'), '');
    const s = parse({ ...base, clips: ['talking-head', 'screen@1080', { clip: 'street cam.mp4' }, { clip: 'b.mkv', label: 'mine' }] }, join(dir, 'x.json'));
    assert.deepEqual(
      s.clips.map((c) => [c.label, c.file, c.scene]),
      [
        ['talking-head', resolve(projectRoot(), 'clips/talking-head-720p30.mp4'), { name: 'talking-head', height: 720 }],
        ['screen-1080p', resolve(projectRoot(), 'clips/screen-1080p30.mp4'), { name: 'screen', height: 1080 }],
        ['street-cam', join(dir, 'street cam.mp4'), null],
        ['mine', join(dir, 'b.mkv'), null],
      ],
    );
    assert.equal(s.clipInCellId, true);
  });

  it('errors name the entry', () => {
    rejects({ ...base, clip: 'screen', clips: ['screen'] }, "experiments/x.json: give 'clip' or 'clips', not both");
    rejects({ ...base, clips: [] }, 'experiments/x.json: clips: must be a non-empty list of scene names or files, got a list');
    rejects({ ...base, clips: 'screen' }, /^experiments\/x\.json: clips: must be a non-empty list of scene names or files, got string "screen"$/);
    rejects({ ...base, clips: ['screen', 'sreen'] }, /^experiments\/x\.json: clips\[1\]: no scene or file 'sreen' \(bundled scenes: default, talking-head, pan-texture, high-motion, screen\)$/);
    rejects({ ...base, clips: ['default@1080'] }, 'experiments/x.json: clips[0]: scene \'default\' is made at 720p, not 1080p');
    rejects({ ...base, clips: ['screen', { clip: 'screen' }] }, /^experiments\/x\.json: clips\[1\]: label 'screen' is also clips\[0\]'s/);
    rejects({ ...base, clips: [{ clip: 'screen', label: 'a b' }] }, /^experiments\/x\.json: clips\[0\]\.label: clip label 'a b' must start/);
    rejects({ ...base, clips: [{ clip: 'screen', lable: 'x' }] }, 'experiments/x.json: clips[0].lable: unknown field (known: clip, label)');
  });
});

describe('experiment spec: each error is one line with file and JSON path', () => {
  it('not JSON: the line of the error', () => {
    rejects('{\n  "name": "x",\n  "duration_s": 10,,\n}', /^experiments\/x\.json line 3: not valid JSON \(/);
  });

  it('not an object, missing and unknown fields', () => {
    rejects('[1]', 'experiments/x.json: must hold one JSON object, got a list');
    rejects({ ...base, name: undefined }, "experiments/x.json: missing field 'name'");
    rejects({ ...base, duraton_s: 5 }, /^experiments\/x\.json: duraton_s: unknown field \(known: name, description, clip, clips, duration_s,/);
    rejects({ ...base, link: { qdisc: 'tbf', queue: 5 } }, /^experiments\/x\.json: link\.queue: unknown field \(known: qdisc, queue_ms, queue_bytes, allow_missing\)$/);
    rejects({ ...base, arms: { a: { ofer: [] } } }, 'experiments/x.json: arms.a.ofer: unknown field (known: offer, answer)');
  });

  it('numbers, booleans and names', () => {
    rejects({ ...base, duration_s: 0 }, 'experiments/x.json: duration_s: must be a number > 0, got 0');
    rejects({ ...base, duration_s: '10' }, 'experiments/x.json: duration_s: must be a number > 0, got string "10"');
    rejects({ ...base, warmup_s: -1 }, 'experiments/x.json: warmup_s: must be a number >= 0, got -1');
    rejects({ ...base, repetitions: 1.5 }, 'experiments/x.json: repetitions: must be an integer >= 1, got 1.5');
    rejects({ ...base, seed: -3 }, 'experiments/x.json: seed: must be an integer >= 0 and <= 4294967295, got -3');
    rejects({ ...base, psnr: 'yes' }, 'experiments/x.json: psnr: must be true or false, got string "yes"');
    rejects({ ...base, name: 'my experiment' }, /^experiments\/x\.json: name: name 'my experiment' must start with a letter or digit and hold only/);
    rejects({ ...base, clip: 'nope.mp4' }, `experiments/x.json: clip: no such file: ${resolve('experiments', 'nope.mp4')}`);
  });

  it('arms: shape and names', () => {
    rejects({ ...base, arms: [] }, 'experiments/x.json: arms: must be an object of arm name → { "offer": [...], "answer": [...] }, got a list');
    rejects({ ...base, arms: {} }, 'experiments/x.json: arms: must name at least one arm');
    rejects({ ...base, arms: { '1st': {} } }, /^experiments\/x\.json: arms\.1st: arm name '1st' must start with a letter and/);
    rejects({ ...base, arms: { a__b: {} } }, /^experiments\/x\.json: arms\.a__b: arm name 'a__b' .*no '__'/);
    rejects({ ...base, arms: { a: { offer: '--mode dual' } } }, "experiments/x.json: arms.a.offer: must be a list of command-line arguments of 'testbed offer', got string \"--mode dual\"");
    rejects({ ...base, arms: { a: { offer: ['--mode', true] } } }, 'experiments/x.json: arms.a.offer[1]: must be a string (one argument), got boolean true');
  });

  it('arm options are checked by the real CLI parser, pointing at the argument', () => {
    rejects({ ...base, arms: { dual: { offer: ['--keyint', '30', '--mdoe', 'dual'] } } }, "experiments/x.json: arms.dual.offer[2]: unknown option '--mdoe' (Did you mean --mode?)");
    rejects({ ...base, arms: { a: { offer: ['--mode', 'triple'] } } }, "experiments/x.json: arms.a.offer[0]: option '--mode <mode>' argument 'triple' is invalid. Allowed choices are single, dual.");
    rejects({ ...base, arms: { a: { offer: ['--mode', 'single', '--bitrate', 'fast'] } } }, "experiments/x.json: arms.a.offer[2]: --bitrate must be a number between 10000 and 1000000000, got 'fast'");
    rejects({ ...base, arms: { a: { offer: ['--bitrate'] } } }, "experiments/x.json: arms.a.offer[0]: option '--bitrate <bps>' argument missing");
    rejects({ ...base, arms: { a: { answer: ['--playout-delay', '5,1'] } } }, "experiments/x.json: arms.a.answer[0]: --playout-delay must be MIN,MAX in ms with MIN <= MAX, got '5,1'");
    rejects({ ...base, arms: { a: { answer: ['--mode', 'dual'] } } }, "experiments/x.json: arms.a.answer[0]: unknown option '--mode'");
    rejects({ ...base, arms: { a: { offer: ['--mode dual'] } } }, "experiments/x.json: arms.a.offer[0]: unknown option '--mode dual' (an option and its value are two list items)");
    rejects({ ...base, arms: { a: { offer: ['stray'] } } }, /^experiments\/x\.json: arms\.a\.offer: too many arguments for 'offer'/);
  });

  it('options the runner sets are refused in arms', () => {
    rejects({ ...base, arms: { a: { offer: ['--duration', '5'] } } }, 'experiments/x.json: arms.a.offer[0]: --duration is set by the runner for every cell');
    rejects({ ...base, arms: { a: { answer: ['--out=here'] } } }, 'experiments/x.json: arms.a.answer[0]: --out is set by the runner for every cell');
    rejects({ ...base, arms: { a: { answer: ['--record-to', 'x.mp4'] } } }, 'experiments/x.json: arms.a.answer[0]: --record-to is set by the runner for every cell');
  });

  it('traces and link', () => {
    rejects({ ...base, traces: [] }, 'experiments/x.json: traces: must be "none" or a non-empty list of traces, got a list');
    rejects({ ...base, traces: [5] }, 'experiments/x.json: traces[0]: must be a trace name, "none" or { "trace": ..., transforms }, got number 5');
    rejects({ ...base, traces: [{ trace: 'a.trace' }] }, `experiments/x.json: traces[0].trace: no such file: ${resolve('experiments', 'a.trace')}`);
    rejects({ ...base, traces: [{ trace: '4g-1', clip_kbit: [300] }] }, 'experiments/x.json: traces[0].clip_kbit: must be [min, max] in kbit/s, got a list');
    rejects({ ...base, traces: [{ trace: '4g-1', clip_kbit: [600, 300] }] }, 'experiments/x.json: traces[0].clip_kbit: min 600 must be below max 300');
    rejects({ ...base, traces: [{ trace: '4g-1', scale_mean_kbit: 0 }] }, 'experiments/x.json: traces[0].scale_mean_kbit: must be a number > 0, got 0');
    rejects({ ...base, traces: ['4g-1', { trace: '4g-1', offset_s: 60 }] }, "experiments/x.json: traces[1]: label '4g-1' is also traces[0]'s: give each a distinct \"label\" (it names the cells)");
    rejects({ ...base, traces: ['4g-1'], link: { queue_ms: 50, queue_bytes: 9000 } }, 'experiments/x.json: link: give queue_ms or queue_bytes, not both');
    rejects({ ...base, traces: ['4g-1'], link: { qdisc: 'netem' } }, 'experiments/x.json: link.qdisc: must be "tbf" or "htb", got \'netem\'');
    rejects({ ...base, link: { qdisc: 'tbf' } }, 'experiments/x.json: link: is set but no trace is replayed (traces is "none")');
  });

  it('an oracle arm needs a replayed trace', () => {
    rejects(
      { ...base, arms: { o: { offer: ['--rate-control', 'oracle'] } } },
      'experiments/x.json: arms.o: --rate-control oracle needs a replayed trace, but traces include "none" (an unshaped run)',
    );
  });
});

describe('argumentIndex', () => {
  it('finds the option a message names, the last occurrence winning', () => {
    assert.equal(argumentIndex("unknown option '--mdoe'", ['--mode', 'x', '--mdoe']), 2);
    assert.equal(argumentIndex("option '--mode <mode>' argument 'x' is invalid.", ['--mode', 'a', '--mode', 'x']), 2);
    assert.equal(argumentIndex('--bitrate must be a number', ['--bitrate=abc']), 0);
    assert.equal(argumentIndex("too many arguments for 'offer'", ['x']), null);
  });
});
