/**
 * GPU kernels specific to the pruning methods (the general linear algebra is in ../linalg/):
 * removal sets for Thanos (and its n:m masks with them), submatrix gathers for structured Thanos, the SparseGPT
 * block sweep, row clearing for outlier rows, and per-row dot products for the reconstruction error.
 *
 * Every function records dispatches only; nothing is read back here except in `rowDots`.
 *
 * @module
 */

import { fitsStorageBindings, grid1d, launch } from "../gpu/launch.ts";
import { budgetRanges, checkLoopBudget, LOOP_BUDGET, loopCost } from "../gpu/loop_budget.ts";
import { empty, readAll, type Tensor } from "../gpu/tensor.ts";
import { checkSameShape, checkTensor, checkView } from "../linalg/checks.ts";
import { describe, type MatrixView, wholeVec4s } from "../linalg/view.ts";

const WG = 64;

/** The per-row removal sets of one block: their column lists, counts and right-hand sides. */
export interface RemovalSets {
  /** u32 [rows, count]: removed block columns of row r in idx[r, 0..counts[r]) */
  idx: Tensor<"u32">;
  /** u32 [rows] */
  counts: Tensor<"u32">;
  /** f32 [rows, count]: W[r, idx[r, k]] */
  rhs: Tensor<"f32">;
}

/**
 * Thanos's removal sets q_r = {j : mask[r, j] = 1} of a block and b_r = W[r, q_r]ᵀ.
 * @param mask u32 view [rows, count] of the block's mask
 * @param w f32 view [rows, count] of the block's weights
 * @param out preallocated tensors (reused across blocks), at least [rows, count]
 */
export async function removalSets(mask: MatrixView, w: MatrixView, out: RemovalSets): Promise<void> {
  const op = "removalSets";
  checkView(op, "mask", mask, "u32");
  checkView(op, "w", w, "f32");
  checkSameShape(op, "mask", mask, "w", w);
  const { rows, cols: count } = mask;
  checkTensor(op, "idx", out.idx, "u32", rows * count);
  checkTensor(op, "rhs", out.rhs, "f32", rows * count);
  checkTensor(op, "counts", out.counts, "u32", rows);
  // an invocation walks its row twice (the set, then the padding); Thanos's blocks are ≤ 512 wide
  checkLoopBudget(op, 2 * loopCost(count), `blocks of ${count} columns`);
  // four block columns a load where both views' rows are whole vec4s (llvmpipe: a quarter of the loads)
  const setsKernel = wholeVec4s(mask) && wholeVec4s(w) ? "removal_sets_vec4" : "removal_sets";
  await launch(w.tensor.gpu, setsKernel, {
    mask: mask.tensor,
    w: w.tensor,
    idx: out.idx,
    rhs: out.rhs,
    counts: out.counts,
  }, {
    grid: grid1d(w.tensor.gpu, rows, WG),
    params: { rows, count, mask_offset: mask.offset, mask_ld: mask.ld, w_offset: w.offset, w_ld: w.ld },
    constants: { WG },
  });
}

/**
 * Loop iterations of an nm_removal_sets invocation: each of m columns ranks itself in its group, then
 * the padding — and the dense rows' loop, which lanes of a normal row sharing a SIMD vector with an
 * outlier row also pay.
 */
function nmSetsCost(n: number, m: number): number {
  return loopCost(m) + m * loopCost(m) + loopCost(m - n) + loopCost(m) + 1;
}

/**
 * Whether {@link nmRemovalSets} can run on these operands: llvmpipe's loop budget for groups of m
 * (every m up to ~250), and the device's storage bindings once the buffers past the binding limit
 * are chunked (it binds seven: W and the mask whole — both split on a 7B MLP layer — where WebGPU
 * guarantees 8). Where not, the unfused kernels do the same work.
 */
