/**
 * Linear-layer products with weights kept at 2 bytes a weight on the GPU (F16 or BF16 checkpoints):
 * `y = x·Wᵀ` with W packed two halves to a u32 word (shaders/matmul_half_weight.wgsl), each half
 * widened exactly to f32 in the shader, the product accumulated in f32. Only the forward passes
 * read weights this way; pruning works on f32 copies.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { launch } from "../gpu/launch.ts";
import { budgetRanges, loopCost } from "../gpu/loop_budget.ts";
import { type Tensor, upload } from "../gpu/tensor.ts";
import { checkNoAlias, checkView } from "./checks.ts";
import { aSlices, matmulVariant, recordPackedProduct, textureFits } from "./matmul.ts";
import type { MatrixView } from "./view.ts";

/** Half-precision formats a weight can stay in on the GPU. */
export type HalfDtype = "F16" | "BF16";

/** A [rows, cols] weight stored as packed halves: row r's halves in words r·ld .. r·ld + ceil(cols/2) − 1. */
export interface HalfWeight {
  readonly tensor: Tensor<"u32">;
  readonly dtype: HalfDtype;
  readonly rows: number;
  readonly cols: number;
  /** words per row: ceil(cols / 2) */
  readonly ld: number;
}

const WG = { X: 8, Y: 8 } as const;
/** 4 x 4 outputs per invocation. */
const TILE = 4;
/** Iterations besides the k loop: the odd tail and the four 4-wide store loops. */
const OVERHEAD = 1 + 4 * loopCost(4);

/**
 * Uploads a [rows, cols] weight given as raw half bits (row-major, as stored in safetensors) in
 * packed pairs.
 * @example
 * ```ts
 * using w = packHalfWeight(gpu, bits, 688, 256, "F16", "mlp.up_proj.weight");
 * ```
 */
export function packHalfWeight(
  gpu: Gpu,
  bits: Uint16Array,
  rows: number,
  cols: number,
  dtype: HalfDtype,
  label: string,
): HalfWeight & Disposable {
  if (bits.length !== rows * cols) {
    throw new RangeError(`packHalfWeight: "${label}" has ${bits.length} halves; expected rows·cols = ${rows}·${cols}`);
  }
  const ld = Math.ceil(cols / 2);
  const words = new Uint32Array(Math.max(1, rows * ld));
  const halves = new Uint16Array(words.buffer);
  if (cols % 2 === 0) halves.set(bits.subarray(0, rows * cols));
  else for (let r = 0; r < rows; r++) halves.set(bits.subarray(r * cols, (r + 1) * cols), r * 2 * ld);
  const tensor = upload(gpu, words, [Math.max(1, rows), ld], label);
  return { tensor, dtype, rows, cols, ld, [Symbol.dispose]: () => tensor.release() };
}

/**
 * y = x·Wᵀ (or y += x·Wᵀ) for a packed half weight W [N, K] and f32 x [M, K], y [M, N].
 *
 * Where {@link matmulVariant} is `"texture"` (the default on llvmpipe) and the product fits the
 * adapter's textures, x and the weight are packed slice by slice into textures — the weight widened
 * while packing (shaders/pack_texture_half.wgsl) — and multiplied by shaders/matmul_texture.wgsl;
 * otherwise shaders/matmul_half_weight.wgsl reads the packed halves directly, K split into
 * dispatches within the loop budget (accumulating after the first). Both sum every output in k
 * order in f32.
 * @param options.variant `"texture"` or `"register"` (the storage kernel); default {@link matmulVariant}
 * @throws RangeError for mismatched shapes or aliasing
 * @example
 * ```ts
 * await matmulHalfWeight(mat(x), w, mat(y)); // a linear layer without bias
 * ```
 */
export async function matmulHalfWeight(
  x: MatrixView,
  w: HalfWeight,
  y: MatrixView,
  options: { accumulate?: boolean; variant?: "texture" | "register" } = {},
): Promise<void> {
  const op = "matmulHalfWeight";
  checkView(op, "x", x);
  checkView(op, "y", y);
  if (x.cols !== w.cols) throw new RangeError(`${op}: x has ${x.cols} columns but W has ${w.cols} (W is [N, K])`);
  if (y.rows !== x.rows || y.cols !== w.rows) {
    throw new RangeError(`${op}: y is [${y.rows}, ${y.cols}]; expected [${x.rows}, ${w.rows}]`);
  }
  checkNoAlias(op, "y", y.tensor, "x", x.tensor);
  const M = x.rows, N = w.rows, K = w.cols;
  if (M === 0 || N === 0) return;
  const gpu = x.tensor.gpu;
  const variant = options.variant ?? matmulVariant(gpu);
  if (variant === "texture" && textureFits(gpu, M, N) && K > 0) {
    return await recordPackedProduct({
      c: y,
      K,
      alpha: 1,
      accumulate: options.accumulate ?? false,
      symmetric: false,
      packA: aSlices(x, false, M, K).fill,
      packB: (k0, kc, t, width, height) =>
        launch(gpu, "pack_texture_half", { w: w.tensor, t: t.view }, {
          grid: [Math.ceil(width / 8), Math.ceil(height / 8), 1],
          params: { rows: N, cols: kc, k0, ldW: w.ld, width, height, bf16: w.dtype === "BF16" ? 1 : 0 },
          constants: { WG_X: 8, WG_Y: 8 },
        }),
    });
  }
  const grid: [number, number, number] = [Math.ceil(N / (TILE * WG.X)), Math.ceil(M / (TILE * WG.Y)), 1];
  // k in whole pairs per dispatch (k0 stays even): one loop trip per pair
  const ranges = K === 0 ? [] : budgetRanges(op, Math.ceil(K / 2), 1, OVERHEAD + 1);
  if (ranges.length === 0 && !options.accumulate) throw new RangeError(`${op}: K is 0; expected K ≥ 1`);
  for (const [i, [p0, p1]] of ranges.entries()) {
    await launch(gpu, "matmul_half_weight", { x: x.tensor, w: w.tensor, y: y.tensor }, {
      grid,
      params: {
        M,
        N,
        K,
        offX: x.offset,
        ldX: x.ld,
        ldW: w.ld,
        offY: y.offset,
        ldY: y.ld,
        k0: 2 * p0,
        k1: Math.min(K, 2 * p1),
        bf16: w.dtype === "BF16" ? 1 : 0,
        accumulate: options.accumulate || i > 0 ? 1 : 0,
      },
      constants: { WG_X: WG.X, WG_Y: WG.Y },
    });
  }
}
