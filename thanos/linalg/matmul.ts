/**
 * Dense matrix product on the GPU: `C = alpha·op(A)·op(B)`, optionally accumulated into C, on
 * {@link MatrixView} windows of row-major f32 tensors, for every combination of transposes.
 *
 * Two families of kernels compute the same thing:
 * - `"register"`: each invocation keeps a 16 x 16 tile of C in registers and reads its operands
 *   straight from storage. No workgroup memory, no barriers: the fast path on CPU-emulated
 *   adapters such as llvmpipe, where barriers are expensive and every load is a gather. It loads
 *   4 floats at a time (shaders/matmul_register_vec4.wgsl) when A's and B's offsets and leading
 *   dimensions are multiples of 4, and one at a time otherwise (shaders/matmul_register.wgsl).
 * - `"texture"` (shaders/matmul_texture.wgsl): the register tile reading op(A) and op(B) from
 *   rgba32float textures that shaders/pack_texture.wgsl fills, one k-slice of at most 512 at a time
 *   (transposes and offsets are the packing's business): llvmpipe fetches texels with straight-line
 *   SIMD code but loads storage lane by lane, so this is 5–6x the register kernel there. Products
 *   whose rows or columns do not fit a texture (`maxTextureDimension2D`, x4 for columns) run the
 *   register kernel. Where C's rows are whole vec4s (offset, leading dimension and width multiples
 *   of 4) it writes them four floats at a time (shaders/matmul_texture_vec4.wgsl, the same bits).
 * - `"tiled"` (shaders/matmul_tiled.wgsl): the classic shared-memory tiling (64 x 64 tiles of C,
 *   k-slices of 16 staged in workgroup memory): the fast path on real GPUs.
 *
 * {@link matmulVariant} picks one: the `variant` option, else the environment variable
 * `THANOS_MATMUL_VARIANT`, else `"texture"` on fallback adapters and `"tiled"` elsewhere.
 *
 * Transposes are compile-time constants of the kernels (one pipeline per combination), and views
 * cost nothing extra: each operand is passed as (offset, leading dimension).
 *
 * On llvmpipe the register vec4 kernel is the fastest for every transpose, the scalar register
 * kernel next and the tiled one far behind (numbers: README's performance table, `deno task
 * bench:kernels matmul`). What matters there, in order: loads per FMA (every load is a per-lane
 * gather looped lane by lane; vec4 loads, and 16 x 16 outputs per invocation, ~1.5x faster than
 * 8 x 8 — the profile is in shaders/matmul_register_vec4.wgsl), keeping the accumulators out of
 * indexed memory (every loop indexing them must unroll fully; see the stores in the shaders),
 * WG_X = 8.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { grid1d, launch } from "../gpu/launch.ts";
import { LOOP_BUDGET, loopCost } from "../gpu/loop_budget.ts";
import type { ScratchTexture } from "../gpu/scratch_textures.ts";
import { empty, type Tensor } from "../gpu/tensor.ts";
import { checkFinite, checkNoAlias, checkView } from "./checks.ts";
import { mat, type MatrixView, sub } from "./view.ts";
import { readEnv } from "../util/env.ts";

/** The matmul kernels (see the module documentation). */
export type MatmulVariant = "texture" | "register" | "tiled";

/** Every {@link MatmulVariant}, in the order tests and benchmarks run them. */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ["texture", "register", "tiled"];

/** Environment variable that overrides the adapter-based choice of kernel (`texture`, `register` or `tiled`). */
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

/**
 * Register kernels: workgroups of 8 x 8 invocations (8 = llvmpipe's SIMD width along x, measured
 * best), each computing 16 x 16 outputs (the shaders' TM = TN), so a workgroup covers a 128 x 128
 * tile of C.
 */
const REGISTER = { T: 16, WG: 8 } as const;
/**
 * The register kernels take at most this many steps of k per dispatch; longer products are
 * accumulated over several dispatches. Each workgroup streams 128-wide panels of op(A) and op(B)
 * along k, and shorter panels stay in cache: on llvmpipe, 2048² ran at 7.7 GFLOP per CPU-second
 * in slices of 512 (or 256) against 5.7 in one dispatch; the Gram product n=4096, d=768 gained
 * ~15%.
 */
