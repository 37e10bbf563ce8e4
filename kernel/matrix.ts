/**
 * Matrices as kernel/ takes them (plain arrays or a flat array with a shape, never GPU tensors:
 * callers read back first), and block downsampling for matrices too big to plot cell by cell.
 *
 * @module
 */

/** A row-major matrix. */
export interface Matrix {
  data: ArrayLike<number>;
  rows: number;
  cols: number;
}

/**
 * What heatmaps accept: an array of rows, `{data, shape: [rows, cols]}` (e.g. a tensor's
 * `await t.read()` with `t.shape`) or `{data, rows, cols}` (e.g. a MatrixView's size).
 */
export type MatrixInput =
  | readonly ArrayLike<number>[]
  | { data: ArrayLike<number>; shape: readonly number[] }
  | { data: ArrayLike<number>; rows: number; cols: number };

function checkDim(what: string, name: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`${what}: ${name} is ${String(n)}; expected a positive integer`);
  }
  return n;
}

/**
 * Normalises a matrix input and checks that its size matches its shape.
 *
 * @param input rows, `{data, shape}` or `{data, rows, cols}`
 * @param what the operation named in errors
 * @returns the matrix (arrays of rows are copied into one Float64Array)
 * @example
 * ```ts
 * toMatrix({ data: new Float32Array(6), shape: [2, 3] }); // {rows: 2, cols: 3, …}
 * ```
 */
export function toMatrix(input: MatrixInput, what = "matrix"): Matrix {
  if (Array.isArray(input)) {
    const rowsIn = input as readonly ArrayLike<number>[];
    if (rowsIn.length === 0) throw new RangeError(`${what}: got 0 rows; expected at least one row`);
    const cols = rowsIn[0]?.length;
    checkDim(what, "the length of row 0", cols);
    const data = new Float64Array(rowsIn.length * cols);
    rowsIn.forEach((row, r) => {
      if (row?.length !== cols) {
        throw new RangeError(`${what}: row ${r} has ${row?.length} values but row 0 has ${cols}; expected equal rows`);
      }
      for (let c = 0; c < cols; c++) data[r * cols + c] = row[c];
    });
    return { data, rows: rowsIn.length, cols };
  }
  const obj = input as { data?: ArrayLike<number>; shape?: readonly number[]; rows?: number; cols?: number };
  if (obj === null || typeof obj !== "object" || obj.data === undefined || typeof obj.data.length !== "number") {
    throw new TypeError(`${what}: expected an array of rows, {data, shape} or {data, rows, cols}`);
  }
  let rows: number, cols: number;
  if (obj.shape !== undefined) {
    if (obj.shape.length !== 2) {
      throw new RangeError(`${what}: shape is [${obj.shape}]; expected a 2-D shape [rows, cols]`);
    }
    rows = checkDim(what, "rows", obj.shape[0]);
    cols = checkDim(what, "cols", obj.shape[1]);
  } else {
    rows = checkDim(what, "rows", obj.rows);
    cols = checkDim(what, "cols", obj.cols);
  }
  if (obj.data.length !== rows * cols) {
    throw new RangeError(
      `${what}: data has ${obj.data.length} values but the shape is ${rows}x${cols}; expected rows*cols = ${
        rows * cols
      }`,
    );
  }
  return { data: obj.data, rows, cols };
}

/** How a block of cells becomes one: mean (default; a 0/1 mask becomes its kept fraction), max, min, or the value of largest magnitude. */
export type Reduce = "mean" | "max" | "min" | "absmax";
const REDUCERS: readonly Reduce[] = ["mean", "max", "min", "absmax"];

/** Limits for {@link downsample}. */
export interface DownsampleOptions {
  /** At most this many rows after downsampling (default 256). */
  maxRows?: number;
  /** At most this many columns after downsampling (default 256). */
  maxCols?: number;
  /** Block reduction (default "mean"). */
  reduce?: Reduce;
}

/** A downsampled matrix and where its cells came from. */
export interface Downsampled {
  matrix: Matrix;
  /** First source row of each output row (length matrix.rows + 1; the last entry is the source row count). */
  rowStarts: number[];
  /** First source column of each output column (length matrix.cols + 1). */
  colStarts: number[];
  reduce: Reduce;
}

/** Bin boundaries: n source indices into k nearly equal contiguous bins. */
function bins(n: number, k: number): number[] {
  const starts = new Array<number>(k + 1);
  for (let i = 0; i <= k; i++) starts[i] = Math.floor((i * n) / k);
  return starts;
}

/**
 * Reduces a matrix to at most maxRows x maxCols by contiguous blocks; non-finite cells are left
 * out of a block (a block with none finite becomes NaN). A matrix already small enough is returned
 * with one-cell blocks.
 *
 * @param m the matrix
 * @param options limits and block reduction
 * @returns the reduced matrix and its block boundaries
 * @example
 * ```ts
 * downsample(m, { maxRows: 128, maxCols: 128, reduce: "absmax" });
 * ```
 */
export function downsample(m: Matrix, options: DownsampleOptions = {}): Downsampled {
  const { maxRows = 256, maxCols = 256, reduce = "mean" } = options;
  checkDim("downsample", "maxRows", maxRows);
  checkDim("downsample", "maxCols", maxCols);
  if (!REDUCERS.includes(reduce)) {
    throw new RangeError(`downsample: reduce is "${reduce}"; expected one of ${REDUCERS.join(", ")}`);
  }
  const rows = Math.min(m.rows, maxRows), cols = Math.min(m.cols, maxCols);
  const rowStarts = bins(m.rows, rows), colStarts = bins(m.cols, cols);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let acc = reduce === "max" ? -Infinity : reduce === "min" ? Infinity : 0;
      let count = 0;
      for (let r = rowStarts[i]; r < rowStarts[i + 1]; r++) {
        const base = r * m.cols;
        for (let c = colStarts[j]; c < colStarts[j + 1]; c++) {
          const v = m.data[base + c];
          if (!Number.isFinite(v)) continue;
          count++;
          if (reduce === "mean") acc += v;
          else if (reduce === "max") acc = Math.max(acc, v);
          else if (reduce === "min") acc = Math.min(acc, v);
          else if (Math.abs(v) > Math.abs(acc)) acc = v;
        }
      }
      out[i * cols + j] = count === 0 ? NaN : reduce === "mean" ? acc / count : acc;
    }
  }
  return { matrix: { data: out, rows, cols }, rowStarts, colStarts, reduce };
}

/** Smallest and largest finite value and the number of non-finite values. */
export function finiteRange(data: ArrayLike<number>): { min: number; max: number; nonFinite: number } {
  let min = Infinity, max = -Infinity, nonFinite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max, nonFinite };
}
