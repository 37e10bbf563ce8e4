/**
 * Dense matrix product on the GPU: `C = alpha·op(A)·op(B)`, optionally accumulated into C, on
 * {@link MatrixView} windows of row-major f32 tensors, for every combination of transposes.
 *
 * Two kernels compute the same thing:
 * - `"register"` (shaders/matmul_register.wgsl): each invocation keeps a 4 x 8 tile of C in
 *   registers and reads its operands straight from storage. No workgroup memory, no barriers:
 *   the fast path on CPU-emulated adapters such as llvmpipe, where barriers are expensive.
 * - `"tiled"` (shaders/matmul_tiled.wgsl): the classic shared-memory tiling (64 x 64 tiles of C,
 *   k-slices of 16 staged in workgroup memory): the fast path on real GPUs.
 *
 * {@link matmulVariant} picks one: the `variant` option, else the environment variable
 * `THANOS_MATMUL_VARIANT`, else `"register"` on fallback adapters and `"tiled"` elsewhere.
 *
 * Both kernels take each operand as (offset, row stride, column stride), so a transpose is only a
 * swap of strides and views with any offset and leading dimension cost nothing extra.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { launch, params } from "../gpu/launch.ts";
import { empty, type Tensor } from "../gpu/tensor.ts";
import { checkNoAlias, checkView } from "./checks.ts";
import type { MatrixView } from "./view.ts";

/** The matmul kernels (see the module documentation). */
export type MatmulVariant = "register" | "tiled";

/** Every {@link MatmulVariant}, in the order tests and benchmarks run them. */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ["register", "tiled"];

/** Environment variable that overrides the adapter-based choice of kernel (`register` or `tiled`). */
export const MATMUL_VARIANT_ENV = "THANOS_MATMUL_VARIANT";

export interface MatmulOptions {
  /** use Aᵀ (A is stored [K, M]) */
  transA?: boolean;
  /** use Bᵀ (B is stored [N, K]) */
  transB?: boolean;
  /** default 1 */
  alpha?: number;
  /** C += alpha·op(A)·op(B) (default false: C = alpha·op(A)·op(B); C is then only written) */
  accumulate?: boolean;
  /** which kernel to run (default: {@link matmulVariant}) */
  variant?: MatmulVariant;
}

/** Register-blocked kernel geometry: each invocation computes TM x TN outputs. */
const REGISTER = { TM: 4, TN: 8, WG_X: 8, WG_Y: 8 } as const;
/** Tiled kernel geometry: WG x WG invocations, 4 x 4 outputs each. */
const TILED = { T: 4, WG: 16 } as const;

/**
 * The kernel {@link matmul} runs on `gpu` when no `variant` option is given.
 *
 * @param gpu the GPU context (its adapter decides the default)
 * @param requested an explicit choice, which wins over everything else
 * @returns `requested`, else `$THANOS_MATMUL_VARIANT`, else `"register"` on fallback (software)
 *   adapters and `"tiled"` on real GPUs
 * @throws RangeError when `requested` or the environment variable names no variant
 * @example
 * ```ts
 * const gpu = await getGpu();
 * matmulVariant(gpu); // "register" on llvmpipe
 * ```
 */
