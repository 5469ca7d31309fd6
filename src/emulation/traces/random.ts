/**
 * A seeded PRNG for the trace model: the same seed gives the same trace on every
 * machine and Node version (Math.random gives neither). mulberry32, as test/helpers/random.ts.
 */
export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box–Muller; one uniform pair per call, so the draw count is fixed). */
  normal(): number;
}

/**
 * `stream` separates uses of one seed (the model passes the family), so that wifi seed 1
 * and 4g seed 1 are independent links, not one random walk at two scales.
 */
export function seededRandom(seed: number, stream = ''): Random {
  // Consecutive seeds start mulberry32 in close states whose first outputs are alike;
  // murmur3's finaliser spreads them apart.
  let a = fmix32((seed ^ fnv1a(stream)) >>> 0);
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    normal: () => {
      const u = 1 - uniform(); // (0, 1]: log(0) never happens
      const v = uniform();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a string's UTF-16 code units (32 bit). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
