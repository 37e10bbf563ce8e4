/**
 * The kernels of a transformer forward pass: thin wrappers that check their arguments and record
 * one dispatch each of a WGSL kernel in `shaders/` (embedding gather, RMSNorm, LayerNorm, bias add,
 * rotary embedding, causal attention, activations, residual add, vocabulary-chunked NLL).
 *
 * Like every kernel wrapper in the project, these only record work; it runs at the next
 * submission (read a result or `await gpu.sync()` to wait). Inputs and outputs are f32 tensors,
 * row-major; "rows" are tokens (batch-major: row b·T + t is position t of window b).
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { grid1d, launch } from "../gpu/launch.ts";
import { budgetRanges, checkLoopBudget, loopCost } from "../gpu/loop_budget.ts";
import { empty, filledBy, type Tensor } from "../gpu/tensor.ts";
import { checkFinite, checkNoAlias, checkTensor, checkView } from "../linalg/checks.ts";
import { gatedProductFits, packTexture, recordGatedProduct } from "../linalg/matmul.ts";
import { readEnv } from "../util/env.ts";
import { describe, type MatrixView } from "../linalg/view.ts";
import type { Activation } from "./config.ts";

const WG = 256;
/**
 * Invocations per row of the row-reduction kernels (norms, NLL): 128 on GPUs; 16 on software
 * adapters, where each workgroup barrier costs time in proportion to the workgroup size
 * (llvmpipe: RMSNorm of 1024x256 takes 5 ms at 16 and 60 ms at 128).
 */
function rowWorkgroupSize(gpu: Gpu): number {
  return gpu.info.isFallback ? 16 : 128;
}
/**
 * Invocations per workgroup of the attention kernel, one per (window, head) pair: 8 on software
 * adapters (llvmpipe's SIMD width: one vector of lanes walking the same keys), 64 on GPUs.
 */
function attentionWorkgroupSize(gpu: Gpu): number {
  return gpu.info.isFallback ? 8 : 64;
}
/**
 * The texture variant's attention kernel for a head dimension: shaders/attention_texture_hd32.wgsl
 * for heads of 32 (4 queries an invocation), whose per-query arrays have the loops' exact sizes so
 * llvmpipe keeps them in registers (~1.25x, the same bits), else shaders/attention_texture.wgsl.
 */
export function attentionTextureKernel(headDim: number): "attention_texture" | "attention_texture_hd32" {
  return headDim === 32 && attentionQueryBlock(headDim) === 4 ? "attention_texture_hd32" : "attention_texture";
}
/** Largest head dimension the attention kernel holds in registers (MAX_HEAD_DIM in attention.wgsl). */
export const MAX_HEAD_DIM = 256;
/**
 * Queries per invocation of the attention kernel (QB in attention.wgsl): 4, fewer for heads wider
 * than 64 (QB·ceil(headDim/4) ≤ the 64 vec4s of its per-query arrays, ATT_ROWS·ATT_COLS in
 * lib/attention_main.wgsl).
 */
export function attentionQueryBlock(headDim: number): number {
  return Math.max(1, Math.min(4, Math.floor(64 / Math.ceil(headDim / 4))));
}

/** `ACT` override of activation.wgsl / gated_activation.wgsl. */
const ACT_CODE: Record<Activation, number> = { relu: 0, gelu_new: 1, gelu: 2, silu: 3 };

/**
 * A matrix stored as consecutive row chunks, each small enough for one storage binding — how
 * embedding tables and LM heads with large vocabularies live on the GPU.
 */
export interface RowChunks {
  /** rows of the whole matrix (e.g. the vocabulary size) */
  readonly rows: number;
  /** columns (e.g. the hidden size) */
  readonly cols: number;
  /** chunk i holds rows lo .. lo + tensor.shape[0] − 1, as a [n_i, cols] tensor */
  readonly chunks: readonly { readonly lo: number; readonly tensor: Tensor }[];
}

/**
 * How many rows of `cols` f32 values fit in one storage binding of `gpu` (and in `maxBytes`).
 * @param gpu the device whose `maxStorageBufferBindingSize` applies
 * @param cols values per row
 * @param maxBytes optional smaller cap (tests use it to force several chunks)
 * @returns at least 1
 */
export function rowsPerBinding(gpu: Gpu, cols: number, maxBytes = Infinity): number {
  const bytes = Math.min(gpu.limits.maxStorageBufferBindingSize, maxBytes);
  return Math.max(1, Math.floor(bytes / (4 * Math.max(1, cols))));
}

/** Releases every chunk's tensor. */
export function releaseRowChunks(m: RowChunks): void {
  for (const c of m.chunks) c.tensor.release();
}

/** A whole 2-D tensor as a single-chunk {@link RowChunks}. */
function asRowChunks(t: Tensor): RowChunks {
  if (t.shape.length !== 2) throw new RangeError(`asRowChunks: "${t.label}" has shape [${t.shape}]; expected 2-D`);
  return { rows: t.shape[0], cols: t.shape[1], chunks: [{ lo: 0, tensor: t }] };
}

