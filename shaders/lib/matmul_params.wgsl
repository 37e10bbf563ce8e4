// matmul_params: what the three general-product kernels take — matmul_register_vec4.wgsl,
// matmul_register.wgsl and matmul_tiled.wgsl are variants of one product that one wrapper
// (thanos/linalg/matmul.ts) launches with the same record:
// #params { M, N, K, offA, ldA, offB, ldB, offC, ldC: u32, alpha: f32 }
//   C = alpha·op(A)·op(B) (+ C when ACCUMULATE), op(A) [M, K], op(B) [K, N], C [M, N] windows:
//   op(A)[i, k] = A[offA + i·ldA + k]   (A[offA + k·ldA + i] when TRANS_A)
//   op(B)[k, j] = B[offB + k·ldB + j]   (B[offB + j·ldB + k] when TRANS_B)
//   C[i, j]     = C[offC + i·ldC + j]
// SYMMETRIC and ACCUMULATE: see lib/product_tile.wgsl (shared with matmul_texture.wgsl, which reads
// operands packed into textures and so takes no operand offsets).

// #include "lib/product_tile.wgsl"

override TRANS_A: bool = false;
override TRANS_B: bool = false;
