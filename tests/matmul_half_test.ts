/**
 * matmulHalfWeight (shaders/matmul_half_weight.wgsl, and the texture product with the weight widened
 * by shaders/pack_texture_half.wgsl) against the plain-TS reference
 * (tests/reference/matmul_half.ts) on odd shapes, views, accumulation and a K split across
 * dispatches, for F16 and BF16 weights; and the packing against the widening of model/half.ts.
 *
 * Tolerance: |y − y_ref| ≤ (K + 2)·2⁻²³·Σ_k |x_k·w_k| — the bound of sequential f32 summation with
 * fused multiply-adds (the halves themselves widen exactly).
 */

import { mat } from "../thanos/linalg/view.ts";
import { matmulHalfWeight, packHalfWeight } from "../thanos/linalg/matmul_half.ts";
import { f32ToBf16, f32ToF16 } from "../thanos/model/half.ts";
import { empty, upload } from "../thanos/gpu/tensor.ts";
import { assert, assertEquals } from "./assert.ts";
import { launch } from "../thanos/gpu/launch.ts";
import { matvecHalf } from "../thanos/decode/ops.ts";
import {
  bf16Value,
  f16Value,
  matmulHalfWeight as reference,
  matvecHalf as refVec,
  packTextureHalf,
} from "./reference/matmul_half.ts";
import { gpuTest, packedTexels, randn } from "./util.ts";

const SHAPES: [number, number, number][] = [[1, 1, 1], [7, 5, 3], [33, 67, 130], [5, 3, 257], [64, 9, 64], [
  2,
  3,
  120_003,
]];

for (const dtype of ["F16", "BF16"] as const) {
  for (const variant of ["register", "texture"] as const) {
    gpuTest(
      `matmulHalfWeight ${dtype} ${variant} matches the reference on odd shapes (incl. a K split)`,
      async (gpu) => {
        for (const [M, N, K] of SHAPES) {
          const x = randn(M * K, M + N + K);
          const wf = randn(N * K, 7 * K + 1);
          const bits = dtype === "F16" ? f32ToF16(wf) : f32ToBf16(wf);
          using xt = upload(gpu, x, [M, K], "x");
          using w = packHalfWeight(gpu, bits, N, K, dtype, "w");
          using yt = empty(gpu, [M, N], "f32", "y");
          await matmulHalfWeight(mat(xt), w, mat(yt), { variant });
          const got = await yt.read() as Float32Array;
          const ref = reference(x, bits, M, N, K, dtype);
          check(`${dtype} ${variant} [${M}, ${N}, ${K}]`, got, ref, K);
        }
      },
    );
  }
}

for (const variant of ["register", "texture"] as const) {
  gpuTest(`matmulHalfWeight ${variant} reads and writes views and accumulates`, async (gpu) => {
    const M = 9, N = 11, K = 13, ldX = 17, ldY = 15, offX = 3, offY = 5;
    const xAll = randn(offX + M * ldX, 1), yAll = randn(offY + M * ldY, 2);
    const wf = randn(N * K, 3);
    const bits = f32ToF16(wf);
    using xt = upload(gpu, xAll, [xAll.length], "x");
    using yt = upload(gpu, yAll.slice(), [yAll.length], "y");
    using w = packHalfWeight(gpu, bits, N, K, "F16", "w");
    const xv = { tensor: xt, offset: offX, rows: M, cols: K, ld: ldX };
    const yv = { tensor: yt, offset: offY, rows: M, cols: N, ld: ldY };
    await matmulHalfWeight(xv, w, yv, { accumulate: true, variant });
    const got = await yt.read() as Float32Array;
    const x = new Float32Array(M * K), y0 = new Float32Array(M * N), window = new Float32Array(M * N);
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < K; k++) x[m * K + k] = xAll[offX + m * ldX + k];
      for (let n = 0; n < N; n++) {
        y0[m * N + n] = yAll[offY + m * ldY + n];
        window[m * N + n] = got[offY + m * ldY + n];
      }
    }
    check("views + accumulate", window, reference(x, bits, M, N, K, "F16", y0), K);
    // outside the window nothing changed
    for (let i = 0; i < got.length; i++) {
      const r = i - offY, m = Math.floor(r / ldY), n = r % ldY;
      if (r < 0 || m >= M || n >= N) assert(got[i] === yAll[i], `y[${i}] outside the window changed`);
    }
  });
}

