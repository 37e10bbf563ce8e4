// matmul_half_weight: a linear layer's product with its weight stored at 2 bytes a weight,
// y = x·Wᵀ (optionally y += x·Wᵀ), for F16/BF16 checkpoints whose weights stay half-size on the GPU.
//
// Bindings (group 0):
//   #params { M, N, K, offX, ldX, ldW, offY, ldY, k0, k1, bf16, accumulate: u32 }
//   #binding x: array<f32>, read           [M, K] at offX, leading dimension ldX (activations)
//   #binding w: array<u32>, read           [N, ldW] packed pairs: word n·ldW + j holds W[n, 2j] in its low
//                                    16 bits and W[n, 2j + 1] in its high 16 bits (ldW ≥ ceil(K/2);
//                                    the high half of a row's last word is padding when K is odd)
//   #binding y: array<f32>, read_write     [M, N] at offY, leading dimension ldY
// Math: for m < M, n < N: s = Σ_{k0 ≤ k < k1} x[m, k]·W[n, k]; y[m, n] = s (accumulate 0) or
//   y[m, n] + s (accumulate 1). A half is widened exactly: F16 by unpack2x16float, BF16 (bf16 = 1)
//   by shifting its 16 bits into the high half of an f32's bits. k0 is even; pairs are summed in
//   k order into one f32 accumulator per output.
// Grid: 2-D, WG_X x WG_Y invocations per workgroup, each computing a 4 x 4 tile of y
//   (rows 4·gid.y .. +3, columns 4·gid.x .. +3): ceil(N / (4·WG_X)) x ceil(M / (4·WG_Y)) groups.
//   An invocation loops ceil((k1 − k0) / 2) + 1 times (plus the unrolled 4 x 4 loops); the wrapper
//   splits K into dispatches that fit the loop budget.

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

// #include "lib/widen_half.wgsl"

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.M || n0 >= p.N) {
    return;
  }
  // out-of-range rows/columns of the tile read row M−1 / N−1 (valid memory) and are not stored
  var xr: array<u32, 4>;
  var wr: array<u32, 4>;
  xr[0] = p.offX + min(m0, p.M - 1u) * p.ldX;
  xr[1] = p.offX + min(m0 + 1u, p.M - 1u) * p.ldX;
  xr[2] = p.offX + min(m0 + 2u, p.M - 1u) * p.ldX;
  xr[3] = p.offX + min(m0 + 3u, p.M - 1u) * p.ldX;
  wr[0] = min(n0, p.N - 1u) * p.ldW;
  wr[1] = min(n0 + 1u, p.N - 1u) * p.ldW;
  wr[2] = min(n0 + 2u, p.N - 1u) * p.ldW;
  wr[3] = min(n0 + 3u, p.N - 1u) * p.ldW;

  var acc: array<vec4f, 4>; // acc[i][j] = y[m0 + i, n0 + j]
  let pairs_end = p.k1 & ~1u; //                                 whole pairs k0 ≤ k < pairs_end
  for (var k = p.k0; k < pairs_end; k += 2u) {
    let j = k >> 1u;
    let w0 = widen(w[wr[0] + j]);
    let w1 = widen(w[wr[1] + j]);
    let w2 = widen(w[wr[2] + j]);
    let w3 = widen(w[wr[3] + j]);
    let wa = vec4f(w0.x, w1.x, w2.x, w3.x); //                     W[n0.., k]
    let wb = vec4f(w0.y, w1.y, w2.y, w3.y); //                     W[n0.., k + 1]
    acc[0] = fma(vec4f(x[xr[0] + k + 1u]), wb, fma(vec4f(x[xr[0] + k]), wa, acc[0]));
    acc[1] = fma(vec4f(x[xr[1] + k + 1u]), wb, fma(vec4f(x[xr[1] + k]), wa, acc[1]));
    acc[2] = fma(vec4f(x[xr[2] + k + 1u]), wb, fma(vec4f(x[xr[2] + k]), wa, acc[2]));
    acc[3] = fma(vec4f(x[xr[3] + k + 1u]), wb, fma(vec4f(x[xr[3] + k]), wa, acc[3]));
  }
  if (pairs_end < p.k1) { //                                      odd k1: the low half of one more word
    let k = pairs_end;
    let j = k >> 1u;
    let wa = vec4f(widen(w[wr[0] + j]).x, widen(w[wr[1] + j]).x, widen(w[wr[2] + j]).x, widen(w[wr[3] + j]).x);
    acc[0] = fma(vec4f(x[xr[0] + k]), wa, acc[0]);
    acc[1] = fma(vec4f(x[xr[1] + k]), wa, acc[1]);
    acc[2] = fma(vec4f(x[xr[2] + k]), wa, acc[2]);
    acc[3] = fma(vec4f(x[xr[3] + k]), wa, acc[3]);
  }

  // stores row by row through constant indices (keeps acc in registers)
  store(m0, n0, acc[0]);
  store(m0 + 1u, n0, acc[1]);
  store(m0 + 2u, n0, acc[2]);
  store(m0 + 3u, n0, acc[3]);
}

fn store(m: u32, n0: u32, v: vec4f) {
  if (m >= p.M) {
    return;
  }
  let row = p.offY + m * p.ldY;
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < p.N) {
      let at = row + n0 + j;
      if (p.accumulate == 1u) {
        y[at] = y[at] + v[j];
      } else {
        y[at] = v[j];
      }
    }
  }
}
