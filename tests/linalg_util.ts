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

/** Where a test matrix lives inside its tensor. */
export interface Placement {
  /**
   * > 0: the matrix is a window starting about `margin` rows and columns into a larger tensor
   * whose surrounding elements are random too (so reading outside the window shows up)
   */
  margin?: number;
  /** offset and leading dimension are rounded up to multiples of this (4 selects vec4 kernels) */
  align?: number;
  label?: string;
}

/** A rows x cols standard-normal matrix, placed as asked (by default a whole tight tensor). */
export function randomMatrix(
  gpu: Gpu,
  rows: number,
  cols: number,
  seed: number,
  { margin = 0, align = 1, label = "M" }: Placement = {},
): TestMatrix {
  const roundUp = (x: number) => Math.ceil(x / align) * align;
  const ld = Math.max(1, roundUp(margin === 0 ? cols : cols + 2 * margin + 3));
  const offset = margin === 0 ? 0 : roundUp(margin * ld + margin + 1);
  const length = Math.max(1, offset + rows * ld + (margin === 0 ? 0 : margin * ld));
  const data = randn(length, seed);
  const tensor = upload(gpu, data, [length], label);
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