export const REGISTER_K_PER_DISPATCH = 512;
/** Tiled kernel: WG x WG invocations, 4 x 4 outputs each: a 64 x 64 tile of C; k in slices of BK = 16. */
const TILED = { T: 4, WG: 16, BK: 16 } as const;
/**
 * Loop iterations of one k-slice of the tiled kernel: the slice loop, staging op(A) and op(B)
 * (BK·64 elements over WG² invocations each) and the BK steps (their 4 x 4 loops unroll): 28,
 * as measured with tests/loop_probe.ts.
 */
const TILED_ITERATIONS_PER_SLICE = 1 + 2 * loopCost((TILED.BK * TILED.T * TILED.WG) / TILED.WG ** 2) +
  loopCost(TILED.BK);
/**
 * The tiled kernel takes at most this many steps of k per dispatch (34240), longer products are
 * accumulated over several: llvmpipe silently ends an invocation after 65535 loop iterations
 * (thanos/gpu/loop_budget.ts), and a Gram product over a calibration batch has k = tokens (65536
 * for 32 x 2048). The 64 iterations spared cover the stores and the symmetric mode's tile search.
 */
export const TILED_K_PER_DISPATCH = TILED.BK * Math.floor((LOOP_BUDGET - 64) / TILED_ITERATIONS_PER_SLICE);

/** The shader a product runs: the variant, and for "register" the load width. */
export type MatmulShader = "matmul_texture" | "matmul_register_vec4" | "matmul_register" | "matmul_tiled";

/**
 * The kernel {@link matmul} runs on `gpu` when no `variant` option is given.
 *
 * @param gpu the GPU context (its adapter decides the default)
 * @param requested an explicit choice, which wins over everything else
 * @returns `requested`, else `$THANOS_MATMUL_VARIANT`, else `"texture"` on fallback (software)
 *   adapters and `"tiled"` on real GPUs
 * @throws RangeError when `requested` or the environment variable names no variant
 * @example
 * ```ts
 * const gpu = await getGpu();
 * matmulVariant(gpu); // "texture" on llvmpipe
 * ```
 */