export function nmRemovalSetsFit(
  w: MatrixView,
  colSqNorms: Tensor,
  nm: { n: number; m: number },
  mask: MatrixView,
  out: RemovalSets,
): boolean {
  const buffers = [w.tensor, colSqNorms, out.counts, mask.tensor, out.idx, out.rhs, out.counts]; // outliers ≤ counts
  return nmSetsCost(nm.n, nm.m) <= LOOP_BUDGET && fitsStorageBindings(w.tensor.gpu, buffers.map((t) => t.buffer.size));
}

/**
 * Thanos's n:m block in one dispatch: the mask (in every row, the n lowest Wanda scores
 * |w_rj|·sqrt(colSqNorms[colOffset + j]) of each group of m columns, ties by the lower column) and the
 * removal sets of every row (as {@link removalSets} writes them); outlier rows stay dense (mask 0,
 * count 0). The same mask and sets as wandaScores → nmMask → zeroRows → removalSets.
 * @param w f32 view [rows, count] of the block's weights, count a multiple of m
 * @param colSqNorms f32 [layer cols]: ‖X_j‖² (colOffset: the block's first column)
 * @param outliers u32 [rows] flags of the rows that stay dense, or null
 * @param mask u32 view [rows, count]: receives the mask
 * @param out the sets, at least [rows, count]
 * @throws RangeError on shapes that differ, count not a multiple of m, n outside [0, m), or groups
 *   of m past llvmpipe's loop budget ({@link nmRemovalSetsFit})
 */
export async function nmRemovalSets(
  w: MatrixView,
  colSqNorms: Tensor,
  colOffset: number,
  nm: { n: number; m: number },
  outliers: Tensor<"u32"> | null,
  mask: MatrixView,
  out: RemovalSets,
): Promise<void> {
  const op = "nmRemovalSets";
  checkView(op, "w", w, "f32");
  checkView(op, "mask", mask, "u32");
  checkSameShape(op, "w", w, "mask", mask);
  const { rows, cols: count } = w;
  const { n, m } = nm;
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(n) || n < 0 || n >= m || count % m !== 0) {
    throw new RangeError(`${op}: ${n}:${m} on a block of ${count} columns; expected 0 <= n < m and m dividing it`);
  }
  checkTensor(op, "colSqNorms", colSqNorms, "f32", colOffset + count);
  checkTensor(op, "idx", out.idx, "u32", rows * count);
  checkTensor(op, "rhs", out.rhs, "f32", rows * count);
  checkTensor(op, "counts", out.counts, "u32", rows);
  if (outliers) checkTensor(op, "outliers", outliers, "u32", rows);
  checkLoopBudget(op, nmSetsCost(n, m), `groups of m = ${m}`);
  const groups = count / m;
  if (rows * groups === 0) return;
  const gpu = w.tensor.gpu;
  using none = outliers ? null : empty(gpu, [1], "u32", `${op}.noOutliers`); // bound but unread
  await launch(gpu, "nm_removal_sets", {
    w: w.tensor,
    norms: colSqNorms,
    outliers: outliers ?? none!,
    mask: mask.tensor,
    idx: out.idx,
    rhs: out.rhs,
    counts: out.counts,
  }, {
    grid: grid1d(gpu, rows * groups, WG),
    params: {
      rows,
      groups,
      n,
      m,
      w_offset: w.offset,
      w_ld: w.ld,
      col_offset: colOffset,
      mask_offset: mask.offset,
      mask_ld: mask.ld,
      stride: count,
      has_outliers: outliers ? 1 : 0,
    },
    constants: { WG },
  });
}

/**
 * out = src[rowIdx, colIdx] (either index list may be null for "all, in order").
 * @param src f32 view to gather from
 * @param rowIdx u32 [out.rows] row indices into src, or null (identity)
 * @param colIdx u32 [out.cols] column indices into src, or null (identity)
 * @param out f32 view receiving the submatrix
 */
