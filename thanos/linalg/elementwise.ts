/**
 * Elementwise helpers on f32 tensors.
 * @module
 */

import { grid1d, launch, params } from "../gpu/launch.ts";
import type { Tensor } from "../gpu/tensor.ts";

const WG = 256;

/**
 * Sets every element of `x` to `value` (recorded; runs at the next submission).
 * @example
 * ```ts
 * const x = empty(gpu, [3, 5]);
 * await fill(x, 1.5);
 * ```
 */
export async function fill(x: Tensor, value: number): Promise<void> {
  if (x.dtype !== "f32") throw new TypeError(`fill: expected an f32 tensor but "${x.label}" is ${x.dtype}`);
  await launch(x.gpu, "fill", [x], {
    grid: grid1d(x.gpu, x.size, WG),
    params: params().u32(x.size).f32(value),
    constants: { WG },
  });
}