function check2d(op: string, name: string, t: Tensor, rows?: number, cols?: number): [number, number] {
  t.assertAlive();
  if (t.dtype !== "f32") throw new TypeError(`${op}: ${name} "${t.label}" is ${t.dtype}; expected f32`);
  if (t.shape.length !== 2) throw new RangeError(`${op}: ${name} "${t.label}" has shape [${t.shape}]; expected 2-D`);
  const [r, c] = t.shape;
  if ((rows !== undefined && r !== rows) || (cols !== undefined && c !== cols)) {
    throw new RangeError(
      `${op}: ${name} "${t.label}" is ${r}x${c}; expected ${rows ?? r}x${cols ?? c}`,
    );
  }
  return [r, c];
}

function checkVector(op: string, name: string, t: Tensor, n: number): void {
  t.assertAlive();
  if (t.dtype !== "f32") throw new TypeError(`${op}: ${name} "${t.label}" is ${t.dtype}; expected f32`);
  if (t.size !== n) throw new RangeError(`${op}: ${name} "${t.label}" has ${t.size} elements; expected ${n}`);
}

/**
 * Gathers rows of a table by index: `out[t, :] = table[ids[t], :]` (or `+=` with `accumulate`).
 * Token embeddings, learned position embeddings (ids = positions + offset) and picking hidden
 * rows all use it. A table in several chunks costs one dispatch per chunk.
 *
 * @param ids u32 [n] row indices, each < table.rows
 * @param table the table, [rows, d] (a tensor or {@link RowChunks})
 * @param out f32 [n, d]
 * @param options accumulate: add into `out` instead of overwriting it
 * @throws RangeError on shape mismatches (indices are not checked on the GPU: out-of-range ids
 *   leave their rows untouched, so callers validate ids on the CPU)
 * @example
 * ```ts
 * await gatherRows(ids, embedding, hidden);                       // token embeddings
 * await gatherRows(positions, wpe, hidden, { accumulate: true }); // + learned positions
 * ```
 */
export async function gatherRows(
  ids: Tensor,
  table: Tensor | RowChunks,
  out: Tensor,
  options: { accumulate?: boolean } = {},
): Promise<void> {
  const op = "gatherRows";
  const chunks = "chunks" in table ? table : asRowChunks(table);
  checkTensor(op, "ids", ids, "u32", 0);
  const n = ids.size;
  check2d(op, "out", out, n, chunks.cols);
  for (const { lo, tensor } of chunks.chunks) {
    check2d(op, "table chunk", tensor, undefined, chunks.cols);
    checkNoAlias(op, "out", out, "table", tensor);
    const rows = tensor.shape[0];
    await launch(out.gpu, "embedding", { ids, table: tensor, out }, {
      grid: grid1d(out.gpu, n * chunks.cols, WG),
      params: { n, d: chunks.cols, lo, rows },
      constants: { WG, ACCUMULATE: Number(options.accumulate ?? false) },
    });
  }
}

/**
 * LLaMA's RMSNorm in f32: `y = x · rsqrt(mean(x²) + eps) · w`, per row.
 *
 * @param x f32 [rows, d]
 * @param weight f32 [d]
 * @param eps added to the mean square (config `rms_norm_eps`)
 * @param out f32 [rows, d], distinct from x (allocated when omitted)
 * @param check where the NaN/Inf check of the output goes, recorded in the same pass (none when omitted)
 * @returns `out`
 * @throws RangeError on shape mismatches, a negative / non-finite eps, or rows too long for one
 *   invocation's loop budget (thanos/gpu/loop_budget.ts)
 * @example
 * ```ts
 * const h = await rmsNorm(x, inputLayernorm, 1e-5); // [T, d]
 * ```
 */
export async function rmsNorm(
  x: Tensor,
  weight: Tensor,
  eps: number,
  out?: Tensor,
  check?: FiniteSlot,
): Promise<Tensor> {
  const op = "rmsNorm";
  const [rows, cols] = check2d(op, "x", x);
  checkVector(op, "weight", weight, cols);
  checkEps(op, eps);
  checkSlot(op, check);
  const y = out ?? empty(x.gpu, [rows, cols], "f32", "rmsNorm");
  check2d(op, "out", y, rows, cols);
  checkNoAlias(op, "out", y, "x", x);
  checkRowLoops(op, x.gpu, cols, 2, 1);
  using flags = checkFlags(x.gpu, check);
  const grid = grid1d(x.gpu, rows, 1); // one workgroup per row
  const slot = check?.slot ?? 0, constants = { WG: rowWorkgroupSize(x.gpu), CHECK: Number(check !== undefined) };
  // the normalising pass by vec4s (the same bits); x is bound twice there, so not where it must be split
  if (cols % 4 === 0 && wholeVec4s(x, weight, y) && x.buffer.size <= x.gpu.bindingLimit) {
    await launch(x.gpu, "rms_norm_vec4", { x, x4: x, w4: weight, y4: y, flags: flags.tensor }, {
      grid,
      params: { rows, cols, eps, slot },
      constants,
    });
  } else {
    await launch(x.gpu, "rms_norm", { x, w: weight, y, flags: flags.tensor }, {
      grid,
      params: { rows, cols, eps, slot },
      constants,
    });
  }
  return y;
}