export function matmulVariant(gpu: Gpu, requested?: MatmulVariant): MatmulVariant {
  const chosen = requested ?? readEnv(MATMUL_VARIANT_ENV);
  if (chosen === undefined || chosen === "") return gpu.info.isFallback ? "texture" : "tiled";
  if (!(MATMUL_VARIANTS as readonly string[]).includes(chosen)) {
    const source = requested !== undefined ? "options.variant" : `$${MATMUL_VARIANT_ENV}`;
    throw new RangeError(
      `matmul: ${source} is "${chosen}"; expected one of ${MATMUL_VARIANTS.map((v) => `"${v}"`).join(", ")}`,
    );
  }
  return chosen as MatmulVariant;
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
  checkFinite("matmul", "alpha", alpha);
  const gpu = c.tensor.gpu;
  const variant = matmulVariant(gpu, options.variant);
  await recordProduct({ a, transA, b, transB, c, alpha, accumulate, symmetric: false, variant });
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

/** A product as {@link recordProduct} takes it: validated operands and settings. */
export interface Product {
  a: MatrixView;
  transA: boolean;
  b: MatrixView;
  transB: boolean;
  c: MatrixView;
  alpha: number;
  accumulate: boolean;
  /** op(A)·op(B) is symmetric (M == N): compute the tiles on/above the diagonal, mirror them */
  symmetric: boolean;
  variant: MatmulVariant;
}

/**
 * The shader {@link matmul} runs for these operands: `"tiled"`; for `"texture"`,
 * matmul_texture when op(A)'s rows and op(B)'s columns fit the adapter's textures (see
 * {@link textureFits}); otherwise, and for `"register"`, the vec4 register kernel when A's and B's
 * offsets and leading dimensions are multiples of 4 (and their buffers 16-byte multiples), the
 * scalar one otherwise.
 *
 * @param m, n the product's rows and columns (for the texture variant's fit; ignored otherwise)
 */
export function matmulShader(variant: MatmulVariant, a: MatrixView, b: MatrixView, m = 0, n = 0): MatmulShader {
  if (variant === "tiled") return "matmul_tiled";
  if (variant === "texture" && textureFits(a.tensor.gpu, m, n)) return "matmul_texture";
  const aligned = (v: MatrixView) => v.offset % 4 === 0 && v.ld % 4 === 0 && v.tensor.buffer.size % 16 === 0;
  return aligned(a) && aligned(b) ? "matmul_register_vec4" : "matmul_register";
}

/**
 * Records C = alpha·op(A)·op(B) (+ C) for operands the caller has validated (shapes, aliasing,
 * views), splitting the grid into several dispatches where it would exceed the per-dimension
 * workgroup limit. Shared by {@link matmul} and the Gram kernel; not part of the public API.
 */
export async function recordProduct(product: Product): Promise<void> {
  const { a, transA, b, transB, c, alpha, accumulate, symmetric, variant } = product;
  const M = c.rows, N = c.cols, K = transA ? a.rows : a.cols;
  if (M === 0 || N === 0) return;
  if (symmetric && M !== N) throw new RangeError(`matmul: a symmetric product must be square but C is ${M}x${N}`);
  const gpu = c.tensor.gpu;
  const shader = matmulShader(variant, a, b, M, N);
  if (shader === "matmul_texture") return await recordTextureProduct(product, K);
  const [tile, constants] = shader === "matmul_tiled"
    ? [TILED.T * TILED.WG, { WG: TILED.WG }]
    : [REGISTER.T * REGISTER.WG, { WG_X: REGISTER.WG, WG_Y: REGISTER.WG }];
  // k in slices (the first as asked, the rest accumulated): the register kernels' panels stay in
  // cache, the tiled kernel's invocations stay within the loop budget
  const kStep = shader === "matmul_tiled" ? TILED_K_PER_DISPATCH : REGISTER_K_PER_DISPATCH;
  for (let k0 = 0; k0 < Math.max(K, 1); k0 += kStep) {
    const kc = Math.min(kStep, K - k0); // K = 0: one dispatch with kc = 0 (C = 0, or C unchanged)
    const constantsK = {
      ...constants,
      TRANS_A: Number(transA),
      TRANS_B: Number(transB),
      ACCUMULATE: Number(accumulate || k0 > 0),
      SYMMETRIC: Number(symmetric),
    };
    // op(A)[i, k0 + k] and op(B)[k0 + k, j] for the rows i.., columns j.. of one dispatch
    const record = (i: number, m: number, j: number, n: number, grid: [number, number, number]) =>
      launch(gpu, shader, { a: a.tensor, b: b.tensor, c: c.tensor }, {
        grid,
        params: {
          M: m,
          N: n,
          K: kc,
          offA: a.offset + (transA ? k0 * a.ld + i : i * a.ld + k0),
          ldA: a.ld,
          offB: b.offset + (transB ? j * b.ld + k0 : k0 * b.ld + j),
          ldB: b.ld,
          offC: c.offset + i * c.ld + j,
          ldC: c.ld,
          alpha,
        },
        constants: constantsK,
      });
    if (symmetric) {
      const tiles = Math.ceil(N / tile);
      await record(0, M, 0, N, grid1d(gpu, (tiles * (tiles + 1)) / 2, 1));
      continue;
    }
    for (const { i, m, j, n } of gridChunks(M, N, tile, tile, gpu.limits.maxComputeWorkgroupsPerDimension)) {
      await record(i, m, j, n, [Math.ceil(n / tile), Math.ceil(m / tile), 1]);
    }
  }
}

/**
 * The products of one input with several weights of the same width — a linear group such as
 * LLaMA's q/k/v or gate/up projections — side by side: C = A·[W₁; W₂; …]ᵀ, so C's columns
 * [n₁ + … + n_{i−1}, … + n_i) are A·W_iᵀ, each entry bit for bit what {@link matmul} gives for that
 * weight alone (the same kernel and order of k).
 *
 * On the texture variant, with every weight's rows copyable into a texture (K a multiple of 4, a
 * multiple of 64 wide) and C within the texture limits, it is ONE product: the weights are copied
 * one below the other into op(B)ᵀ's texture and A is filled once, instead of once per weight (and
 * one wider grid instead of several narrow ones: tiny-llama's gate and up, 688 x 256 each, take
 * 137 ms together against 2 x 93 alone on llvmpipe). Otherwise one {@link matmul} per weight, into
 * its columns of C.
 *
 * @param a view of A [M, K]
 * @param weights f32 [n_i, K] tensors, row-major (linear layers' weights as stored)
 * @param c view of C [M, Σ n_i], distinct from A and the weights
 * @param variant the kernel (default: {@link matmulVariant})
 * @throws RangeError on shape mismatches, aliasing or invalid views
 * @example
 * ```ts
 * await matmulRowStack(mat(h), [wq, wk, wv], mat(qkv)); // qkv = h·[Wq; Wk; Wv]ᵀ
 * ```
 */
export async function matmulRowStack(
  a: MatrixView,
  weights: readonly Tensor[],
  c: MatrixView,
  variant?: MatmulVariant,
): Promise<void> {
  const op = "matmulRowStack";
  checkView(op, "A", a);
  checkView(op, "C", c);
  const M = a.rows, K = a.cols;
  let N = 0;
  for (const [i, w] of weights.entries()) {
    w.assertAlive();
    if (w.dtype !== "f32" || w.shape.length !== 2 || w.shape[1] !== K) {
      throw new RangeError(
        `${op}: weight ${i} "${w.label}" is ${w.dtype} [${w.shape}]; expected f32 [rows, ${K}] (A is ${M}x${K})`,
      );
    }
    checkNoAlias(op, "C", c, `weight ${i}`, mat(w));
    N += w.shape[0];
  }
  if (c.rows !== M || c.cols !== N) {
    throw new RangeError(`${op}: C is ${c.rows}x${c.cols}; expected ${M}x${N} (A's rows, the weights' rows)`);
  }
  checkNoAlias(op, "C", c, "A", a);
  const gpu = c.tensor.gpu;
  const one = matmulVariant(gpu, variant) === "texture" && M > 0 && N > 0 && textureFits(gpu, M, N) &&
    weights.every((w) => copyableRows(mat(w), w.shape[0], K, K));
  if (!one) {
    let j = 0;
    for (const w of weights) {
      await matmul(a, mat(w), sub(c, 0, j, M, w.shape[0]), { transB: true, variant });
      j += w.shape[0];
    }
    return;
  }
  await recordPackedProduct({
    c,
    K,
    alpha: 1,
    accumulate: false,
    symmetric: false,
    bRows: true,
    packA: aSlices(a, false, M, K).fill,
    packB: async (k0, kc, t) => {
      let y0 = 0;
      for (const w of weights) {
        await copyRows(mat(w), k0, w.shape[0], kc, t, y0);
        y0 += w.shape[0];
      }
    },
  });
}

/** What {@link recordGatedProduct} computes, with its activation and check. */
export interface GatedProduct {
  /** the MLP's input [M, K] */
  a: MatrixView;
  /** gate and up weights, f32 [cols, K] each, as stored */
  gate: Tensor;
  up: Tensor;
  /** the output, f32 [M, ld] with ld a multiple of 4 and ≥ cols, its padding columns written as zeros */
  out: Tensor;
  /** activation code of lib/activation.wgsl (ACT) */
  act: number;
  /** u32 flags the NaN/Inf check of `out` goes to, and which of them (when `check`) */
  flags: Tensor;
  slot: number;
  check: boolean;
}

/**
 * Whether {@link recordGatedProduct} takes these operands: the texture variant, the gate/up product
 * within the texture limits, both weights' rows copyable into a texture, A's rows copyable or
 * packable, and `ld` a multiple of 4.
 */
export function gatedProductFits(a: MatrixView, gate: Tensor, up: Tensor, ld: number): boolean {
  const gpu = a.tensor.gpu, K = a.cols, cols = gate.shape[0];
  return matmulVariant(gpu) === "texture" && a.rows > 0 && cols > 0 && K > 0 && ld % 4 === 0 && ld >= cols &&
    gate.dtype === "f32" && up.dtype === "f32" && gate.shape.length === 2 && up.shape.length === 2 &&
    up.shape[0] === cols && gate.shape[1] === K && up.shape[1] === K && gpu.info.readsStorageTextures &&
    Math.max(Math.ceil(a.rows / REGISTER.T), Math.ceil((cols + Math.ceil(ld / 8) * 8) / REGISTER.T)) * REGISTER.T <=
      gpu.limits.maxTextureDimension2D &&
    copyableRows(mat(gate), cols, K, K) && copyableRows(mat(up), cols, K, K);
}

/**
 * Records a gated MLP's hidden activations straight from its fused gate/up product:
 * out[:, c] = act(A·Wgᵀ)[:, c] · (A·Wuᵀ)[:, c] for c < cols and zeros in out's padding columns, with
 * the NaN/Inf check of out recorded in the same pass (shaders/matmul_texture_gated.wgsl): the
 * values of {@link matmulRowStack} then shaders/gated_rows.wgsl bit for bit, without storing the
 * [M, 2·cols] product or reading it back. A k-slice at a time as {@link recordPackedProduct}: the
 * slices before the last are summed into a scratch [M, 2·cols] product (as matmulRowStack would),
 * which the last slice's kernel adds to its own. The caller checks {@link gatedProductFits}.
 */
export async function recordGatedProduct(g: GatedProduct): Promise<void> {
  const { a, gate, up, out } = g;
  const gpu = out.gpu, M = a.rows, K = a.cols, cols = gate.shape[0], ld = out.shape[1];
  const fillA = aSlices(a, false, M, K).fill;
  const heightA = Math.ceil(M / REGISTER.T) * REGISTER.T;
  // op(B)ᵀ's texture: Wg's rows from texel row 0, Wu's from row `cols`, and rows for the padding's tiles
  const heightB = Math.ceil((cols + Math.ceil(ld / 8) * 8) / REGISTER.T) * REGISTER.T; // up to the last tile's rows
  const slices = Math.ceil(K / REGISTER_K_PER_DISPATCH);
  using part = empty(gpu, slices > 1 ? [M, 2 * cols] : [4], "f32", "gate+up (earlier k-slices)"); // [4]: unread
  for (let k0 = 0, s = 0; s < slices; k0 += REGISTER_K_PER_DISPATCH, s++) {
    const kc = Math.min(REGISTER_K_PER_DISPATCH, K - k0), width = Math.ceil(kc / 4);
    const ta = gpu.textures.get("matmul A", width, heightA), tb = gpu.textures.get("matmul B rows", width, heightB);
    await fillA(k0, kc, ta, width, heightA);
    await copyRows(mat(gate), k0, cols, kc, tb, 0);
    await copyRows(mat(up), k0, cols, kc, tb, cols);
    const constants = { WG_X: REGISTER.WG, WG_Y: REGISTER.WG, B_ROWS: 1, ACCUMULATE: Number(s > 0) };
    const tile = REGISTER.T * REGISTER.WG;
    if (s < slices - 1) { // an earlier slice: the plain product, summed into `part`
      const kernel = textureProductShader(mat(part), false);
      await launch(gpu, kernel, { ta: ta.view, tb: tb.view, c: part }, {
        grid: [Math.ceil(2 * cols / tile), Math.ceil(M / tile), 1],
        params: { M, N: 2 * cols, K: kc, offC: 0, ldC: 2 * cols, alpha: 1 },
        constants,
      });
      continue;
    }
    await launch(gpu, "matmul_texture_gated", { ta: ta.view, tb: tb.view, part, c: out, flags: g.flags }, {
      grid: [Math.ceil(2 * ld / tile), Math.ceil(M / tile), 1],
      params: { M, N: 2 * ld, K: kc, ldC: ld, cols, upRow: cols, offG: 0, offU: cols, ldP: 2 * cols, slot: g.slot },
      constants: { ...constants, ACT: g.act, CHECK: Number(g.check) },
    });
  }
}

/**
 * Whether a product of M rows and N columns can read its operands from textures on `gpu`: the
 * runtime's WGSL reads storage textures (AdapterSummary.readsStorageTextures), and op(A)'s
 * M rows (padded to 16) and op(B)'s N columns (4 a texel, padded to 16) are within
 * `maxTextureDimension2D` (16384 on llvmpipe: Llama-2-7B's 11008-wide Hessian fits).
 */
export function textureFits(gpu: Gpu, M: number, N: number): boolean {
  const max = gpu.limits.maxTextureDimension2D;
  return gpu.info.readsStorageTextures && Math.ceil(M / REGISTER.T) * REGISTER.T <= max &&
    Math.ceil(N / REGISTER.T) * (REGISTER.T / 4) <= max;
}

/**
 * {@link recordProduct} with shaders/matmul_texture.wgsl: for each k-slice of at most
 * {@link REGISTER_K_PER_DISPATCH}, op(A)[:, slice] and op(B)[slice, :] go into the scratch textures
 * "matmul A" and "matmul B", then are multiplied (the first slice as asked, the rest accumulated).
 * An operand whose slice is rows of its buffer with a leading dimension that a texture copy takes
 * (see {@link copyableRows}) is copied — A untransposed, B untransposed, or B transposed (a linear
 * layer's weight, read by the kernel's B_ROWS form); the others are packed ({@link packTexture}).
 */
function recordTextureProduct(product: Product, K: number): Promise<void> {
  const { a, transA, b, transB, c } = product;
  const M = c.rows, N = c.cols;
  const copyB = !transB && copyableRows(b, K, N, K), bRows = transB && copyableRows(b, N, K, K);
  const slicesA = aSlices(a, transA, M, K);
  // XᵀX with X copied: op(A)ᵀ's rows (A_COLS) and op(B)'s rows are both X's rows, one texture serves both
  const same = a.tensor === b.tensor && a.offset === b.offset && a.ld === b.ld && a.rows === b.rows &&
    a.cols === b.cols;
  return recordPackedProduct({
    ...product,
    K,
    bRows,
    aCols: slicesA.cols,
    bFromA: slicesA.cols && copyB && same,
    // op(A)[:, k0 .. k0+kc] and op(B)[k0 .. k0+kc, :] as windows of the stored A and B
    packA: slicesA.fill,
    packB: (k0, kc, t, width, height) =>
      bRows
        ? copyRows(b, k0, N, kc, t)
        : copyB
        ? copyRows(b, k0 * b.ld, kc, N, t)
        : packTexture(b, transB, kc, N, transB ? k0 : k0 * b.ld, t.view, width, height),
  });
}

/**
 * How op(A)'s k-slices of a product with M rows and depth K reach their texture: copied when A's
 * rows can be ({@link copyableRows}) — untransposed as op(A)'s rows, transposed (A stored [K, M],
 * e.g. X of the Gram product XᵀX) as op(A)ᵀ's rows, which the kernel reads in its A_COLS form —
 * and packed by {@link packTexture} otherwise.
 */
export function aSlices(a: MatrixView, transA: boolean, M: number, K: number): { fill: PackSlice; cols: boolean } {
  if (!transA && copyableRows(a, M, K, K)) return { fill: (k0, kc, t) => copyRows(a, k0, M, kc, t), cols: false };
  if (transA && copyableRows(a, K, M, K)) return { fill: (k0, kc, t) => copyRows(a, k0 * a.ld, kc, M, t), cols: true };
  return {
    fill: (k0, kc, t, width, height) => packTexture(a, transA, M, kc, transA ? k0 * a.ld : k0, t.view, width, height),
    cols: false,
  };
}

/**
 * Whether the [rows, cols] window of `x`, and each of its k-slices, can be copied into a texture
 * row for row (four elements a texel): the product's K a multiple of 4 (`cols` or `rows` is K, so
 * slices never end inside a texel and need no zero padding), the leading dimension a multiple of
 * 64 (a texture copy's rows are 256-byte aligned), the offset a multiple of 4 (16-byte texels),
 * and the last row's last texel inside the buffer.
 */
function copyableRows(x: MatrixView, rows: number, cols: number, K: number): boolean {
  return K % 4 === 0 && x.ld % 64 === 0 && x.offset % 4 === 0 &&
    (x.offset + (rows - 1) * x.ld + 4 * Math.ceil(cols / 4)) * 4 <= x.tensor.buffer.size;
}

/**
 * Records copying the rows × cols window of x starting `shift` elements in into texture `t`, its
 * first row at texel row `y0`.
 */
function copyRows(x: MatrixView, shift: number, rows: number, cols: number, t: ScratchTexture, y0 = 0): Promise<void> {
  const gpu = x.tensor.gpu;
  const { buffer } = x.tensor;
  gpu.recorder.copyToTexture(buffer, (x.offset + shift) * 4, x.ld * 4, t.texture, Math.ceil(cols / 4), rows, y0);
  return Promise.resolve();
}

/** Records filling an operand's k-slice [k0, k0 + kc) into the scratch texture's texels [height, width]. */
export type PackSlice = (
  k0: number,
  kc: number,
  texture: ScratchTexture,
  width: number,
  height: number,
) => Promise<void>;

/**
 * C = alpha·op(A)·op(B) (+ C) with shaders/matmul_texture.wgsl (or its vec4-store form,
 * matmul_texture_vec4.wgsl, where C's rows allow), the operands filled slice by slice
 * by the given packers: op(A)'s slice as [ceil(M/16)·16 rows, ceil(kc/4) texels], op(B)'s as
 * [ceil(kc/4)·4 rows, ceil(N/16)·4 texels] — or, when `bRows`, op(B)ᵀ's as [ceil(N/16)·16 rows,
 * ceil(kc/4) texels], and when `aCols`, op(A)ᵀ's as [ceil(kc/4)·4 rows, ceil(M/16)·4 texels] —
 * padded as matmul_texture.wgsl says. The caller checks {@link textureFits}.
 * Shared by {@link matmul} and the half-weight product (linalg/matmul_half.ts), which widens its
 * weight while packing it.
 */
export async function recordPackedProduct(product: {
  c: MatrixView;
  K: number;
  alpha: number;
  accumulate: boolean;
  symmetric: boolean;
  bRows?: boolean;
  aCols?: boolean;
  /** op(B)'s texture is op(A)'s, as filled (XᵀX with X copied in the A_COLS layout); packB is not called */
  bFromA?: boolean;
  packA: PackSlice;
  packB: PackSlice;
}): Promise<void> {
  const { c, K, alpha, accumulate, symmetric } = product;
  const bRows = product.bRows ?? false, aCols = product.aCols ?? false;
  const M = c.rows, N = c.cols;
  const gpu = c.tensor.gpu;
  const tile = REGISTER.T * REGISTER.WG;
  const heightA = Math.ceil(M / REGISTER.T) * REGISTER.T, widthB = Math.ceil(N / REGISTER.T) * (REGISTER.T / 4);
  for (let k0 = 0; k0 < Math.max(K, 1); k0 += REGISTER_K_PER_DISPATCH) {
    const kc = Math.min(REGISTER_K_PER_DISPATCH, K - k0);
    // a symmetric product's earlier slices update the upper tiles only; its last writes the lower
    // triangle from them (lib/matmul_store.wgsl), so only that one needs the scalar kernel's mirror
    const kernel = textureProductShader(c, symmetric && k0 + kc >= K);
    const widthA = Math.max(1, Math.ceil(kc / 4)), heightB = Math.max(1, widthA * 4);
    const [wB, hB] = bRows ? [widthA, widthB * 4] : [widthB, heightB];
    const [wA, hA] = aCols ? [heightA / 4, heightB] : [widthA, heightA];
    const ta = gpu.textures.get(aCols ? "matmul A cols" : "matmul A", wA, hA);
    await product.packA(k0, kc, ta, wA, hA);
    // a role per layout: one texture grown to both would be as wide as one and as tall as the other
    const tb = product.bFromA ? ta : gpu.textures.get(bRows ? "matmul B rows" : "matmul B", wB, hB);
    if (!product.bFromA) await product.packB(k0, kc, tb, wB, hB);
    const constants = {
      WG_X: REGISTER.WG,
      WG_Y: REGISTER.WG,
      ACCUMULATE: Number(accumulate || k0 > 0),
      SYMMETRIC: Number(symmetric),
      B_ROWS: Number(bRows),
      A_COLS: Number(aCols),
    };
    const record = (grid: [number, number, number]) =>
      launch(gpu, kernel, { ta: ta.view, tb: tb.view, c: c.tensor }, {
        grid,
        params: { M, N, K: kc, offC: c.offset, ldC: c.ld, alpha },
        constants,
      });
    if (symmetric) {
      const tiles = Math.ceil(N / tile);
      await record(grid1d(gpu, (tiles * (tiles + 1)) / 2, 1));
    } else {
      // both dimensions fit a texture, so the grid is within the workgroup limit (16384 / 128 groups)
      await record([Math.ceil(N / tile), Math.ceil(M / tile), 1]);
    }
  }
}

/**
 * The texture product's kernel for a dispatch into output window `c`: shaders/matmul_texture_vec4.wgsl,
 * which writes C's rows four floats at a time (the same bits; llvmpipe stores lane by lane, so 4x
 * fewer stores), where every row of `c` is whole vec4s of its buffer — offset, leading dimension and
 * width multiples of 4, the buffer a multiple of 16 bytes — and the dispatch does not `mirror` (write
 * a SYMMETRIC product's lower triangle, down columns); shaders/matmul_texture.wgsl otherwise.
 * Exported for tests.
 */
export function textureProductShader(c: MatrixView, mirror: boolean): "matmul_texture" | "matmul_texture_vec4" {
  const vec4 = c.offset % 4 === 0 && c.ld % 4 === 0 && c.cols % 4 === 0 && c.tensor.buffer.size % 16 === 0;
  return !mirror && vec4 ? "matmul_texture_vec4" : "matmul_texture";
}

/**
 * Records packing op(x)[rows, cols], starting `shift` elements into the view, into the texels
 * [height, width] of `texture` (shaders/pack_texture_vec4.wgsl when the view's offset and leading
 * dimension are multiples of 4, shaders/pack_texture.wgsl otherwise).
 */
export async function packTexture(
  x: MatrixView,
  trans: boolean,
  rows: number,
  cols: number,
  shift: number,
  texture: GPUTextureView,
  width: number,
  height: number,
): Promise<void> {
  const gpu = x.tensor.gpu;
  const off = x.offset + shift;
  const constants = { WG_X: 8, WG_Y: 8, TRANS: Number(trans) };
  if (off % 4 === 0 && x.ld % 4 === 0 && x.tensor.buffer.size % 16 === 0) {
    await launch(gpu, "pack_texture_vec4", { x: x.tensor, t: texture }, {
      grid: [Math.ceil(width / 8), Math.ceil(height / 32), 1],
      params: { rows, cols, off, ld: x.ld, width, height },
      constants,
    });
  } else {
    await launch(gpu, "pack_texture", { x: x.tensor, t: texture }, {
      grid: [Math.ceil(width / 8), Math.ceil(height / 8), 1],
      params: { rows, cols, off, ld: x.ld, width, height },
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
