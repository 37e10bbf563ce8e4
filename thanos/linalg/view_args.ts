/**
 * Argument checks shared by the kernels that take {@link MatrixView}s (internal; not re-exported).
 * Every message names the operation, the argument, what was found and what was expected.
 * @module
 */

import type { DType, Tensor } from "../gpu/tensor.ts";
import { describe, type MatrixView } from "./view.ts";

/**
 * Throws unless `v` is a live view of element type `dtype` that lies inside its tensor.
 * @param op operation name for the message, e.g. "kSmallestMask"
 * @param name argument name, e.g. "scores"
 */
export function checkView(op: string, name: string, v: MatrixView, dtype: DType): void {
  v.tensor.assertAlive();
  if (v.tensor.dtype !== dtype) {
    throw new TypeError(`${op}: ${name} ${describe(v)} is ${v.tensor.dtype}; expected ${dtype}`);
  }
  const { offset, rows, cols, ld } = v;
  const ints = [offset, rows, cols, ld].every((x) => Number.isInteger(x) && x >= 0);
  const size = v.tensor.size;
  if (!ints || ld < cols || (rows > 0 && cols > 0 && offset + (rows - 1) * ld + cols > size)) {
    throw new RangeError(
      `${op}: ${name} view {offset ${offset}, rows ${rows}, cols ${cols}, ld ${ld}} does not fit in ` +
        `"${v.tensor.label}" of ${size} elements; expected offset + (rows-1)*ld + cols <= ${size} and ld >= cols`,
    );
  }
}

/** Throws unless views `a` and `b` have the same rows x cols. */
export function checkSameShape(op: string, aName: string, a: MatrixView, bName: string, b: MatrixView): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(
      `${op}: ${aName} is ${a.rows}x${a.cols} but ${bName} is ${b.rows}x${b.cols}; expected the same shape`,
    );
  }
}

/** Throws unless `t` is a live tensor of element type `dtype` with at least `min` elements. */
export function checkTensor(op: string, name: string, t: Tensor, dtype: DType, min: number): void {
  t.assertAlive();
  if (t.dtype !== dtype) throw new TypeError(`${op}: ${name} "${t.label}" is ${t.dtype}; expected ${dtype}`);
  if (t.size < min) {
    throw new RangeError(`${op}: ${name} "${t.label}" has ${t.size} elements; expected at least ${min}`);
  }
}

/** Throws when two arguments share a GPU buffer (a kernel cannot read one binding while writing another of the same buffer). */
export function checkDistinct(op: string, aName: string, a: Tensor, bName: string, b: Tensor): void {
  if (a.buffer === b.buffer) {
    throw new RangeError(`${op}: ${aName} and ${bName} share the buffer of "${a.label}"; expected distinct tensors`);
  }
}
