/**
 * Mutations for the fuzz pass: what AFL-style fuzzers do to a seed (bit flips, interesting
 * bytes, inserted, deleted and duplicated runs, truncation, splices of two seeds), and for
 * text inputs the same on tokens (numbers replaced by extremes, lines repeated, dropped or
 * swapped). Deterministic from the seed of the random source.
 */
import { mulberry32 } from '../src/prng';

export type Random = () => number;

/** Seeded: the same inputs on every run. */
export const random = (seed: number): Random => mulberry32(seed);

const int = (r: Random, n: number) => Math.floor(r() * n);
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x20, 0x10];

/** One to four byte-level mutations of `seed`, or a splice with `other`. */
export function mutateBytes(seed: Buffer, other: Buffer, r: Random, maxLen = 4096): Buffer {
  let b = Buffer.from(seed);
  const n = 1 + int(r, 4);
  for (let k = 0; k < n; k++) {
    const op = int(r, 9);
    const at = b.length ? int(r, b.length) : 0;
    if (op === 0 && b.length) b[at] ^= 1 << int(r, 8);
    else if (op === 1 && b.length) b[at] = INTERESTING[int(r, INTERESTING.length)];
    else if (op === 2 && b.length) b[at] = int(r, 256);
    else if (op === 3) b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(r, 16) }, () => int(r, 256))), b.subarray(at)]);
    else if (op === 4) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 16)))]);
    else if (op === 5) b = b.subarray(0, int(r, b.length + 1));
    else if (op === 6 && b.length > 1) {
      // A 16-bit field set to an extreme (lengths and counts are where parsers break).
      const v = [0, 1, 0x7fff, 0x8000, 0xffff][int(r, 5)];
      const o = int(r, b.length - 1);
      b[o] = v >> 8;
      b[o + 1] = v & 0xff;
    } else if (op === 7) {
      const from = int(r, other.length + 1);
      b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + int(r, 64))]);
    } else if (op === 8 && b.length) {
      const len = 1 + int(r, Math.min(32, b.length - at));
      b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
  }
  return b.length > maxLen ? b.subarray(0, maxLen) : b;
}

const EXTREMES = ['0', '-0', '-1', '1e308', '-1e308', '1e-320', '4294967296', '9007199254740993', 'NaN', 'Infinity', '0x10', '1.5', '', '""', 'null', '[]', '{}', 'true', '"x"', '1e400'];

/** One to three text-level mutations: numbers and tokens replaced by extremes, lines repeated, dropped or swapped, or a byte-level mutation of the UTF-8. */
export function mutateText(seed: string, other: string, r: Random): string {
  let s = seed;
  const n = 1 + int(r, 3);
  for (let k = 0; k < n; k++) {
    const op = int(r, 6);
    if (op === 0 || op === 1) {
      // Replace the k-th number (or JSON token) with an extreme.
      const tokens = [...s.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|"[^"\n]*"/g)];
      if (tokens.length) {
        const t = tokens[int(r, tokens.length)];
        s = s.slice(0, t.index) + EXTREMES[int(r, EXTREMES.length)] + s.slice(t.index! + t[0].length);
      }
    } else if (op === 2 || op === 3) {
      const lines = s.split('\n');
      const i = int(r, lines.length);
      const j = int(r, lines.length);
      if (op === 2) lines.splice(i, 0, lines[j]);
      else if (lines.length > 1) lines.splice(i, 1);
      s = lines.join('\n');
    } else if (op === 4) {
      const lines = s.split('\n');
      const i = int(r, lines.length);
      const j = int(r, lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      s = lines.join('\n');
    } else {
      s = mutateBytes(Buffer.from(s), Buffer.from(other), r, 64 * 1024).toString('utf8');
    }
  }
  return s;
}
