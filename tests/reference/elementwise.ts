/** Plain-TS reference for the elementwise kernels (used only by tests). */

/** x[i] = value. */
export function fill(n: number, value: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = value;
  return x;
}
