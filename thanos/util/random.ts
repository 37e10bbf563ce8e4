/**
 * Seeded random inputs: a uniform generator, normal values and the random removal sets the batched
 * solves (linalg/solve.ts) take. Deterministic across runs and platforms, so a failing test or a
 * benchmark row can be reproduced from its seed; the tests and bench/ both draw their inputs here.
 *
 * @module
 */

/** Seeded uniform [0, 1) generator (mulberry32); deterministic across runs and platforms. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` standard normal values from a seeded generator (Box–Muller). */
export function randn(n: number, seed: number): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/**
 * Random removal sets: row r gets counts[r] distinct indices in [0, m) (row 0 the most possible,
 * min(maxQ, m); the others a uniform count unless `count` is given), padded with garbage.
 */
export function removalSets(rows: number, m: number, maxQ: number, seed: number, count?: number) {
  const u = rng(seed);
  const idx = new Uint32Array(rows * maxQ);
  const counts = new Uint32Array(rows);
  const all = Array.from({ length: m }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    counts[r] = count ?? (r === 0 ? Math.min(maxQ, m) : Math.floor(u() * (Math.min(maxQ, m) + 1)));
    for (let i = 0; i < counts[r]; i++) {
      const k = i + Math.floor(u() * (m - i));
      [all[i], all[k]] = [all[k], all[i]];
      idx[r * maxQ + i] = all[i];
    }
    for (let i = counts[r]; i < maxQ; i++) idx[r * maxQ + i] = 0xdead; // never read
  }
  const rhs = randn(rows * maxQ, seed + 1);
  return { idx, counts, rhs };
}
