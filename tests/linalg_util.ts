/**
 * Helpers for the dense-kernel tests: random matrices uploaded as (windows of) tensors together
 * with their host copies, and a comparison whose tolerance scales with the magnitude of the terms
 * summed into each element (the right yardstick for f32 dot products).
 */

import { type Gpu, type Tensor, upload } from "../thanos/gpu/mod.ts";
import type { MatrixView } from "../thanos/linalg/view.ts";
import type { HostView } from "./reference/matmul.ts";
import { randn } from "./util.ts";

/** A random matrix on the GPU and its host copy, optionally a window inside a larger tensor. */
export interface TestMatrix {
  tensor: Tensor;
  view: MatrixView;
  host: HostView;
}

/**
 * A rows x cols standard-normal matrix. With `margin`, it is the window starting at
 * (margin, margin + 1) of a larger tensor whose leading dimension is cols + 2·margin + 3, and
 * the elements around the window are random too (so reading outside the window shows up).
 */
export function randomMatrix(gpu: Gpu, rows: number, cols: number, seed: number, margin = 0, label = "M"): TestMatrix {
  const ld = margin === 0 ? cols : cols + 2 * margin + 3;
  const totalRows = margin === 0 ? rows : rows + 2 * margin;
  const offset = margin === 0 ? 0 : margin * ld + margin + 1;
  const data = randn(Math.max(1, totalRows * ld), seed);
  const tensor = upload(gpu, data, [Math.max(1, totalRows * ld)], label);
  return {
    tensor,
    view: { tensor, offset, rows, cols, ld },
    host: { data, offset, rows, cols, ld },
  };
}

/**
 * Asserts |actual − expected| ≤ rtol·scale + atol on every element of the window `w` (scale is
 * given per window element, row-major), and that `actual` equals `expected` exactly elsewhere
 * (no writes outside the window).
 */
export function assertCloseScaled(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  scale: Float64Array,
  w: { offset: number; rows: number; cols: number; ld: number },
  rtol: number,
  what: string,
  atol = 1e-30,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} differs from expected ${expected.length}`);
  }
  const inside = new Uint8Array(actual.length);
  let worst = "", worstRatio = 1, maxAbs = 0;
  for (let i = 0; i < w.rows; i++) {
    for (let j = 0; j < w.cols; j++) {
      const idx = w.offset + i * w.ld + j;
      inside[idx] = 1;
      const diff = Math.abs(actual[idx] - expected[idx]);
      const bound = rtol * scale[i * w.cols + j] + atol;
      if (!(diff <= bound) && (!Number.isFinite(diff) || diff / bound > worstRatio)) {
        worstRatio = Number.isFinite(diff) ? diff / bound : Infinity;
        worst = `(${i}, ${j}): got ${actual[idx]}, expected ${expected[idx]}, |diff| ${diff.toExponential(3)} > ` +
          `${rtol} x scale ${scale[i * w.cols + j].toExponential(3)}`;
      }
      if (Number.isFinite(diff)) maxAbs = Math.max(maxAbs, diff);
    }
  }
  if (worst) throw new Error(`${what}: mismatch at ${worst} (max |diff| ${maxAbs.toExponential(3)})`);
  for (let idx = 0; idx < actual.length; idx++) {
    if (!inside[idx] && !Object.is(actual[idx], expected[idx])) {
      throw new Error(`${what}: element ${idx} outside the window changed from ${expected[idx]} to ${actual[idx]}`);
    }
  }
}
