/** Sparse random weights shared by the compressed-checkpoint and sparse-kernel tests. */

import { randn } from "./util.ts";

/** Random weights with a fraction of exact zeros: unstructured, or n of every m kept per row group. */
export function sparseWeights(rows: number, cols: number, seed: number, pattern: "unstructured" | "2:4"): Float32Array {
  const w = randn(rows * cols, seed);
  const z = randn(rows * cols, seed + 1);
  if (pattern === "unstructured") {
    for (let i = 0; i < w.length; i++) if (z[i] < 0) w[i] = 0;
  } else {
    for (let i = 0; i < w.length; i += 4) {
      // zero 2 of every 4 (sometimes 3 or 4, so groups with fewer than 2 non-zeros occur)
      const drop = z[i] > 1.2 ? 4 : z[i] > 0.8 ? 3 : 2;
      const order = [0, 1, 2, 3].sort((a, b) => z[i + a] - z[i + b]);
      for (let k = 0; k < drop; k++) w[i + order[k]] = 0;
    }
  }
  return w;
}
