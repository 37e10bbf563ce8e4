/** Plain-TS reference of shaders/first_nonfinite.wgsl (used only by tests). */

/** The first flat index of a NaN or ±Infinity in x[offset, offset + count), or -1 when none. */
export function firstNonFinite(x: ArrayLike<number>, offset = 0, count = x.length - offset): number {
  for (let i = 0; i < count; i++) if (!Number.isFinite(x[offset + i])) return i;
  return -1;
}
