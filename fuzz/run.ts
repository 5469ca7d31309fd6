/**
 * The fuzz pass (a script, not a timed test; `test/fuzz/fuzz.test.ts` runs a short seeded
 * pass of the same code in the suite):
 *
 *   npm run build && node dist/fuzz/run.js [--iterations N] [--seed S] [--target NAME]
 *
 * For each target (targets.ts): N inputs (default 1,000,000), 90 % mutated from its valid
 * seeds (mutate.ts), 10 % random. Every input must parse or fail with the parser's own
 * error type, in one line of at most MAX_MESSAGE characters; what parses must hold only
 * finite numbers. Printed per target: parsed / rejected, failures (the first few with
 * their input), the slowest input, inputs per second and the heap's high-water mark.
 */
import { fuzz, MAX_MESSAGE } from './engine';
import { targets } from './targets';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function main(): number {
  const iterations = Number(arg('--iterations', '1000000'));
  const seed = Number(arg('--seed', '1'));
  const only = arg('--target', '');
  if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(seed)) {
    process.stderr.write('fuzz: --iterations and --seed take whole numbers\n');
    return 2;
  }
  const chosen = targets().filter((t) => !only || t.name === only);
  if (chosen.length === 0) {
    process.stderr.write(`fuzz: no target '${only}' (targets: ${targets().map((t) => t.name).join(', ')})\n`);
    return 2;
  }
  console.log(`fuzz: ${iterations} inputs per target, seed ${seed}; errors must be one line of at most ${MAX_MESSAGE} characters`);
  console.log(['target', 'parsed', 'rejected', 'failures', 'slowest ms', 'inputs/s', 'heap max MB'].join('\t'));
  let failed = 0;
  for (const t of chosen) {
    const r = fuzz(t, iterations, seed);
    failed += r.failures.length;
    console.log([t.name, r.parsed, r.rejected, r.failures.length, r.slowestMs.toFixed(1), Math.round(r.perSecond), (r.heapMaxBytes / 1e6).toFixed(0)].join('\t'));
    for (const f of r.failures.slice(0, 3)) console.log(`  FAIL ${f.problem}\n    input (base64): ${f.input.toString('base64').slice(0, 400)}`);
  }
  return failed ? 1 : 0;
}

process.exitCode = main();