export async function gather2d(
  src: MatrixView,
  rowIdx: Tensor<"u32"> | null,
  colIdx: Tensor<"u32"> | null,
  out: MatrixView,
): Promise<void> {
  const op = "gather2d";
  checkView(op, "src", src, "f32");
  checkView(op, "out", out, "f32");
  if (rowIdx) checkTensor(op, "rowIdx", rowIdx, "u32", out.rows);
  else if (out.rows > src.rows) throw new RangeError(`${op}: ${out.rows} rows requested from ${describe(src)}`);
  if (colIdx) checkTensor(op, "colIdx", colIdx, "u32", out.cols);
  else if (out.cols > src.cols) throw new RangeError(`${op}: ${out.cols} columns requested from ${describe(src)}`);
  const gpu = src.tensor.gpu;
  const placeholder = rowIdx ?? colIdx ?? src.tensor; // unused binding when both are identity
  await launch(gpu, "gather2d", {
    src: src.tensor,
    row_idx: rowIdx ?? placeholder,
    col_idx: colIdx ?? placeholder,
    out: out.tensor,
  }, {
    grid: [Math.ceil(out.cols / 16), Math.ceil(out.rows / 4)],
    params: {
      rows: out.rows,
      cols: out.cols,
      src_offset: src.offset,
      src_ld: src.ld,
      out_offset: out.offset,
      out_ld: out.ld,
      use_row_idx: rowIdx ? 1 : 0,
      use_col_idx: colIdx ? 1 : 0,
    },
    constants: { WG_X: 16, WG_Y: 4 },
  });
}

/**
 * idx[0..count) = the positions j (ascending) with flags[j] != 0; count[0] = how many.
 * @param flags u32 [n]
 * @param idx u32 [n] output
 * @param count u32 [1] output
 */
export async function compactFlags(flags: Tensor<"u32">, idx: Tensor<"u32">, count: Tensor<"u32">): Promise<void> {
  const op = "compactFlags";
  checkTensor(op, "flags", flags, "u32", 0);
  checkTensor(op, "idx", idx, "u32", flags.size);
  checkTensor(op, "count", count, "u32", 1);
  flags.gpu.recorder.clear(count.buffer, 4);
  // one invocation walks the flags: ranges of them in successive dispatches, each appending
  for (const [begin, end] of budgetRanges(op, flags.size, 1, loopCost(0))) {
    await launch(flags.gpu, "compact_flags", { flags, idx, count }, {
      grid: [1],
      params: { begin, end },
    });
  }
}

/**
 * Zeroes the rows r of `x` (f32 or u32 view) whose flag is set — or, with `invert`, whose flag is
 * not set.
 * @param flags u32 [x.rows]
 */
export async function zeroRows(x: MatrixView, flags: Tensor<"u32">, invert = false): Promise<void> {
  await zeroFlagged(x, flags, invert, 0);
}

/**
 * Zeroes the columns j of `x` (f32 or u32 view) whose flag is set (e.g. W[:, dead] = 0) — or, with
 * `invert`, whose flag is not set.
 * @param flags u32 [x.cols]
 */
export async function zeroCols(x: MatrixView, flags: Tensor<"u32">, invert = false): Promise<void> {
  await zeroFlagged(x, flags, invert, 1);
}

async function zeroFlagged(x: MatrixView, flags: Tensor<"u32">, invert: boolean, axis: 0 | 1): Promise<void> {
  const op = axis === 0 ? "zeroRows" : "zeroCols";
  checkTensor(op, "flags", flags, "u32", axis === 0 ? x.rows : x.cols);
  await launch(x.tensor.gpu, "zero_flagged", { flags, x: x.tensor }, {
    grid: [Math.ceil(x.cols / 64), Math.ceil(x.rows / 4)],
    params: { rows: x.rows, cols: x.cols, offset: x.offset, ld: x.ld, invert: invert ? 1 : 0, axis },
    constants: { WG_X: 64, WG_Y: 4 },
  });
}

