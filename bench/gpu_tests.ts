/**
 * The test files `bench:gpu` runs on a real adapter and `bundle:gpu` carries: the kernels' tests only
 * (no notebook, browser, CLI or Hub tests, which need Jupyter, Chromium or a network).
 *
 * @module
 */

/** The kernel test files run on the adapter (no notebook, browser or CLI tests: only kernels). */
export const KERNEL_TESTS = [
  "gpu_test",
  "shader_interface_test",
  "matmul_test",
  "matmul_half_test",
  "gram_test",
  "cholesky_test",
  "solve_test",
  "select_test",
  "mask_test",
  "prune_ops_test",
  "elementwise_test",
  "finite_test",
  "forward_ops_test",
  "decode_ops_test",
  "sparse_ops_test",
  "sparse_matmul_test",
  "zeroshot_kernel_test",
];