/**
 * LayerNorm in f32: `y = (x − mean) / sqrt(var + eps) · w + b`, per row (biased variance).
 *
 * @param x f32 [rows, d]
 * @param weight f32 [d]
 * @param bias f32 [d]
 * @param eps added to the variance
 * @param out f32 [rows, d], distinct from x (allocated when omitted)
 * @returns `out`
 * @throws RangeError on shape mismatches, a negative / non-finite eps, or rows too long for one
 *   invocation's loop budget (thanos/gpu/loop_budget.ts)
 * @example
 * ```ts
 * const h = await layerNorm(x, ln1.weight, ln1.bias, 1e-5);
 * ```
 */
export async function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number, out?: Tensor): Promise<Tensor> {
  const op = "layerNorm";
  const [rows, cols] = check2d(op, "x", x);
  checkVector(op, "weight", weight, cols);
  checkVector(op, "bias", bias, cols);
  checkEps(op, eps);
  const y = out ?? empty(x.gpu, [rows, cols], "f32", "layerNorm");
  check2d(op, "out", y, rows, cols);
  checkNoAlias(op, "out", y, "x", x);
  checkRowLoops(op, x.gpu, cols, 3, 2);
  await launch(x.gpu, "layer_norm", { x, w: weight, b: bias, y }, {
    grid: grid1d(x.gpu, rows, 1), // one workgroup per row
    params: { rows, cols, eps },
    constants: { WG: rowWorkgroupSize(x.gpu) },
  });
  return y;
}

/**
 * The row-reduction kernels (one workgroup per row) walk a row `passes` times in steps of the
 * workgroup size and reduce `reductions` times: rows longer than the loop budget allows (~300k
 * columns on software adapters; hidden sizes are far smaller) are rejected.
 */
function checkRowLoops(op: string, gpu: Gpu, cols: number, passes: number, reductions: number): void {
  const wg = rowWorkgroupSize(gpu);
  const iterations = passes * loopCost(Math.ceil(cols / wg)) + reductions * loopCost(Math.log2(wg));
  checkLoopBudget(op, iterations, `rows of ${cols} columns`);
}

function checkEps(op: string, eps: number): void {
  if (!Number.isFinite(eps) || eps < 0) throw new RangeError(`${op}: eps is ${eps}; expected a finite number >= 0`);
}

/**
 * Adds a bias to every row in place: `x[r, c] += bias[c]`.
 * @param x f32 [rows, cols]
 * @param bias f32 [cols]
 * @example
 * ```ts
 * await biasAdd(y, fc1Bias); // y = x·Wᵀ + b
 * ```
 */
export async function biasAdd(x: Tensor, bias: Tensor): Promise<void> {
  const op = "biasAdd";
  const [rows, cols] = check2d(op, "x", x);
  checkVector(op, "bias", bias, cols);
  checkNoAlias(op, "x", x, "bias", bias);
  await launch(x.gpu, "bias_add", { bias, x }, {
    grid: grid1d(x.gpu, rows * cols, WG),
    params: { n: rows * cols, cols },
    constants: { WG },
  });
}

/**
 * Residual connection in place: `x += y` (same shape).
 * @param x f32, the residual stream
 * @param y f32, a sub-layer's output, distinct from x
 * @param check where the NaN/Inf check of the sum goes, recorded in the same pass (none when omitted)
 * @example
 * ```ts
 * await residualAdd(hidden, attnOut);
 * ```
 */
export async function residualAdd(x: Tensor, y: Tensor, check?: FiniteSlot): Promise<void> {
  const op = "residualAdd";
  x.assertAlive();
  y.assertAlive();
  if (x.dtype !== "f32" || y.dtype !== "f32") {
    throw new TypeError(`${op}: x "${x.label}" is ${x.dtype} and y "${y.label}" is ${y.dtype}; expected f32`);
  }
  if (x.size !== y.size) {
    throw new RangeError(
      `${op}: x "${x.label}" has shape [${x.shape}] but y "${y.label}" has [${y.shape}]; expected the same size`,
    );
  }
  checkNoAlias(op, "x", x, "y", y);
  checkSlot(op, check);
  using flags = checkFlags(x.gpu, check);
  const n = x.size, per = n % 4 === 0 && wholeVec4s(x, y) ? 4 : 1; // four floats an invocation: the same sums
  const addKernel = per === 4 ? "residual_add_vec4" : "residual_add";
  await launch(x.gpu, addKernel, { y, x, flags: flags.tensor }, {
    grid: grid1d(x.gpu, n / per, WG),
    params: { n, slot: check?.slot ?? 0 },
    constants: { WG, CHECK: Number(check !== undefined) },
  });
}

/**
 * Whether each tensor's buffer can be bound as array<vec4f> covering all of it (a multiple of 16
 * bytes): the vec4 forms of the elementwise kernels, which llvmpipe runs with a quarter of the
 * memory operations (it loads and stores storage lane by lane).
 */
function wholeVec4s(...tensors: Tensor[]): boolean {
  return tensors.every((t) => t.buffer.size % 16 === 0);
}

