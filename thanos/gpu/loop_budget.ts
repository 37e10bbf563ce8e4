/**
 * ## llvmpipe's loop limit
 *
 * Mesa's llvmpipe — the software adapter behind WebGPU here and on CI — SILENTLY ends a shader
 * invocation after {@link LOOP_LIMIT} = 65535 loop iterations. Nothing is reported: the invocation
 * just stops, and whatever it had not written yet is missing or stale. Real GPUs have no such
 * limit, so a kernel that passes its tests at small sizes can be wrong at realistic ones.
 *
 * What counts (measured with the loop probe in tests/loop_probe.ts, llvmpipe of Mesa 22.3/LLVM 15):
 * - one counter per invocation for all of its loops together, nested loops once per inner
 *   iteration, loops in called functions included;
 * - a loop of t trips costs t + 1 (the test that exits counts too; see {@link loopCost});
 * - the counter belongs to a SIMD vector of 8 invocations: lanes that loop longer, and loops on
 *   both sides of a divergent branch, are paid by the whole vector — and a loop in a branch that
 *   no lane takes still costs 1 each time it is reached (llvmpipe runs it under an all-off mask),
 *   its nested loops 1 more each;
 * - loops with a small constant trip count (override constants included) that the compiler unrolls
 *   cost nothing — but whether it does is its choice (attention's `d < HEAD_DIM` loops unroll at
 *   32 and not at 64), so cost models here assume loops are not unrolled unless measured otherwise.
 *
 * Rule for every kernel in `shaders/`: no invocation of one dispatch may need more than
 * {@link LOOP_BUDGET} iterations (the margin below 65535 covers the small constant-size loops that
 * cost models leave out). Where an input-dependent loop can exceed it at sizes this project targets,
 * the wrapper splits the work over several dispatches (ranges of keys, rows or columns, carrying state
 * or accumulating between them: {@link budgetRanges}), or launches more invocations that each do
 * less; where a size is genuinely out of scope it throws a RangeError naming the operation, the size
 * and the limit ({@link checkLoopBudget}). tests/loop_limit_test.ts runs each split past the limit
 * and measures the planned iteration counts.
 *
 * The budget applies on every adapter, not only on llvmpipe: a split happens only where a single
 * invocation would otherwise loop more than 60,000 times, so every dispatch but the last of a split
 * still carries ~60,000 iterations per invocation and the extra launches (microseconds each on a
 * GPU) are noise; in exchange there is one code path, and the one CI runs is the one GPUs run.
 *
 * @module
 */

/** Loop iterations after which llvmpipe silently ends an invocation (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS). */
export const LOOP_LIMIT = 65535;

/**
 * The most loop iterations one invocation may run in one dispatch, by the cost models of the
 * kernel wrappers (the rest, up to {@link LOOP_LIMIT}, is margin for what the models leave out).
 */
export const LOOP_BUDGET = 60000;

/**
 * Iterations a loop of `trips` trips costs on llvmpipe: trips + 1 (the failing test that ends
 * the loop counts as one).
 * @example
 * ```ts
 * loopCost(rows); // for (var i = 0u; i < p.rows; i++) { … }
 * ```
 */
export function loopCost(trips: number): number {
  return trips + 1;
}

/**
 * Throws unless one invocation's `iterations` fit in {@link LOOP_BUDGET}: for sizes that no
 * split makes sense for (they are outside what the project targets).
 *
 * @param op the operation, first word of the message
 * @param iterations the kernel's cost model for the size asked for
 * @param what the size that makes it that long, e.g. "rows of 400000 columns"
 * @throws RangeError `"<op>: <what> need ~N loop iterations per GPU invocation; expected at most 60000 …"`
 * @example
 * ```ts
 * checkLoopBudget("rmsNorm", 2 * loopCost(Math.ceil(cols / wg)), `rows of ${cols} columns`);
 * ```
 */
export function checkLoopBudget(op: string, iterations: number, what: string): void {
  if (iterations > LOOP_BUDGET) {
    throw new RangeError(
      `${op}: ${what} need ~${Math.ceil(iterations)} loop iterations per GPU invocation; expected at most ` +
        `${LOOP_BUDGET} (Mesa's llvmpipe silently stops an invocation after ${LOOP_LIMIT})`,
    );
  }
}

/**
 * Splits items 0..n−1 into consecutive ranges [begin, end), one per dispatch, such that
 * `overhead + (end − begin)·costPerItem ≤ LOOP_BUDGET` in each: how a wrapper spreads a loop
 * over rows, columns or keys across dispatches. n = 0 gives no ranges.
 *
 * @param op the operation, named in the error
 * @param n the number of items (loop trips) in total
 * @param costPerItem iterations one item costs (its share of every loop it drives)
 * @param overhead iterations of a dispatch that do not depend on the range (loop exits, other loops)
 * @returns the ranges, in order, covering [0, n)
 * @throws RangeError (as {@link checkLoopBudget}) when not even one item fits
 * @example
 * ```ts
 * for (const [r0, r1] of budgetRanges("columnSquaredNormsAccumulate", rows, 1, 1)) { … }
 * ```
 */
export function budgetRanges(op: string, n: number, costPerItem: number, overhead = 0): [number, number][] {
  checkLoopBudget(op, overhead + costPerItem, `items of ${costPerItem} iterations (plus ${overhead})`);
  const per = Math.floor((LOOP_BUDGET - overhead) / costPerItem);
  const ranges: [number, number][] = [];
  for (let begin = 0; begin < n; begin += per) ranges.push([begin, Math.min(n, begin + per)]);
  return ranges;
}
