/**
 * Argument checks shared by the kernel wrappers that take {@link MatrixView}s, so every operation
 * reports a bad view or an aliased output the same way.
 * @module
 */

import type { MatrixView } from "./view.ts";

/**
 * Throws unless `v` is a well-formed window of a live f32 tensor.
 * @param op operation name that starts the message, e.g. "matmul"
 * @param name the argument's name in the message, e.g. "A"
 * @param v the view to check
 * @throws TypeError for a non-f32 tensor, RangeError for a window that does not fit
 */
export function checkView(op: string, name: string, v: MatrixView): void {
  v.tensor.assertAlive();
  if (v.tensor.dtype !== "f32") {
    throw new TypeError(`${op}: ${name} must be an f32 tensor but "${v.tensor.label}" is ${v.tensor.dtype}`);
  }
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
}

/**
 * Throws when `out` shares a buffer with `input`: WebGPU cannot bind one buffer both read-only
 * and writable in a dispatch (and overlapping windows would race anyway).
 * @throws RangeError naming both arguments and the tensor
 */
export function checkNoAlias(op: string, outName: string, out: MatrixView, inName: string, input: MatrixView): void {
  if (out.tensor.buffer === input.tensor.buffer) {
    throw new RangeError(
      `${op}: ${outName} aliases ${inName} (both live in the buffer of "${out.tensor.label}"); ` +
        `expected ${outName} in a separate tensor`,
    );
  }
}