for (const dtype of ["F16", "BF16"] as const) {
  gpuTest(`pack_texture_half ${dtype} equals the reference on odd weights and slices, zero-padded`, async (gpu) => {
    // [N, K, k0, cols, width, height]: odd K (a row's last word half padding), slices starting on odd k
    for (const [N, K, k0, cols, width, height] of [[5, 7, 0, 7, 2, 8], [9, 13, 3, 9, 3, 12], [4, 2, 1, 1, 1, 4]]) {
      const bits = dtype === "F16" ? f32ToF16(randn(N * K, N + K)) : f32ToBf16(randn(N * K, N + K));
      using w = packHalfWeight(gpu, bits, N, K, dtype, "w");
      const got = await packedTexels(gpu, width, height, (t) =>
        launch(gpu, "pack_texture_half", { w: w.tensor, t }, {
          grid: [Math.ceil(width / 8), Math.ceil(height / 8), 1],
          params: { rows: N, cols, k0, ldW: w.ld, width, height, bf16: dtype === "BF16" ? 1 : 0 },
        }));
      assertEquals(got, packTextureHalf(bits, N, K, dtype, k0, cols, width, height), `${dtype} ${N}x${K} k0=${k0}`);
    }
  });
}

for (const dtype of ["F16", "BF16"] as const) {
  gpuTest(
    `matvecHalf ${dtype} (one token) matches the reference on odd shapes, with bias, offsets and accumulate`,
    async (gpu) => {
      for (const [rows, cols] of [[1, 1], [5, 3], [37, 129], [4099, 7], [3, 1000]] as const) {
        const wf = randn(rows * cols, rows + 3 * cols);
        const bits = dtype === "F16" ? f32ToF16(wf) : f32ToBf16(wf);
        const x = randn(cols, cols + 1), bias = randn(rows, rows + 2), y0 = randn(rows, rows + 5);
        const xOffset = 3, yOffset = 2;
        using w = packHalfWeight(gpu, bits, rows, cols, dtype, "w");
        using xt = upload(gpu, Float32Array.from([9, 9, 9, ...x]), [cols + 3], "x");
        using bt = upload(gpu, bias, [rows], "bias");
        using yt = upload(gpu, Float32Array.from([7, 7, ...y0]), [rows + 2], "y");
        using plain = empty(gpu, [rows], "f32", "y plain");
        await matvecHalf(w, xt, yt, { bias: bt, accumulate: true, xOffset, yOffset });
        await matvecHalf(w, xt, plain, { xOffset });
        const got = await yt.read() as Float32Array;
        assert(got[0] === 7 && got[1] === 7, "y before yOffset changed");
        check(
          `${dtype} matvec [${rows}, ${cols}] + bias + y`,
          got.subarray(2),
          refVec(x, bits, rows, cols, dtype, bias, y0),
          cols + 2,
        );
        check(
          `${dtype} matvec [${rows}, ${cols}]`,
          await plain.read() as Float32Array,
          refVec(x, bits, rows, cols, dtype),
          cols,
        );
      }
    },
  );
}

Deno.test("the reference decodes halves as model/half.ts widens them (all 65536 F16 patterns, BF16 samples)", async () => {
  const { f16ToF32, bf16ToF32 } = await import("../thanos/model/half.ts");
  const all = new Uint16Array(65536).map((_, i) => i);
  const f16 = f16ToF32(all), bf16 = bf16ToF32(all);
  for (let i = 0; i < 65536; i++) {
    const a = f16Value(i), b = bf16Value(i);
    assert(Object.is(a, f16[i]) || (Number.isNaN(a) && Number.isNaN(f16[i])), `F16 ${i}: ${a} vs ${f16[i]}`);
    assert(Object.is(b, bf16[i]) || (Number.isNaN(b) && Number.isNaN(bf16[i])), `BF16 ${i}: ${b} vs ${bf16[i]}`);
  }
});

function check(what: string, got: Float32Array, ref: { y: Float64Array; scale: Float64Array }, K: number): void {
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - ref.y[i]), bound = (K + 2) * 2 ** -23 * ref.scale[i] + 1e-30;
    assert(err <= bound, `${what}: element ${i} is ${got[i]}, expected ${ref.y[i]} (error ${err} > bound ${bound})`);
    worst = Math.max(worst, err / Math.max(ref.scale[i], 1e-30));
  }
  console.log(`${what}: largest error / Σ|x·w| = ${worst.toExponential(2)}`);
}