function checkSlot(op: string, check?: FiniteSlot): void {
  if (check && (!Number.isInteger(check.slot) || check.slot < 0 || check.slot >= check.flags.size)) {
    throw new RangeError(`${op}: slot ${check.slot} is outside flags of ${check.flags.size}`);
  }
}

/** The flags a kernel that may check its output binds: the check's, or a stand-in it never writes. */
function checkFlags(gpu: Gpu, check?: FiniteSlot): { tensor: Tensor } & Disposable {
  const standIn = check ? null : empty(gpu, [1], "u32", "no check");
  return { tensor: check?.flags ?? standIn!, [Symbol.dispose]: () => standIn?.release() };
}

/** Shapes of a multi-head projection: rows are batch·seqLen tokens. */
export interface HeadShape {
  /** tokens per window (positions 0 .. seqLen−1) */
  seqLen: number;
  heads: number;
  headDim: number;
}

/**
 * Rotary position embedding in place on a [batch·seqLen, heads·headDim] view, in HF's
 * "rotate half" layout: `x·cos + rotate_half(x)·sin` per head, position = row mod seqLen.
 *
 * @param x the query or key projection (a view, so a slice of a fused projection works too)
 * @param cos f32 [seqLen, headDim/2] (see `ropeTables` in rope.ts)
 * @param sin f32 [seqLen, headDim/2]
 * @param shape seqLen, heads, headDim (even)
 * @throws RangeError when the view is not [k·seqLen, heads·headDim] or the tables do not match
 * @example
 * ```ts
 * const { cos, sin } = await ropeTablesOnGpu(gpu, invFreq, T);
 * await rope(mat(q), cos, sin, { seqLen: T, heads: nh, headDim: hd });
 * ```
 */
export async function rope(x: MatrixView, cos: Tensor, sin: Tensor, shape: HeadShape): Promise<void> {
  const op = "rope";
  const { seqLen, heads, headDim } = shape;
  checkView(op, "x", x);
  checkPositive(op, { seqLen, heads, headDim });
  if (headDim % 2 !== 0) throw new RangeError(`${op}: headDim is ${headDim}; expected an even number`);
  if (x.cols !== heads * headDim || x.rows % seqLen !== 0) {
    throw new RangeError(
      `${op}: x ${describe(x)} is ${x.rows}x${x.cols}; expected (batch·${seqLen})x${heads * headDim} ` +
        `(${heads} heads of ${headDim})`,
    );
  }
  checkVector(op, "cos", cos, seqLen * headDim / 2);
  checkVector(op, "sin", sin, seqLen * headDim / 2);
  checkNoAlias(op, "x", x, "cos", cos);
  checkNoAlias(op, "x", x, "sin", sin);
  const { rows, offset, ld } = x, gpu = x.tensor.gpu;
  // four pairs an invocation where the view's rows are whole vec4s: the same bits
  const pairs = headDim % 8 === 0 && offset % 4 === 0 && ld % 4 === 0 && wholeVec4s(x.tensor, cos, sin) ? 4 : 1;
  const ropeKernel = pairs === 4 ? "rope_vec4" : "rope";
  await launch(gpu, ropeKernel, { cosTable: cos, sinTable: sin, x: x.tensor }, {
    grid: grid1d(gpu, rows * heads * headDim / (2 * pairs), WG),
    params: { rows, seqLen, heads, headDim, offset, ld },
    constants: { WG },
  });
}