/**
 * x[r, :] = row for every row r of the u32 view `x` (structured masks: removed columns in every row).
 * @param row u32 [x.cols]
 */
export async function broadcastRow(row: Tensor<"u32">, x: MatrixView): Promise<void> {
  checkView("broadcastRow", "x", x, "u32");
  checkTensor("broadcastRow", "row", row, "u32", x.cols);
  await launch(x.tensor.gpu, "broadcast_rows", { row, x: x.tensor }, {
    grid: [Math.ceil(x.cols / 64), Math.ceil(x.rows / 4)],
    params: { rows: x.rows, cols: x.cols, offset: x.offset, ld: x.ld },
    constants: { WG_X: 64, WG_Y: 4 },
  });
}

/**
 * SparseGPT saliency of a block: out[r, j] = w[r, j]² / u[j, j]².
 * @param w f32 view [rows, count] = W[:, i1:i2]
 * @param u f32 view [count, count] = Hinv[i1:i2, i1:i2]
 * @param out f32 view [rows, count]
 */
export async function sparsegptScores(w: MatrixView, u: MatrixView, out: MatrixView): Promise<void> {
  const op = "sparsegptScores";
  checkSameShape(op, "w", w, "out", out);
  checkBlockFactor(op, w, u);
  await launch(w.tensor.gpu, "sparsegpt_scores", { w: w.tensor, u: u.tensor, out: out.tensor }, {
    grid: [Math.ceil(w.cols / 64), Math.ceil(w.rows / 4)],
    params: {
      rows: w.rows,
      count: w.cols,
      w_offset: w.offset,
      w_ld: w.ld,
      u_offset: u.offset,
      u_ld: u.ld,
      out_offset: out.offset,
      out_ld: out.ld,
    },
    constants: { WG_X: 64, WG_Y: 4 },
  });
}

/**
 * SparseGPT's sequential OBS sweep over one column block, all rows in parallel (see the shader).
 * @param w f32 view [rows, count] = W[:, i1:i2], pruned in place
 * @param u f32 view [count, count] = Hinv[i1:i2, i1:i2] (upper Cholesky factor of H⁻¹)
 * @param mask u32 view [rows, count]: input for unstructured, output for n:m
 * @param err f32 [rows, count] output: the scaled errors for the deferred update
 * @param nm the n:m pattern, or null for a mask chosen beforehand
 */
export async function sparsegptBlock(
  w: MatrixView,
  u: MatrixView,
  mask: MatrixView,
  err: Tensor,
  nm: { n: number; m: number } | null,
): Promise<void> {
  const op = "sparsegptBlock";
  checkView(op, "mask", mask, "u32");
  checkSameShape(op, "w", w, "mask", mask);
  checkBlockFactor(op, w, u);
  checkTensor(op, "err", err, "f32", w.rows * w.cols);
  if (nm && w.cols % nm.m !== 0) {
    throw new RangeError(`${op}: block width ${w.cols} is not divisible by m = ${nm.m}`);
  }
  for (const [i0, i1] of sweepChunks(w.cols, nm?.m ?? 0)) {
    await launch(w.tensor.gpu, "sparsegpt_block", { w: w.tensor, u: u.tensor, mask: mask.tensor, err }, {
      grid: grid1d(w.tensor.gpu, w.rows, WG),
      params: {
        rows: w.rows,
        count: w.cols,
        w_offset: w.offset,
        w_ld: w.ld,
        u_offset: u.offset,
        u_ld: u.ld,
        mask_offset: mask.offset,
        mask_ld: mask.ld,
        n: nm?.n ?? 0,
        m: nm?.m ?? 0,
        i_begin: i0,
        i_end: i1,
      },
      constants: { WG },
    });
  }
}

/** SparseGPT's block kernels take u = Hinv[i1:i2, i1:i2], square with w's column count. */
function checkBlockFactor(op: string, w: MatrixView, u: MatrixView): void {
  if (u.rows !== w.cols || u.cols !== w.cols) {
    throw new RangeError(
      `${op}: w is ${w.rows}x${w.cols} so u must be ${w.cols}x${w.cols}, but it is ${u.rows}x${u.cols}`,
    );
  }
}

