/**
 * The kernels of a one-token decode step: thin wrappers that check their arguments and record one
 * dispatch each of a WGSL kernel in `shaders/` (matrix-vector product, KV-cache append with the
 * rotary embedding, attention scores / softmax / weighted values over the cache, argmax).
 *
 * Like every kernel wrapper in the project they only record work; it runs at the next submission.
 * Vectors are f32 tensors addressed by an element offset, so the q, k and v of one token can live in
 * one buffer (GPT-2's fused c_attn output, or three products written side by side).
 *
 * @module
 */

import { grid1d, launch } from "../gpu/launch.ts";
import { checkLoopBudget, LOOP_BUDGET, loopCost } from "../gpu/loop_budget.ts";
import type { Gpu } from "../gpu/device.ts";
import { type Tensor, zeros } from "../gpu/tensor.ts";
import type { HalfWeight } from "../linalg/matmul_half.ts";
import { checkFinite, checkNoAlias, checkTensor } from "../linalg/checks.ts";

const WG = 64;
/** Workgroup size of the argmax reduction (a power of two). */
const ARGMAX_WG = 256;

/** A 1-element tensor per device, bound where a kernel's optional input is switched off. */
const placeholders = new WeakMap<Gpu, Tensor>();
function placeholder(gpu: Gpu): Tensor {
  let t = placeholders.get(gpu);
  if (!t || t.released) {
    t = zeros(gpu, [1], "f32", "placeholder");
    placeholders.set(gpu, t);
  }
  return t;
}

