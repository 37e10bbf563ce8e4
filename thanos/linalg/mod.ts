/**
 * Linear algebra on the GPU: thin TypeScript wrappers that bind buffers and dispatch the WGSL
 * kernels in `shaders/`.
 * @module
 */
export { describe, mat, type MatrixView, sub } from "./view.ts";
export { axpy, copyView, fill, scale } from "./elementwise.ts";
export {
  matmul,
  MATMUL_VARIANT_ENV,
  MATMUL_VARIANTS,
  matmulNew,
  type MatmulOptions,
  type MatmulVariant,
  matmulVariant,
} from "./matmul.ts";
export { columnSquaredNormsAccumulate, gramAccumulate } from "./gram.ts";
export {
  type KBudget,
  kSmallestMask,
  type KSmallestOptions,
  nmMask,
  rowKSmallestMask,
  SelectBracket,
} from "./select.ts";
export {
  absScores,
  applyMask,
  colSumsWeighted,
  countMask,
  type CountMaskOptions,
  kFromBudget,
  rowSumsWeighted,
  wandaScores,
} from "./mask.ts";
export { FactorStatus } from "./status.ts";
export { type Damped, dampHessian, type DampOptions } from "./damp.ts";
export {
  cholesky,
  CHOLESKY_BLOCK,
  type FactorOptions,
  spdInverse,
  spdInverseInPlace,
  upperCholeskyOfInverse,
} from "./cholesky.ts";
export { gatheredSolve, type GatheredSolveOptions } from "./solve.ts";
export {
  type BitmaskWeight,
  pack24Index,
  type Sparse24Weight,
  type SparseWeight,
  sparseWeightBytes,
  upload24,
  uploadBitmask,
} from "./sparse_weight.ts";
export { sparseMatmul, sparseMatmulNew } from "./sparse_matmul.ts";
