/**
 * Finiteness checks on the GPU: the first NaN or ±Inf of a tensor, found by one reduction
 * (shaders/first_nonfinite.wgsl) and recorded into a slot of a u32 flags tensor, so that many
 * tensors are checked with a single readback.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { grid1d, launch } from "../gpu/launch.ts";
import { type Tensor, zeros } from "../gpu/tensor.ts";
import { chunkItems, maxWorkgroups } from "./select.ts";

const WG = 256;

/** A NaN or ±Inf where finite values are required; names the tensor (or activation) and index. */
export class NonFiniteError extends RangeError {
  override name = "NonFiniteError";
}

/**
 * Records the first non-finite element of `x` into `flags[slot]` (see shaders/first_nonfinite.wgsl):
 * flags[slot] stays 0 when every element is finite, else becomes ≥ 0xffffffff − i* for the first
 * bad flat index i* — decode with {@link decodeFirstNonFinite}. Clear `flags` first.
 *
 * @param x f32 tensor (all of it is checked)
 * @param flags u32 tensor with more than `slot` elements
 * @param slot which element of flags receives the result
 * @throws RangeError for a slot outside flags or a tensor of 2³² − 1 elements or more
 * @example
 * ```ts
 * using flags = zeros(gpu, [2], "u32");
 * await recordFirstNonFinite(a, flags, 0);
 * await recordFirstNonFinite(b, flags, 1);
 * const [fa, fb] = (await flags.read()).map(decodeFirstNonFinite); // -1 = all finite
 * ```
 */
export async function recordFirstNonFinite(x: Tensor, flags: Tensor, slot: number): Promise<void> {
  if (x.dtype !== "f32") throw new TypeError(`recordFirstNonFinite: "${x.label}" is ${x.dtype}; expected f32`);
  if (flags.dtype !== "u32") throw new TypeError(`recordFirstNonFinite: flags "${flags.label}" must be u32`);
  if (!Number.isInteger(slot) || slot < 0 || slot >= flags.size) {
    throw new RangeError(`recordFirstNonFinite: slot ${slot} is outside flags of ${flags.size}`);
  }
  const count = x.size;
  if (count >= 0xffffffff) {
    throw new RangeError(`recordFirstNonFinite: "${x.label}" has ${count} elements; at most 2³² − 2`);
  }
  if (count === 0) return;
  const items = chunkItems(count, maxWorkgroups(x.gpu));
  const chunks = Math.ceil(count / (WG * items));
  await launch(x.gpu, "first_nonfinite", { x, flags }, {
    grid: grid1d(x.gpu, chunks * WG, WG),
    params: { count, offset: 0, items, slot },
    constants: { WG },
  });
}

/** A flags value of {@link recordFirstNonFinite} → the first bad flat index, or -1 when none. */
export function decodeFirstNonFinite(flag: number): number {
  return flag === 0 ? -1 : 0xffffffff - flag;
}

/** The first NaN or ±Inf of `x` (flat index), or -1 when every element is finite: one readback. */
export async function firstNonFinite(x: Tensor): Promise<number> {
  using flags = zeros(x.gpu, [1], "u32", "first non-finite");
  await recordFirstNonFinite(x, flags, 0);
  return decodeFirstNonFinite((await flags.read())[0]);
}

/** One tensor to check: `where(i)` says where flat index i is, in the caller's terms. */
export interface FiniteCheckItem {
  name: string;
  tensor: Tensor;
  /** e.g. (i) => `[${Math.floor(i / cols)}, ${i % cols}]`; default the flat index */
  where?: (i: number) => string;
}

/**
 * Checks every item with one reduction each and one readback for all.
 *
 * @param gpu the GPU of the tensors
 * @param items named tensors
 * @param what the prefix of the error message, e.g. the checkpoint's directory
 * @throws NonFiniteError naming the first item (in order) holding a NaN or ±Inf, its first bad
 *   index and the value, e.g. `models/x: tensor model.norm.weight holds NaN at [17]; expected finite values`
 */
export async function checkFinite(gpu: Gpu, items: readonly FiniteCheckItem[], what: string): Promise<void> {
  const checked = items.filter((it) => it.tensor.size > 0);
  if (checked.length === 0) return;
  using flags = zeros(gpu, [checked.length], "u32", "finite checks");
  for (const [slot, it] of checked.entries()) await recordFirstNonFinite(it.tensor, flags, slot);
  const values = await flags.read();
  const bad = values.findIndex((v) => v !== 0);
  if (bad < 0) return;
  const it = checked[bad];
  const i = decodeFirstNonFinite(values[bad]);
  const value = (await it.tensor.read())[i];
  throw new NonFiniteError(
    `${what}: tensor ${it.name} holds ${value} at ${it.where ? it.where(i) : `[${i}]`}; expected finite values`,
  );
}

/** `[row, col]` of flat index i in a row-major matrix with `cols` columns, rows offset by `rowOffset`. */
export function matrixIndex(cols: number, rowOffset = 0): (i: number) => string {
  return (i) => `[${rowOffset + Math.floor(i / cols)}, ${i % cols}]`;
}