function checkCount(op: string, values: Record<string, number>, min = 0): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${op}: ${name} is ${v}; expected an integer >= ${min}`);
  }
}

/** Throws unless elements [offset, offset + n) lie inside `t`. */
function checkRange(op: string, name: string, t: Tensor, offset: number, n: number): void {
  checkTensor(op, name, t, "f32", 0);
  checkCount(op, { [`${name} offset`]: offset });
  if (offset + n > t.size) {
    throw new RangeError(
      `${op}: ${name} needs elements [${offset}, ${offset + n}) but "${t.label}" has only ${t.size}`,
    );
  }
}

/** Options of {@link matvec}. */
export interface MatvecOptions {
  /** added to the product, f32 [rows] */
  bias?: Tensor | null;
  /** y += W·x (+ b) instead of y = W·x (+ b): a residual connection fused into the product */
  accumulate?: boolean;
  /** element offsets of W's first row, of x and of y (default 0) */
  wOffset?: number;
  xOffset?: number;
  yOffset?: number;
  /** rows of W to use (default all of a 2-D `w`) */
  rows?: number;
}

/**
 * y = W·x + b for one token: W [rows, cols] row-major (a linear weight [out, in]), x [cols], y [rows].
 * When cols and the offsets of W and x are multiples of 4 it runs `shaders/matvec_vec4.wgsl` (vec4
 * loads, 4 rows an invocation), else `shaders/matvec.wgsl`.
 *
 * @param w f32 [rows, cols] (rows from `options.rows`, else w.shape[0])
 * @param x f32 vector of cols values at `xOffset`
 * @param y f32 vector of rows values at `yOffset`, in a tensor of its own
 * @throws RangeError on shape mismatches, aliasing, or rows too long for one invocation's loop budget
 * @example
 * ```ts
 * await matvec(qProj.weight, h, qkv, { bias: qProj.bias, yOffset: 0 }); // q = Wq·h + bq
 * await matvec(oProj.weight, att, x, { accumulate: true });             // x += Wo·att
 * ```
 */
export async function matvec(w: Tensor, x: Tensor, y: Tensor, options: MatvecOptions = {}): Promise<void> {
  const op = "matvec";
  const { bias = null, accumulate = false, wOffset = 0, xOffset = 0, yOffset = 0 } = options;
  checkTensor(op, "w", w, "f32", 0);
  if (w.shape.length !== 2) throw new RangeError(`${op}: w "${w.label}" has shape [${w.shape}]; expected 2-D`);
  const cols = w.shape[1];
  const rows = options.rows ?? w.shape[0];
  checkCount(op, { rows, cols }, 1);
  checkRange(op, "w", w, wOffset, rows * cols);
  checkRange(op, "x", x, xOffset, cols);
  checkRange(op, "y", y, yOffset, rows);
  if (bias) checkRange(op, "bias", bias, 0, rows);
  checkNoAlias(op, "y", y, "w", w);
  checkNoAlias(op, "y", y, "x", x);
  if (bias) checkNoAlias(op, "y", y, "bias", bias);
  checkLoopBudget(op, loopCost(Math.ceil(cols / 4)) + loopCost(4), `rows of ${cols} columns`);
  const constants = { HAS_BIAS: Number(bias !== null), ACCUMULATE: Number(accumulate) };
  if (cols % 4 === 0 && wOffset % 4 === 0 && xOffset % 4 === 0) {
    // W and x as vec4s, 4 rows an invocation (shaders/matvec_vec4.wgsl: ~1.5x on llvmpipe); small
    // workgroups for short matrices, so their few row groups still spread over the CPU's threads
    const wg = rows >= 2048 ? WG : 16;
    await launch(w.gpu, "matvec_vec4", { w, x, bias: bias ?? x, y }, {
      grid: grid1d(w.gpu, Math.ceil(rows / 4), wg),
      params: { rows, cols4: cols / 4, wOffset4: wOffset / 4, xOffset4: xOffset / 4, yOffset },
      constants: { WG: wg, ...constants },
    });
    return;
  }
  await launch(w.gpu, "matvec", { w, x, bias: bias ?? w, y }, {
    grid: grid1d(w.gpu, rows, WG),
    params: { rows, cols, wOffset, xOffset, yOffset },
    constants: { WG, ...constants },
  });
}

/**
 * y = W·x + b (or y += …) for one token with W kept at 2 bytes a weight on the GPU (a `HalfWeight`
 * of an F16/BF16 checkpoint loaded with `halfWeights`): shaders/matvec_half.wgsl, each half widened
 * exactly to f32, the sum in f32.
 * @param w the packed weight [rows, cols]
 * @param x f32 [cols] at `xOffset`
 * @param y f32 [rows] at `yOffset`
 * @param options bias [rows], accumulate, offsets (wOffset and rows are not supported: the whole weight)
 * @throws RangeError on sizes or aliasing, naming the operand
 * @example
 * ```ts
 * await matvecHalf(layer.half, x, y, { bias: layer.bias });
 * ```
 */
export async function matvecHalf(
  w: HalfWeight,
  x: Tensor,
  y: Tensor,
  options: Omit<MatvecOptions, "wOffset" | "rows"> = {},
): Promise<void> {
  const op = "matvecHalf";
  const { bias = null, accumulate = false, xOffset = 0, yOffset = 0 } = options;
  const { rows, cols, ld } = w;
  checkTensor(op, "w", w.tensor, "u32", rows * ld);
  checkCount(op, { rows, cols }, 1);
  checkRange(op, "x", x, xOffset, cols);
  checkRange(op, "y", y, yOffset, rows);
  if (bias) checkRange(op, "bias", bias, 0, rows);
  checkNoAlias(op, "y", y, "w", w.tensor);
  checkNoAlias(op, "y", y, "x", x);
  if (bias) checkNoAlias(op, "y", y, "bias", bias);
  checkLoopBudget(op, loopCost(Math.floor(cols / 2)) + loopCost(4), `rows of ${cols} columns`);
  const wg = rows >= 2048 ? WG : 16; //     small workgroups for short matrices (as matvec_vec4)
  await launch(x.gpu, "matvec_half", { w: w.tensor, x, bias: bias ?? x, y }, {
    grid: grid1d(x.gpu, Math.ceil(rows / 4), wg),
    params: { rows, cols, ldW: ld, xOffset, yOffset, bf16: w.dtype === "BF16" ? 1 : 0 },
    constants: { WG: wg, HAS_BIAS: Number(bias !== null), ACCUMULATE: Number(accumulate) },
  });
}

/** Heads of a decode step's attention. */
export interface DecodeHeads {
  heads: number;
  /** key/value heads; `heads` must be a multiple (grouped-query attention) */
  kvHeads: number;
  headDim: number;
}

function checkHeads(op: string, { heads, kvHeads, headDim }: DecodeHeads): void {
  checkCount(op, { heads, kvHeads, headDim }, 1);
  if (heads % kvHeads !== 0) {
    throw new RangeError(`${op}: heads is ${heads} and kvHeads ${kvHeads}; expected heads to be a multiple of kvHeads`);
  }
}

/** Where {@link kvAppend} finds the token's projections and where it writes them. */
export interface KvAppendArgs extends DecodeHeads {
  /** the token's position (row of the rotary tables) */
  pos: number;
  /** its row inside the cache chunk */
  row: number;
  /** element offsets of q, k and v inside `qkv` */
  qOffset: number;
  kOffset: number;
  vOffset: number;
  /** rotary tables cos/sin [positions, headDim/2] (LLaMA), or null for no rotation */
  rope: { cos: Tensor; sin: Tensor } | null;
}

/**
 * Writes one token's key and value into a chunk of a block's KV cache, rotating its query (in place)
 * and key first when `rope` is given.
 *
 * @param qkv f32, the token's q [heads·headDim], k and v [kvHeads·headDim] at their offsets
 * @param kCache f32 [chunkRows, kvHeads·headDim]; row `row` is written
 * @param vCache f32 [chunkRows, kvHeads·headDim]; row `row` is written
 * @throws RangeError on an odd headDim, out-of-range offsets/rows/positions, or aliasing
 * @example
 * ```ts
 * await kvAppend(qkv, kChunk, vChunk, { pos: 7, row: 7, heads: 8, kvHeads: 4, headDim: 32,
 *   qOffset: 0, kOffset: 256, vOffset: 384, rope: { cos, sin } });
 * ```
 */
export async function kvAppend(qkv: Tensor, kCache: Tensor, vCache: Tensor, args: KvAppendArgs): Promise<void> {
  const op = "kvAppend";
  checkHeads(op, args);
  const { heads, kvHeads, headDim, pos, row, qOffset, kOffset, vOffset, rope } = args;
  if (headDim % 2 !== 0) throw new RangeError(`${op}: headDim is ${headDim}; expected an even number`);
  checkCount(op, { pos, row });
  const width = kvHeads * headDim;
  checkRange(op, "q", qkv, qOffset, heads * headDim);
  checkRange(op, "k", qkv, kOffset, width);
  checkRange(op, "v", qkv, vOffset, width);
  for (const [name, c] of [["kCache", kCache], ["vCache", vCache]] as const) {
    checkTensor(op, name, c, "f32", 0);
    if (c.shape.length !== 2 || c.shape[1] !== width || row >= c.shape[0]) {
      throw new RangeError(
        `${op}: ${name} "${c.label}" has shape [${c.shape}]; expected [rows > ${row}, ${width}]`,
      );
    }
    checkNoAlias(op, name, c, "qkv", qkv);
  }
  checkNoAlias(op, "kCache", kCache, "vCache", vCache);
  if (rope) {
    for (const t of [rope.cos, rope.sin]) {
      checkTensor(op, "rope table", t, "f32", 0);
      if (t.shape.length !== 2 || t.shape[1] !== headDim / 2 || pos >= t.shape[0]) {
        throw new RangeError(
          `${op}: rope table "${t.label}" has shape [${t.shape}]; expected [positions > ${pos}, ${headDim / 2}]`,
        );
      }
    }
  }
  const pairs = (heads + 2 * kvHeads) * headDim / 2;
  await launch(qkv.gpu, "kv_append", {
    cosTable: rope?.cos ?? placeholder(qkv.gpu),
    sinTable: rope?.sin ?? placeholder(qkv.gpu),
    qkv,
    kCache,
    vCache,
  }, {
    grid: grid1d(qkv.gpu, pairs, WG),
    params: { pos, row, heads, kvHeads, headDim, qOffset, kOffset, vOffset },
    constants: { WG, ROPE: Number(rope !== null) },
  });
}

/** One chunk of cached keys or values: positions lo .. lo + n − 1 in rows 0 .. n − 1 of `tensor`. */
export interface CacheSlice {
  tensor: Tensor;
  lo: number;
  n: number;
}

function checkSlice(op: string, name: string, s: CacheSlice, width: number, ldS: number): void {
  checkTensor(op, name, s.tensor, "f32", 0);
  checkCount(op, { [`${name} lo`]: s.lo, [`${name} n`]: s.n });
  if (s.tensor.shape.length !== 2 || s.tensor.shape[1] !== width || s.n > s.tensor.shape[0]) {
    throw new RangeError(
      `${op}: ${name} "${s.tensor.label}" has shape [${s.tensor.shape}]; expected [>= ${s.n}, ${width}]`,
    );
  }
  if (s.lo + s.n > ldS) {
    throw new RangeError(`${op}: ${name} covers positions up to ${s.lo + s.n}, past the ${ldS} score columns`);
  }
}

/**
 * Attention scores of one query against a chunk of cached keys:
 * `scores[h, lo + j] = scale · q_h·k_j` (head h reads key head h / (heads / kvHeads)).
 *
 * @param q f32, the rotated query [heads·headDim] at `qOffset`
 * @param keys the chunk
 * @param scores f32 [heads, ldS]
 * @example
 * ```ts
 * await decodeScores(qkv, 0, { tensor: kChunk, lo: 0, n: 12 }, scores, { heads: 8, kvHeads: 4, headDim: 32 }, 32 ** -0.5);
 * ```
 */
export async function decodeScores(
  q: Tensor,
  qOffset: number,
  keys: CacheSlice,
  scores: Tensor,
  shape: DecodeHeads,
  scale: number,
): Promise<void> {
  const op = "decodeScores";
  checkHeads(op, shape);
  checkFinite(op, "scale", scale);
  const { heads, kvHeads, headDim } = shape;
  checkRange(op, "q", q, qOffset, heads * headDim);
  const ldS = checkScores(op, scores, heads);
  checkSlice(op, "keys", keys, kvHeads * headDim, ldS);
  checkNoAlias(op, "scores", scores, "q", q);
  checkNoAlias(op, "scores", scores, "keys", keys.tensor);
  checkLoopBudget(op, loopCost(headDim), `heads of ${headDim}`);
  if (keys.n === 0) return;
  await launch(q.gpu, "decode_scores", { q, kCache: keys.tensor, scores }, {
    grid: [Math.ceil(keys.n / WG), heads],
    params: { n: keys.n, lo: keys.lo, heads, kvHeads, headDim, qOffset, ldS, scale },
    constants: { WG },
  });
}

function checkScores(op: string, scores: Tensor, heads: number): number {
  checkTensor(op, "scores", scores, "f32", 0);
  if (scores.shape.length !== 2 || scores.shape[0] !== heads) {
    throw new RangeError(`${op}: scores "${scores.label}" has shape [${scores.shape}]; expected [${heads}, positions]`);
  }
  return scores.shape[1];
}

/**
 * Softmax in place over the first `len` columns of each row of `scores` [heads, ldS].
 * @example
 * ```ts
 * await decodeSoftmax(scores, 13);
 * ```
 */
export async function decodeSoftmax(scores: Tensor, len: number): Promise<void> {
  const op = "decodeSoftmax";
  checkTensor(op, "scores", scores, "f32", 0);
  if (scores.shape.length !== 2) throw new RangeError(`${op}: scores has shape [${scores.shape}]; expected 2-D`);
  const [heads, ldS] = scores.shape;
  checkCount(op, { len }, 1);
  if (len > ldS) throw new RangeError(`${op}: len is ${len}; expected at most the ${ldS} score columns`);
  checkLoopBudget(op, 3 * loopCost(len), `${len} cached positions`);
  await launch(scores.gpu, "decode_softmax", { scores }, {
    grid: [Math.ceil(heads / WG)],
    params: { heads, len, ldS },
    constants: { WG },
  });
}

/**
 * out (+)= Σ_j probs[h, lo + j] · v_j over a chunk of cached values, per head and dimension.
 *
 * @param probs f32 [heads, ldS] from {@link decodeSoftmax}
 * @param values the chunk
 * @param out f32 [heads·headDim] at `outOffset`
 * @param accumulate add to `out` (every chunk after the first)
 * @example
 * ```ts
 * await decodeAttend(scores, { tensor: vChunk, lo: 0, n: 12 }, att, 0, shape, false);
 * ```
 */
export async function decodeAttend(
  probs: Tensor,
  values: CacheSlice,
  out: Tensor,
  outOffset: number,
  shape: DecodeHeads,
  accumulate: boolean,
): Promise<void> {
  const op = "decodeAttend";
  checkHeads(op, shape);
  const { heads, kvHeads, headDim } = shape;
  const ldS = checkScores(op, probs, heads);
  checkSlice(op, "values", values, kvHeads * headDim, ldS);
  checkRange(op, "out", out, outOffset, heads * headDim);
  checkNoAlias(op, "out", out, "probs", probs);
  checkNoAlias(op, "out", out, "values", values.tensor);
  checkLoopBudget(op, loopCost(values.n), `${values.n} cached positions`);
  await launch(out.gpu, "decode_attend", { probs, vCache: values.tensor, out }, {
    grid: grid1d(out.gpu, heads * headDim, WG),
    params: { n: values.n, lo: values.lo, heads, kvHeads, headDim, ldS, outOffset },
    constants: { WG, ACCUMULATE: Number(accumulate) },
  });
}

/**
 * The index of the largest of x[offset .. offset + n), ties to the lowest index, into result[0].
 * @param x f32 values (e.g. a logits row)
 * @param result u32 [≥ 1]
 * @example
 * ```ts
 * await argmax(logits, next);
 * const [token] = await next.read();
 * ```
 */
export async function argmax(x: Tensor, result: Tensor, n = x.size, offset = 0): Promise<void> {
  const op = "argmax";
  checkCount(op, { n }, 1);
  checkRange(op, "x", x, offset, n);
  checkTensor(op, "result", result, "u32", 1);
  checkNoAlias(op, "result", result, "x", x);
  checkLoopBudget(op, loopCost(Math.ceil(n / ARGMAX_WG)) + loopCost(Math.log2(ARGMAX_WG)), `${n} values`);
  await launch(x.gpu, "argmax", { x, result }, {
    grid: [1],
    params: { n, offset },
    constants: { WG: ARGMAX_WG },
  });
}

/** Workgroup size of {@link decodeAttention} (a power of two). */
const ATTENTION_WG = 64;

/** Loop iterations of one {@link decodeAttention} invocation (see the shader's header). */
function attentionLoopCost(n: number, headDim: number): number {
  const perLane = Math.ceil(n / ATTENTION_WG);
  return loopCost(perLane) * (loopCost(headDim) + 2) + 2 * loopCost(Math.log2(ATTENTION_WG)) +
    loopCost(Math.ceil(headDim / ATTENTION_WG)) * loopCost(n);
}

/**
 * Whether {@link decodeAttention} can serve a cache of `n` positions in one chunk within one
 * invocation's loop budget (else use {@link decodeScores}, {@link decodeSoftmax}, {@link decodeAttend}).
 */
export function fitsDecodeAttention(n: number, headDim: number): boolean {
  return attentionLoopCost(n, headDim) <= LOOP_BUDGET;
}

/**
 * One decode step's attention in one dispatch (shaders/decode_attention.wgsl): for each head h
 * (key/value head h / (heads / kvHeads)), `out_h = Σ_j softmax_j(scale · q_h·k_j) v_j` over cached
 * positions 0 .. n − 1 held in one chunk — {@link decodeScores}, {@link decodeSoftmax} and
 * {@link decodeAttend} fused. `scores` is scratch (it ends holding the probabilities).
 *
 * @param q f32, the rotated query [heads·headDim] at `qOffset`
 * @param keys the cache chunk of keys, `lo` = 0
 * @param values the cache chunk of values, `lo` = 0, the same `n`
 * @param scores f32 [heads, ldS ≥ n]
 * @param out f32 [heads·headDim] at `outOffset`
 * @throws RangeError on shape mismatches, aliasing, a slice not starting at position 0, or a cache too
 *   long for one invocation's loop budget ({@link fitsDecodeAttention})
 * @example
 * ```ts
 * await decodeAttention(qkv, 0, { tensor: kChunk, lo: 0, n: 12 }, { tensor: vChunk, lo: 0, n: 12 },
 *   scores, att, 0, { heads: 8, kvHeads: 4, headDim: 32 }, 32 ** -0.5);
 * ```
 */
export async function decodeAttention(
  q: Tensor,
  qOffset: number,
  keys: CacheSlice,
  values: CacheSlice,
  scores: Tensor,
  out: Tensor,
  outOffset: number,
  shape: DecodeHeads,
  scale: number,
): Promise<void> {
  const op = "decodeAttention";
  checkHeads(op, shape);
  checkFinite(op, "scale", scale);
  const { heads, kvHeads, headDim } = shape;
  checkRange(op, "q", q, qOffset, heads * headDim);
  checkRange(op, "out", out, outOffset, heads * headDim);
  const ldS = checkScores(op, scores, heads);
  checkSlice(op, "keys", keys, kvHeads * headDim, ldS);
  checkSlice(op, "values", values, kvHeads * headDim, ldS);
  if (keys.lo !== 0 || values.lo !== 0 || keys.n !== values.n || keys.n < 1) {
    throw new RangeError(
      `${op}: keys cover positions ${keys.lo}..${keys.lo + keys.n - 1} and values ${values.lo}..${
        values.lo + values.n - 1
      }; expected both 0..n−1 with n ≥ 1 (one chunk)`,
    );
  }
  for (const [name, t] of [["q", q], ["keys", keys.tensor], ["values", values.tensor]] as const) {
    checkNoAlias(op, "scores", scores, name, t);
    checkNoAlias(op, "out", out, name, t);
  }
  checkNoAlias(op, "out", out, "scores", scores);
  checkLoopBudget(op, attentionLoopCost(keys.n, headDim), `${keys.n} cached positions of ${headDim} dimensions`);
  await launch(q.gpu, "decode_attention", { q, kCache: keys.tensor, vCache: values.tensor, scores, out }, {
    grid: [heads],
    params: { n: keys.n, heads, kvHeads, headDim, qOffset, ldS, outOffset, scale },
    constants: { WG: ATTENTION_WG },
  });
}