/**
 * Column ranges [i0, i1) of a SparseGPT block sweep, one per dispatch, each within the loop
 * budget (thanos/gpu/loop_budget.ts): column i costs its trip of the sweep and its update loop,
 * (count − i) + 2 iterations, and the n:m group ranking (every member against every member)
 * (m + 1)² at the start of a group, else 2 (its two loops, reached under an all-off mask); a
 * dispatch adds a few for its loop's exit (4, as measured).
 * @throws RangeError when one column (with its group's ranking) exceeds the budget: m ≳ 240
 */
export function sweepChunks(count: number, m: number): [number, number][] {
  const overhead = 4;
  const chunks: [number, number][] = [];
  let start = 0, cost = overhead;
  for (let i = 0; i < count; i++) {
    const group = m > 0 && i % m === 0 ? loopCost(m) * loopCost(m) : 2;
    const c = 1 + loopCost(count - i) + group;
    checkLoopBudget("sparsegptBlock", overhead + c, `n:m groups of m = ${m} in a block of ${count} columns`);
    if (cost + c > LOOP_BUDGET) {
      chunks.push([start, i]);
      start = i;
      cost = overhead;
    }
    cost += c;
  }
  if (start < count) chunks.push([start, count]);
  return chunks;
}

/**
 * Per-row inner products Σ_j a[r, j]·b[r, j] and counts of non-finite values of `a`, read back.
 * @returns dots (float32 row sums, to be summed in float64 by the caller) and the non-finite counts
 */
export async function rowDots(a: MatrixView, b: MatrixView): Promise<{ dots: Float32Array; nonFinite: Uint32Array }> {
  using pending = await recordRowDots(a, b);
  return await pending.read();
}

/** Row dot products recorded on the GPU, read back later (several with one `readAll`). */
export interface PendingRowDots {
  /** f32 [rows]: the per-row sums */
  dots: Tensor<"f32">;
  /** u32 [rows]: the per-row counts of non-finite values of `a` */
  nonFinite: Tensor<"u32">;
  /** waits for the GPU and returns both (one round trip) */
  read(): Promise<{ dots: Float32Array; nonFinite: Uint32Array }>;
  [Symbol.dispose](): void;
}

/**
 * Records {@link rowDots} without reading back: record several, then `read()` each — only the first
 * read waits for the GPU.
 */
export async function recordRowDots(a: MatrixView, b: MatrixView): Promise<PendingRowDots> {
  const op = "rowDots";
  checkView(op, "a", a, "f32");
  checkView(op, "b", b, "f32");
  checkSameShape(op, "a", a, "b", b);
  const gpu = a.tensor.gpu;
  const dots = empty(gpu, [a.rows], "f32", "rowDots.dots");
  const bad = empty(gpu, [a.rows], "u32", "rowDots.nonFinite");
  // an invocation walks its row: long rows in column ranges, the later ones accumulating
  for (const [j0, j1] of budgetRanges(op, Math.max(a.cols, 1), 1, loopCost(0))) {
    await launch(gpu, "row_dot", { a: a.tensor, b: b.tensor, dots, bad }, {
      grid: grid1d(gpu, a.rows, WG),
      params: {
        rows: a.rows,
        a_offset: a.offset,
        a_ld: a.ld,
        b_offset: b.offset,
        b_ld: b.ld,
        col_begin: j0,
        col_end: j1,
        accumulate: j0 > 0 ? 1 : 0,
      },
      constants: { WG },
    });
  }
  return {
    dots,
    nonFinite: bad,
    read: async () => {
      const [d, n] = await readAll(dots, bad);
      return { dots: d, nonFinite: n };
    },
    [Symbol.dispose]: () => {
      dots.release();
      bad.release();
    },
  };
}