export function matmulVariant(gpu: Gpu, requested?: MatmulVariant): MatmulVariant {
  const chosen = requested ?? readEnv(MATMUL_VARIANT_ENV);
  if (chosen === undefined || chosen === "") return gpu.info.isFallback ? "register" : "tiled";
  if (!(MATMUL_VARIANTS as readonly string[]).includes(chosen)) {
    const source = requested !== undefined ? "options.variant" : `$${MATMUL_VARIANT_ENV}`;
    throw new RangeError(
      `matmul: ${source} is "${chosen}"; expected one of ${MATMUL_VARIANTS.map((v) => `"${v}"`).join(", ")}`,
    );
  }
  return chosen as MatmulVariant;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/** Operand of a product as the kernels see it: element (i, j) at `offset + i·rowStride + j·colStride`. */
interface Operand {
  offset: number;
  rowStride: number;
  colStride: number;
}

/** `op(v)` as strides: the view itself, or its transpose. */
function operand(v: MatrixView, transposed: boolean): Operand {
  return transposed
    ? { offset: v.offset, rowStride: 1, colStride: v.ld }
    : { offset: v.offset, rowStride: v.ld, colStride: 1 };
}

/**
 * C = alpha·op(A)·op(B) (+ C if accumulate). A, B, C are MatrixViews (windows of row-major tensors).
 *
 * `op(A)` is [M, K] (A itself, or Aᵀ with A stored [K, M] when `transA`), `op(B)` is [K, N], and C
 * is an [M, N] window that must not share a buffer with A or B (A and B may be the same). Without
 * `accumulate`, C is only written, so it may hold anything (even NaN) beforehand. The work is
 * recorded and runs at the next submission; read a result or `await gpu.sync()` to wait.
 *
 * @param a view of A ([M, K], or [K, M] when `transA`)
 * @param b view of B ([K, N], or [N, K] when `transB`)
 * @param c view of C, [M, N]
 * @param options transposes, alpha, accumulate and the kernel variant
 * @throws RangeError on shape mismatches, aliasing, invalid views or a non-finite alpha
 * @example
 * ```ts
 * // W[:, i1:] -= Lambda · Hinv[q, i1:]
 * await matmul(lambda, sub(hinv, 0, i1), sub(W, 0, i1), { alpha: -1, accumulate: true });
 * ```
 */
export async function matmul(a: MatrixView, b: MatrixView, c: MatrixView, options: MatmulOptions = {}): Promise<void> {
  const { transA = false, transB = false, alpha = 1, accumulate = false } = options;
  checkView("matmul", "A", a);
  checkView("matmul", "B", b);
  checkView("matmul", "C", c);
  const nameA = transA ? "Aᵀ" : "A", nameB = transB ? "Bᵀ" : "B";
  const [M, K] = transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [Kb, N] = transB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (K !== Kb) {
    throw new RangeError(
      `matmul: ${nameA} is ${M}x${K} but ${nameB} is ${Kb}x${N}; expected ${nameA}.cols == ${nameB}.rows`,
    );
  }
  if (c.rows !== M || c.cols !== N) {
    throw new RangeError(
      `matmul: C is ${c.rows}x${c.cols} but ${nameA}·${nameB} is ${M}x${N}; expected C to be ${M}x${N}`,
    );
  }
  checkNoAlias("matmul", "C", c, "A", a);
  checkNoAlias("matmul", "C", c, "B", b);
  if (!Number.isFinite(alpha)) throw new RangeError(`matmul: alpha is ${alpha}; expected a finite number`);
  const gpu = c.tensor.gpu;
  const variant = matmulVariant(gpu, options.variant);
  await productKernel(gpu, variant, a.tensor, operand(a, transA), b.tensor, operand(b, transB), c, M, N, K, {
    alpha,
    accumulate,
  });
}

/**
 * Same as {@link matmul}, allocating C (a new [M, N] tensor).
 *
 * @param a view of A ([M, K], or [K, M] when `transA`)
 * @param b view of B ([K, N], or [N, K] when `transB`)
 * @param options transposes, alpha and the kernel variant
 * @param label label of the new tensor (shown in GPU errors)
 * @returns C = alpha·op(A)·op(B), [M, N]; release it when done
 * @example
 * ```ts
 * const c = await matmulNew(mat(a), mat(b), { transB: true }); // A·Bᵀ
 * ```
 */
export async function matmulNew(
  a: MatrixView,
  b: MatrixView,
  options: Omit<MatmulOptions, "accumulate"> = {},
  label = "matmul",
): Promise<Tensor> {
  checkView("matmul", "A", a);
  checkView("matmul", "B", b);
  const M = options.transA ? a.cols : a.rows;
  const N = options.transB ? b.rows : b.cols;
  const c = empty(a.tensor.gpu, [M, N], "f32", label);
  try {
    await matmul(a, b, { tensor: c, offset: 0, rows: M, cols: N, ld: N }, { ...options, accumulate: false });
  } catch (err) {
    c.release();
    throw err;
  }
  return c;
}

/**
 * Records C = alpha·op(A)·op(B) (+ C) with already validated operands, splitting the grid into
 * several dispatches where it would exceed the per-dimension workgroup limit.
 */
async function productKernel(
  gpu: Gpu,
  variant: MatmulVariant,
  ta: Tensor,
  opA: Operand,
  tb: Tensor,
  opB: Operand,
  c: MatrixView,
  M: number,
  N: number,
  K: number,
  { alpha, accumulate }: { alpha: number; accumulate: boolean },
): Promise<void> {
  if (M === 0 || N === 0) return;
  const [tileRows, tileCols, shader, constants] = variant === "register"
    ? [REGISTER.TM * REGISTER.WG_Y, REGISTER.TN * REGISTER.WG_X, "matmul_register", {
      WG_X: REGISTER.WG_X,
      WG_Y: REGISTER.WG_Y,
      ACCUMULATE: Number(accumulate),
    }]
    : [TILED.T * TILED.WG, TILED.T * TILED.WG, "matmul_tiled", { WG: TILED.WG, ACCUMULATE: Number(accumulate) }];
  for (const { i, m, j, n } of gridChunks(M, N, tileRows, tileCols, gpu.limits.maxComputeWorkgroupsPerDimension)) {
    const p = params()
      .u32(m).u32(n).u32(K)
      .u32(opA.offset + i * opA.rowStride).u32(opA.rowStride).u32(opA.colStride)
      .u32(opB.offset + j * opB.colStride).u32(opB.rowStride).u32(opB.colStride)
      .u32(c.offset + i * c.ld + j).u32(c.ld)
      .f32(alpha);
    await launch(gpu, shader, [ta, tb, c.tensor], {
      grid: [Math.ceil(n / tileCols), Math.ceil(m / tileRows)],
      params: p,
      constants,
    });
  }
}

/** One dispatch's share of an M x N output: rows i..i+m, columns j..j+n. */
export interface GridChunk {
  i: number;
  m: number;
  j: number;
  n: number;
}

/**
 * Splits an M x N output into the fewest row/column ranges whose workgroup grids (tiles of
 * tileRows x tileCols) stay within `maxGroups` per dimension. Internal to the kernel wrappers;
 * exported for tests.
 */
export function gridChunks(M: number, N: number, tileRows: number, tileCols: number, maxGroups: number): GridChunk[] {
  const rowsPerDispatch = maxGroups * tileRows, colsPerDispatch = maxGroups * tileCols;
  const chunks: GridChunk[] = [];
  for (let i = 0; i < M; i += rowsPerDispatch) {
    for (let j = 0; j < N; j += colsPerDispatch) {
      chunks.push({ i, m: Math.min(rowsPerDispatch, M - i), j, n: Math.min(colsPerDispatch, N - j) });
    }
  }
  return chunks;
}