function checkPositive(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${name} is ${v}; expected an integer >= 1`);
  }
}

/** Shapes and scale of {@link causalAttention}. */
export interface AttentionShape extends HeadShape {
  /** windows in the batch (q has batch·seqLen rows) */
  batch: number;
  /** key/value heads; `heads` must be a multiple (grouped-query attention) */
  kvHeads: number;
  /** multiplies q·k (usually 1/sqrt(headDim)) */
  scale: number;
}

/**
 * Causal multi-head self-attention with grouped-query attention: for each window, head h and
 * query i, `out_i = softmax_j≤i(scale · q_i·k_j) · v_j` with key/value head `h / (heads/kvHeads)`;
 * softmax in f32 with max-subtraction. No [T, T] matrix is stored. Long windows take their keys
 * in several dispatches ({@link attentionKeyRanges}), carrying each query's running softmax state
 * between them, so no invocation runs past llvmpipe's loop limit.
 *
 * @param q view [batch·seqLen, heads·headDim]
 * @param k view [batch·seqLen, kvHeads·headDim]
 * @param v view [batch·seqLen, kvHeads·headDim] (q, k, v may be windows of one fused tensor)
 * @param out f32 [batch·seqLen, heads·headDim], in a tensor of its own
 * @param shape batch, seqLen, heads, kvHeads, headDim (≤ 256), scale
 * @param variant the kernel (default: {@link attentionVariant})
 * @param check where the NaN/Inf check of `out` goes, recorded as it is written (none when omitted)
 * @throws RangeError on shape mismatches, heads not a multiple of kvHeads, or headDim > 256
 * @example
 * ```ts
 * await causalAttention(mat(q), mat(k), mat(v), att, { batch, seqLen: T, heads: nh, kvHeads: nkv, headDim: hd, scale: hd ** -0.5 });
 * ```
 */
export async function causalAttention(
  q: MatrixView,
  k: MatrixView,
  v: MatrixView,
  out: Tensor,
  shape: AttentionShape,
  variant?: AttentionVariant,
  check?: FiniteSlot,
): Promise<void> {
  const op = "causalAttention";
  checkSlot(op, check);
  const { batch, seqLen, heads, kvHeads, headDim, scale } = shape;
  checkPositive(op, { batch, seqLen, heads, kvHeads, headDim });
  if (heads % kvHeads !== 0) {
    throw new RangeError(`${op}: heads is ${heads} and kvHeads ${kvHeads}; expected heads to be a multiple of kvHeads`);
  }
  if (headDim > MAX_HEAD_DIM) throw new RangeError(`${op}: headDim is ${headDim}; expected at most ${MAX_HEAD_DIM}`);
  checkFinite(op, "scale", scale);
  const rows = batch * seqLen;
  for (const [name, view, h] of [["q", q, heads], ["k", k, kvHeads], ["v", v, kvHeads]] as const) {
    checkView(op, name, view);
    if (view.rows !== rows || view.cols !== h * headDim) {
      throw new RangeError(
        `${op}: ${name} ${describe(view)} is ${view.rows}x${view.cols}; expected ${rows}x${h * headDim} ` +
          `(${batch}·${seqLen} tokens, ${h} heads of ${headDim})`,
      );
    }
    checkNoAlias(op, "out", out, name, view);
  }
  check2d(op, "out", out, rows, heads * headDim);
  const gpu = out.gpu;
  const keyRanges = attentionKeyRanges(seqLen, headDim);
  const qb = attentionQueryBlock(headDim), wg = attentionWorkgroupSize(gpu);
  // (m, l) of every query and head between the dispatches of a long window (a stand-in when one does it all)
  using state = empty(gpu, [keyRanges.length > 1 ? rows * heads * 2 : 1], "f32", `${op}.state`);
  const rowsOf = (keyBegin: number) => Math.ceil(seqLen / qb) - Math.floor(keyBegin / qb);
  const common = {
    batchHeads: batch * heads,
    seqLen,
    heads,
    kvHeads,
    qOffset: q.offset,
    qLd: q.ld,
    slot: check?.slot ?? 0,
  };
  const constants = { WG: wg, HEAD_DIM: headDim, QB: qb, CHECK: Number(check !== undefined) };
  using flags = checkFlags(gpu, check);
  if (attentionVariant(gpu, shape, variant) === "texture") {
    // k and v packed into textures once, four columns a texel (pack_texture.wgsl), read by every
    // dispatch. Packed, not copied even where the rows could be: a buffer-to-texture copy of k right
    // after the products and RoPE that wrote it made the calibration forward 1.9x slower on llvmpipe
    // (tiny-llama's default prune: calibration 58.8 s copied against 31.5 s packed; the other stages equal)
    const width = (kvHeads * headDim) / 4;
    const tk = gpu.textures.view("attention K", width, rows), tv = gpu.textures.view("attention V", width, rows);
    await packTexture(k, false, rows, kvHeads * headDim, 0, tk, width, rows);
    await packTexture(v, false, rows, kvHeads * headDim, 0, tv, width, rows);
    const kernel = attentionTextureKernel(headDim);
    for (const [keyBegin, keyEnd] of keyRanges) {
      await launch(gpu, kernel, { q: q.tensor, tk, tv, out, state, flags: flags.tensor }, {
        grid: [Math.ceil((batch * heads) / wg), rowsOf(keyBegin), 1],
        params: { ...common, outLd: heads * headDim, keyBegin, keyEnd, scale },
        constants,
      });
    }
    return;
  }
  for (const [keyBegin, keyEnd] of keyRanges) {
    await launch(gpu, "attention", { q: q.tensor, k: k.tensor, v: v.tensor, out, state, flags: flags.tensor }, {
      // x: (window, head) pairs; y: blocks of qb queries from the one holding query keyBegin
      grid: [Math.ceil((batch * heads) / wg), rowsOf(keyBegin), 1],
      params: {
        ...common,
        kOffset: k.offset,
        kLd: k.ld,
        vOffset: v.offset,
        vLd: v.ld,
        outLd: heads * headDim,
        keyBegin,
        keyEnd,
        scale,
      },
      constants,
    });
  }
}

/** The kernels {@link causalAttention} can run: reading k and v from storage or from textures. */
export type AttentionVariant = "storage" | "texture";
/** Environment variable that picks the attention kernel (benchmarks compare the two). */
export const ATTENTION_VARIANT_ENV = "THANOS_ATTENTION_VARIANT";

/**
 * The kernel {@link causalAttention} runs: `requested`, else `$THANOS_ATTENTION_VARIANT`, else
 * `"texture"` on fallback (software) adapters, where a texel fetch is SIMD code and a storage load
 * a loop over the lanes (shaders/attention_texture.wgsl), and `"storage"` on GPUs. The texture
 * kernel needs WGSL that reads storage textures (AdapterSummary.readsStorageTextures), a head
 * dimension that is a multiple of 4 and k, v within the adapter's texture size (batch·seqLen rows,
 * kvHeads·headDim / 4 texels a row); otherwise the storage one runs.
 * @throws RangeError when `requested` or the environment variable names no variant
 */
export function attentionVariant(
  gpu: Gpu,
  shape: Pick<AttentionShape, "batch" | "seqLen" | "kvHeads" | "headDim">,
  requested?: AttentionVariant,
): AttentionVariant {
  const chosen = requested ?? (readEnv(ATTENTION_VARIANT_ENV) || undefined);
  if (chosen !== undefined && chosen !== "storage" && chosen !== "texture") {
    const source = requested !== undefined ? "variant" : `$${ATTENTION_VARIANT_ENV}`;
    throw new RangeError(`causalAttention: ${source} is "${chosen}"; expected "storage" or "texture"`);
  }
  if ((chosen ?? (gpu.info.isFallback ? "texture" : "storage")) === "storage") return "storage";
  const max = gpu.limits.maxTextureDimension2D;
  const fits = gpu.info.readsStorageTextures && shape.headDim % 4 === 0 && shape.batch * shape.seqLen <= max &&
    (shape.kvHeads * shape.headDim) / 4 <= max;
  return fits ? "texture" : "storage";
}

/**
 * The key ranges [begin, end) of the dispatches of {@link causalAttention} for a window of
 * `seqLen` tokens. The kernel walks keys four at a time; a block of four keys costs an invocation
 * two loops over the head dimension in steps of 4 (q·k and the weighted v), each step running a
 * loop over the invocation's QB queries, and two more loops over the queries (the scores' reset
 * and the softmax update) — all counted as not unrolled (the short ones are, when the compiler
 * chooses). Loading the queries and storing the outputs costs the same every dispatch. Each
 * dispatch stays within the loop budget (thanos/gpu/loop_budget.ts): up to 1156 keys per dispatch
 * at headDim 64 and 892 at 128 (a window of 2048 tokens takes 2 and 3 dispatches).
 * @example
 * ```ts
 * attentionKeyRanges(1300, 64); // [[0, 1156], [1156, 1300]]
 * ```
 */
export function attentionKeyRanges(seqLen: number, headDim: number): [number, number][] {
  const qb = attentionQueryBlock(headDim), hd4 = Math.ceil(headDim / 4);
  const perDim = loopCost(hd4) + hd4 * loopCost(qb); // one loop over the head dimension
  const perBlock = 2 * perDim + 2 * loopCost(qb) + 1; // four keys
  const overhead = 2 * loopCost(qb) + qb * (loopCost(hd4) + hd4 * loopCost(4)) + qb * loopCost(headDim);
  // whole blocks of four keys, so every dispatch but the last ends on a block boundary
  return budgetRanges("causalAttention", Math.ceil(seqLen / 4), perBlock, overhead)
    .map(([b0, b1]): [number, number] => [4 * b0, Math.min(seqLen, 4 * b1)]);
}

/**
 * An activation in place, `x = act(x)`: relu, gelu_new (tanh approximation), gelu (erf) or silu.
 * @param x f32 tensor of any shape
 * @param kind the activation (config `activation`)
 * @example
 * ```ts
 * await activation(h, "gelu_new");
 * ```
 */
export async function activation(x: Tensor, kind: Activation): Promise<void> {
  const op = "activation";
  checkTensor(op, "x", x, "f32", 0);
  await launch(x.gpu, "activation", { x }, {
    grid: grid1d(x.gpu, x.size, WG),
    params: { n: x.size },
    constants: { WG, ACT: actCode(op, kind) },
  });
}

/**
 * Gated activation in place, `gate = act(gate) · up` — LLaMA's SwiGLU with `silu`.
 * @param gate f32, overwritten with the result
 * @param up f32, same size, distinct from gate
 * @param kind the activation applied to the gate
 * @example
 * ```ts
 * await gatedActivation(g, u, "silu"); // g = silu(g) * u
 * ```
 */
export async function gatedActivation(gate: Tensor, up: Tensor, kind: Activation): Promise<void> {
  const op = "gatedActivation";
  gate.assertAlive();
  up.assertAlive();
  if (gate.dtype !== "f32" || up.dtype !== "f32") {
    throw new TypeError(
      `${op}: gate "${gate.label}" is ${gate.dtype} and up "${up.label}" is ${up.dtype}; expected f32`,
    );
  }
  if (gate.size !== up.size) {
    throw new RangeError(`${op}: gate has shape [${gate.shape}] but up has [${up.shape}]; expected the same size`);
  }
  checkNoAlias(op, "gate", gate, "up", up);
  await launch(gate.gpu, "gated_activation", { up, gate }, {
    grid: grid1d(gate.gpu, gate.size, WG),
    params: { n: gate.size },
    constants: { WG, ACT: actCode(op, kind) },
  });
}

/** Where a kernel records the NaN/Inf check of what it writes (see thanos/model/finite.ts). */
export interface FiniteSlot {
  /** u32 flags, cleared before the checks (first_nonfinite.wgsl's convention) */
  flags: Tensor;
  /** the element of `flags` this check writes */
  slot: number;
}

/**
 * Gated activation of row windows into a new row-padded tensor: `out[r, c] = act(gate[r, c]) ·
 * up[r, c]` for c < cols and zeros in the padding columns up to `ld`, with the NaN/Inf check of
 * the result recorded into `check` in the same pass (shaders/gated_rows.wgsl). The values are
 * {@link gatedActivation}'s bit for bit. gate and up may be windows of one tensor (a fused
 * gate/up product); `ld` lets the next product copy the rows into a texture (see
 * `matmulRowStack` and `paddedWidth` in linalg/view.ts).
 *
 * @param gate view [rows, cols]
 * @param up view [rows, cols]
 * @param kind the activation applied to the gate
 * @param ld the output's row length, ≥ cols
 * @param check where the check of the output goes (indices in the unpadded [rows, cols] layout); none when omitted
 * @returns a new f32 [rows, ld] tensor; the result is its [rows, cols] window
 * @example
 * ```ts
 * using hidden = await gatedActivationRows(sub(gu, 0, 0, n, f), sub(gu, 0, f, n, f), "silu", paddedWidth(f));
 * ```
 */
export async function gatedActivationRows(
  gate: MatrixView,
  up: MatrixView,
  kind: Activation,
  ld: number,
  check?: FiniteSlot,
): Promise<Tensor> {
  const op = "gatedActivationRows";
  checkView(op, "gate", gate);
  checkView(op, "up", up);
  const { rows, cols } = gate;
  if (up.rows !== rows || up.cols !== cols) {
    throw new RangeError(`${op}: gate is ${rows}x${cols} but up is ${up.rows}x${up.cols}; expected the same shape`);
  }
  if (!Number.isInteger(ld) || ld < cols) throw new RangeError(`${op}: ld is ${ld}; expected an integer >= ${cols}`);
  if (rows * ld >= 0xffffffff) throw new RangeError(`${op}: ${rows}x${ld} outputs; at most 2³² − 2`);
  checkSlot(op, check);
  const gpu = gate.tensor.gpu;
  const out = empty(gpu, [rows, ld], "f32", "gated activation");
  try {
    using flags = checkFlags(gpu, check);
    await launch(gpu, "gated_rows", { gate: gate.tensor, up: up.tensor, out, flags: flags.tensor }, {
      grid: grid1d(gpu, rows * ld, WG),
      params: {
        rows,
        cols,
        offG: gate.offset,
        ldG: gate.ld,
        offU: up.offset,
        ldU: up.ld,
        ldOut: ld,
        slot: check?.slot ?? 0,
      },
      constants: { WG, ACT: actCode(op, kind), CHECK: Number(check !== undefined) },
    });
  } catch (err) {
    out.release();
    throw err;
  }
  return out;
}

/**
 * A gated MLP's hidden activations straight from its input, where the texture product takes the
 * shapes ({@link gatedProductFits}; null otherwise, and the caller runs the product then
 * {@link gatedActivationRows}): `out[r, c] = act(x·Wgᵀ)[r, c] · (x·Wuᵀ)[r, c]` for c < cols, zeros
 * in the padding columns up to `ld`, checked for NaN/Inf into `check` — the gate/up product's
 * epilogue (shaders/matmul_texture_gated.wgsl), so the [rows, 2·cols] product is never stored and
 * read back. Bit for bit `matmulRowStack(x, [Wg, Wu])` then {@link gatedActivationRows}.
 *
 * @param x the MLP's input [rows, K]
 * @param gate the gate weight f32 [cols, K], as stored
 * @param up the up weight f32 [cols, K]
 * @param kind the activation
 * @param ld the output's row length (a multiple of 4, ≥ cols; `paddedWidth(cols)` for a texture copy)
 * @param check where the NaN/Inf check of the output goes
 * @returns a new f32 [rows, ld] tensor, or null when the fused product does not apply
 * @example
 * ```ts
 * using hidden = await gatedProductRows(mat(h), wGate, wUp, "silu", paddedWidth(f)); // [N, 704]
 * ```
 */
export async function gatedProductRows(
  x: MatrixView,
  gate: Tensor,
  up: Tensor,
  kind: Activation,
  ld: number,
  check?: FiniteSlot,
): Promise<Tensor | null> {
  const op = "gatedProductRows";
  checkView(op, "x", x);
  checkSlot(op, check);
  const act = actCode(op, kind);
  if (!gatedProductFits(x, gate, up, ld)) return null;
  const gpu = x.tensor.gpu;
  return await filledBy(empty(gpu, [x.rows, ld], "f32", "gated activation"), async (out) => {
    using flags = checkFlags(gpu, check);
    const slot = check?.slot ?? 0;
    await recordGatedProduct({ a: x, gate, up, out, act, flags: flags.tensor, slot, check: check !== undefined });
  });
}

function actCode(op: string, kind: Activation): number {
  const code = ACT_CODE[kind];
  if (code === undefined) {
    throw new RangeError(
      `${op}: activation "${kind}" is not supported; supported: ${Object.keys(ACT_CODE).join(", ")}`,
    );
  }
  return code;
}

/** Where a chunk of logits sits in the vocabulary, for {@link nllUpdate}. */
export interface NllChunk {
  /** vocabulary id of the chunk's first column */
  lo: number;
  /** this is the first chunk (starts a fresh running state) */
  first: boolean;
  /** this is the last chunk (writes the NLL) */
  last: boolean;
}

/**
 * Folds one column chunk of logits into a running log-sum-exp per row and, on the last chunk,
 * writes `nll[r] = logsumexp(logits[r, :]) − logits[r, targets[r]]`, so the vocabulary is reduced
 * on the GPU however many chunks it takes. A chunk wider than one invocation's loop budget allows
 * (~480k columns on software adapters, see thanos/gpu/loop_budget.ts) is folded in over several
 * dispatches.
 *
 * @param logits view [rows, cols] (any window): vocabulary columns lo .. lo+cols−1
 * @param targets u32 [rows] vocabulary ids
 * @param state f32 [rows, 3] running (max, Σexp, target logit), carried between chunks
 * @param nll f32 [rows], written by the last chunk
 * @param chunk lo, first, last
 * @example
 * ```ts
 * await nllUpdate(mat(logits), targets, state, nll, { lo: 0, first: true, last: true });
 * ```
 */
export async function nllUpdate(
  logits: MatrixView,
  targets: Tensor,
  state: Tensor,
  nll: Tensor,
  chunk: NllChunk,
): Promise<void> {
  await vocabChunkUpdate("nllUpdate", "nll", logits, targets, state, nll, chunk);
}

/**
 * The two vocabulary-chunk reductions: per row, the state each carries between chunks and what
 * its last chunk writes — the NLL (`nll.wgsl`: state (max, Σexp, target logit), out [rows]) and
 * lm-eval's (log p(target), greedy) (`token_logprob.wgsl`: the argmax id as a fourth state value,
 * out [rows, 2]).
 */
const VOCAB_CHUNK_SHAPES = { nll: { state: 3, out: 1 }, token_logprob: { state: 4, out: 2 } } as const;

/**
 * Folds one column chunk of logits into the running state of `shader`'s reduction (see
 * {@link VOCAB_CHUNK_SHAPES}) and, on the last chunk, writes its result to `out`: the launch loop
 * behind `nllUpdate` and `tokenLogprobUpdate` (token_logprob.ts). A chunk wider than one
 * invocation's loop budget allows (~480k columns on software adapters, see
 * thanos/gpu/loop_budget.ts) is folded in over several dispatches.
 *
 * @param op the caller's name, for messages
 * @param shader which reduction
 * @param logits view [rows, cols] (any window): vocabulary columns lo .. lo+cols−1
 * @param targets u32 [rows] vocabulary ids
 * @param state f32 [rows, 3 or 4], carried between chunks
 * @param out f32 [rows] or [rows, 2], written by the last chunk
 * @param chunk lo, first, last
 */
export async function vocabChunkUpdate(
  op: string,
  shader: keyof typeof VOCAB_CHUNK_SHAPES,
  logits: MatrixView,
  targets: Tensor,
  state: Tensor,
  out: Tensor,
  chunk: NllChunk,
): Promise<void> {
  checkView(op, "logits", logits);
  const rows = logits.rows;
  checkTensor(op, "targets", targets, "u32", 0);
  if (targets.size !== rows) {
    throw new RangeError(
      `${op}: targets "${targets.label}" has ${targets.size} elements; expected ${rows} (one per logits row)`,
    );
  }
  const outName = shader === "nll" ? "nll" : "scores";
  checkVector(op, "state", state, rows * VOCAB_CHUNK_SHAPES[shader].state);
  checkVector(op, outName, out, rows * VOCAB_CHUNK_SHAPES[shader].out);
  checkNoAlias(op, "state", state, "logits", logits);
  checkNoAlias(op, outName, out, "logits", logits);
  checkNoAlias(op, outName, out, "state", state);
  if (!Number.isInteger(chunk.lo) || chunk.lo < 0) {
    throw new RangeError(`${op}: lo is ${chunk.lo}; expected an integer >= 0`);
  }
  const gpu = logits.tensor.gpu;
  const wg = rowWorkgroupSize(gpu);
  // an invocation reads every WG-th column twice (max, then Σ exp): a chunk wider than the loop
  // budget allows is folded in as several narrower ones
  const ranges = budgetRanges(op, Math.max(1, Math.ceil(logits.cols / wg)), 2, 2 * loopCost(Math.log2(wg)) + 2);
  for (const [i, [b0, b1]] of ranges.entries()) {
    const c0 = b0 * wg, c1 = Math.min(logits.cols, b1 * wg);
    await launch(gpu, shader, { logits: logits.tensor, targets, state, out }, {
      grid: grid1d(gpu, rows, 1), // one workgroup per row
      params: {
        rows,
        cols: c1 - c0,
        lo: chunk.lo + c0,
        offset: logits.offset + c0,
        ld: logits.ld,
        first: Number(chunk.first && i === 0),
        last: Number(chunk.last && i === ranges.length - 1),
      },
      constants: { WG: wg },
    });
  }
}
