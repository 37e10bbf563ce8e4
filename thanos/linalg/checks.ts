/**
 * Argument checks shared by the kernel wrappers: views, tensors, shapes and aliasing, so every
 * operation reports a bad argument the same way. Each message names the operation, the argument,
 * what was found and what was expected. (Internal; not re-exported from mod.ts.)
 * @module
 */

import type { DType, Tensor } from "../gpu/tensor.ts";
import { describe, type MatrixView } from "./view.ts";

/**
 * Throws unless `v` is a well-formed window of a live tensor of element type `dtype`.
 * @param op operation name that starts the message, e.g. "matmul"
 * @param name the argument's name in the message, e.g. "A"
 * @param v the view to check
 * @param dtype the element type the kernel reads (default f32)
 * @throws RangeError for a window that is malformed or does not fit in its tensor, TypeError for
 *   another element type
 * @example
 * ```ts
 * checkView("kSmallestMask", "mask", mask, "u32");
 * ```
 */
export function checkView(op: string, name: string, v: MatrixView, dtype: DType = "f32"): void {
  v.tensor.assertAlive();
  const ints = [v.offset, v.rows, v.cols, v.ld];
  if (ints.some((x) => !Number.isInteger(x) || x < 0) || (v.rows > 1 && v.ld < v.cols)) {
    throw new RangeError(
      `${op}: ${name} is not a valid view (offset ${v.offset}, ${v.rows}x${v.cols}, ld ${v.ld}); ` +
        `expected non-negative integers with ld >= cols`,
    );
  }
  const end = v.rows === 0 || v.cols === 0 ? v.offset : v.offset + (v.rows - 1) * v.ld + v.cols;
  if (end > v.tensor.size) {
    throw new RangeError(
      `${op}: ${name} (offset ${v.offset}, ${v.rows}x${v.cols}, ld ${v.ld}) ends at element ${end} ` +
        `but "${v.tensor.label}" has only ${v.tensor.size}`,
    );
  }
  if (v.tensor.dtype !== dtype) {
    throw new TypeError(`${op}: ${name} ${describe(v)} is ${v.tensor.dtype}; expected ${dtype}`);
  }
}

/**
 * Throws unless `a` is a well-formed square f32 view (see {@link checkView}).
 * @returns its order n (a is n x n)
 * @throws RangeError `"<op>: <name> <window> is RxC; expected a square matrix"`
 * @example
 * ```ts
 * const n = checkSquare("cholesky", "A", a);
 * ```
 */
export function checkSquare(op: string, name: string, a: MatrixView): number {
  checkView(op, name, a);
  if (a.rows !== a.cols) {
    throw new RangeError(`${op}: ${name} ${describe(a)} is ${a.rows}x${a.cols}; expected a square matrix`);
  }
  return a.rows;
}

/**
 * Throws unless `value` is a finite number (a scale or a step the kernel multiplies by).
 * @throws RangeError `"<op>: <name> is <value>; expected a finite number"`
 */
export function checkFinite(op: string, name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${op}: ${name} is ${value}; expected a finite number`);
}

/**
 * Throws unless views `a` and `b` have the same rows x cols.
 * @throws RangeError naming both shapes
 */
export function checkSameShape(op: string, aName: string, a: MatrixView, bName: string, b: MatrixView): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(
      `${op}: ${aName} is ${a.rows}x${a.cols} but ${bName} is ${b.rows}x${b.cols}; expected the same shape`,
    );
  }
}

/**
 * Throws unless `t` is a live tensor of element type `dtype` with at least `min` elements.
 * @throws TypeError for another element type, RangeError for too few elements
 */
export function checkTensor(op: string, name: string, t: Tensor, dtype: DType, min: number): void {
  t.assertAlive();
  if (t.dtype !== dtype) throw new TypeError(`${op}: ${name} "${t.label}" is ${t.dtype}; expected ${dtype}`);
  if (t.size < min) {
    throw new RangeError(`${op}: ${name} "${t.label}" has ${t.size} elements; expected at least ${min}`);
  }
}

/**
 * Throws when the output `out` shares a buffer with the input `input`: WebGPU cannot bind one
 * buffer both read-only and writable in a dispatch (and overlapping windows would race anyway).
 * @param out the argument the kernel writes (a tensor or a view)
 * @param input an argument it reads
 * @throws RangeError naming both arguments and the tensor
 */
export function checkNoAlias(
  op: string,
  outName: string,
  out: Tensor | MatrixView,
  inName: string,
  input: Tensor | MatrixView,
): void {
  const o = "tensor" in out ? out.tensor : out, i = "tensor" in input ? input.tensor : input;
  if (o.buffer === i.buffer) {
    throw new RangeError(
      `${op}: ${outName} aliases ${inName} (both live in the buffer of "${o.label}"); ` +
        `expected ${outName} in a separate tensor`,
    );
  }
}
