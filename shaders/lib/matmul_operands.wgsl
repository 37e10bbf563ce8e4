// matmul_operands: element access of a general product C = alpha·op(A)·op(B) (+ C) on strided
// windows, for the includer's Params { offA, ldA, offB, ldB, offC, ldC }, bindings `a`, `b`
// (array<f32>) and `c`, and overrides TRANS_A, TRANS_B, ACCUMULATE:
//   opA(i, k) = op(A)[i, k]  (A[k, i] when TRANS_A);   opB(k, j) = op(B)[k, j]  (B[j, k] when TRANS_B);
//   store(i, j, v): C[i, j] = v, or C[i, j] += v when ACCUMULATE (returns the new C[i, j]).
// Used by matmul_register.wgsl and matmul_tiled.wgsl (matmul_register_vec4.wgsl reads vec4
// operands itself and includes only `store` from lib/matmul_store.wgsl).

// #include "lib/matmul_store.wgsl"

fn opA(i: u32, k: u32) -> f32 {
  if (TRANS_A) {
    return a[p.offA + k * p.ldA + i];
  }
  return a[p.offA + i * p.ldA + k];
}

fn opB(k: u32, j: u32) -> f32 {
  if (TRANS_B) {
    return b[p.offB + j * p.ldB + k];
  }
  return b[p.offB + k * p.ldB + j];
}
