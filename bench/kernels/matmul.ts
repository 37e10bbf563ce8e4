/**
 * Dense-kernel benchmarks: matmul (A·B at 512², 1024², 2048² and 4096x768·768x768 on the adapter's
 * default kernel; every transpose and every kernel at 1024², on llvmpipe the texture kernel with its
 * operands packed as well as copied), a linear layer with F16 weights (the texture product and the
 * half-weight storage kernel, at tiny-llama's MLP shape and 1024²), the Gram accumulation of calibration
 * (n=4096, d=768), column norms and the elementwise helpers. GFLOP/s counts 2·M·N·K for a product
 * and 2·n·d² for Gram (which does about half of that by symmetry). numpy (OpenBLAS, in a subprocess
 * right after the GPU run) is timed on the default kernel's A·B products and on Gram, as the
 * machine's own yardstick.
 */
import type { Gpu } from "../../thanos/gpu/device.ts";
import { empty, type Tensor, upload, zeros } from "../../thanos/gpu/tensor.ts";
import { axpy, copyView } from "../../thanos/linalg/elementwise.ts";
import { columnSquaredNormsAccumulate, gramAccumulate } from "../../thanos/linalg/gram.ts";
import {
  matmul,
  MATMUL_VARIANTS,
  type MatmulOptions,
  matmulShader,
  type MatmulVariant,
  matmulVariant,
} from "../../thanos/linalg/matmul.ts";
import { matmulHalfWeight, packHalfWeight } from "../../thanos/linalg/matmul_half.ts";
import { mat, type MatrixView, sub } from "../../thanos/linalg/view.ts";
import { f32ToF16 } from "../../thanos/model/half.ts";
import { randn } from "../../thanos/util/random.ts";
import { numpySeconds } from "../numpy.ts";
import { bestSeconds } from "../timing.ts";
import type { BenchRow } from "./row.ts";

const RUNS = 3;

/**
 * Best wall time of at least `runs` calls after one warm-up (see bench/timing.ts). Short kernels get
 * more runs (up to 10, about 2 s in all), since on a shared machine the best of a few runs of a CPU
 * adapter is still noisy.
 */
const best = (gpu: Gpu | null, f: () => unknown, runs = RUNS) => bestSeconds(gpu, f, { runs, fillSeconds: 2 });

/** A random [rows, cols] matrix, optionally as a window of a tensor with one extra column (odd ld). */
function random(gpu: Gpu, rows: number, cols: number, seed: number, oddLd = false): { t: Tensor; v: MatrixView } {
  const ld = oddLd ? cols + 1 : cols;
  const t = upload(gpu, randn(rows * ld, seed), [rows, ld], "bench");
  return { t, v: { tensor: t, offset: 0, rows, cols, ld } };
}

const opName = (o: MatmulOptions) => `${o.transA ? "Aᵀ" : "A"}·${o.transB ? "Bᵀ" : "B"}`;

/** Runs the dense-kernel benchmarks on `gpu`. */
export async function bench(gpu: Gpu): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const owned: Tensor[] = [];
  const product = async (
    M: number,
    N: number,
    K: number,
    options: MatmulOptions,
    { oddLd = false, runs = RUNS, withNumpy = false, note = "" } = {},
  ) => {
    const a = options.transA ? random(gpu, K, M, 1, oddLd) : random(gpu, M, K, 1, oddLd);
    const b = options.transB ? random(gpu, N, K, 2, oddLd) : random(gpu, K, N, 2, oddLd);
    const c = empty(gpu, [M, N], "f32", "C");
    owned.push(a.t, b.t, c);
    const variant = matmulVariant(gpu, options.variant);
    const seconds = await best(gpu, () => matmul(a.v, b.v, mat(c), { ...options, variant }), runs);
    const numpy = withNumpy ? await numpySeconds({ kind: "matmul", M, N, K }) : undefined;
    rows.push({
      kernel: `matmul ${opName(options)} [${matmulShader(variant, a.v, b.v, M, N)}${note}]`,
      size: `${M}x${K}·${K}x${N}`,
      seconds,
      rate: (2 * M * N * K) / seconds / 1e9,
      unit: "GFLOP/s",
      ...(numpy === undefined ? {} : { numpySeconds: numpy }),
    });
  };

  try {
    // the adapter's default kernel, A·B, growing sizes
    await product(512, 512, 512, {}, { withNumpy: true });
    await product(1024, 1024, 1024, {}, { withNumpy: true });
    await product(2048, 2048, 2048, {}, { runs: 2, withNumpy: true });
    await product(4096, 768, 768, {}, { withNumpy: true });
    // transposes at 1024²
    await product(1024, 1024, 1024, { transB: true });
    await product(1024, 1024, 1024, { transA: true });
    await product(1024, 1024, 1024, { transA: true, transB: true });
    // every kernel at 1024²: the other variants (the register kernel with vec4 loads, and with
    // scalar loads on odd leading dimensions); the shared-memory kernel once on a CPU adapter
    const fallback = gpu.info.isFallback;
    const slow = (v: MatmulVariant) => (fallback ? v === "tiled" : v !== "tiled");
    const variants = MATMUL_VARIANTS;
    for (const variant of variants.filter((v) => v !== matmulVariant(gpu))) {
      await product(1024, 1024, 1024, { variant }, { runs: slow(variant) ? 1 : RUNS });
    }
    await product(1024, 1024, 1024, { variant: "register" }, { oddLd: true });
    // the texture kernel with its operands packed by a kernel (odd leading dimensions) rather than copied
    if (fallback) await product(1024, 1024, 1024, { variant: "texture" }, { oddLd: true, note: ", packed" });

    // a linear layer with F16 weights (2 bytes a weight on the GPU): y = x·Wᵀ, both kernels
    for (const [M, N, K] of [[4096, 688, 256], [1024, 1024, 1024]]) {
      const x = random(gpu, M, K, 4);
      const w = packHalfWeight(gpu, f32ToF16(randn(N * K, 5)), N, K, "F16", "W");
      const y = empty(gpu, [M, N], "f32", "Y");
      owned.push(x.t, w.tensor, y);
      for (const variant of ["texture", "register"] as const) {
        const seconds = await best(gpu, () => matmulHalfWeight(x.v, w, mat(y), { variant }), 1);
        rows.push({
          kernel: `matmulHalfWeight F16 [${
            variant === "texture" ? "pack_texture_half + matmul_texture" : "matmul_half_weight"
          }]`,
          size: `${M}x${K}·(${N}x${K})ᵀ`,
          seconds,
          rate: (2 * M * N * K) / seconds / 1e9,
          unit: "GFLOP/s",
        });
      }
    }

    // calibration: Gram and column norms of a 4096 x 768 batch
    const [n, d] = [4096, 768];
    const x = random(gpu, n, d, 3);
    const h = zeros(gpu, [d, d], "f32", "H");
    const norms = zeros(gpu, [d], "f32", "norms");
    owned.push(x.t, h, norms);
    for (const variant of variants) {
      const seconds = await best(gpu, () => gramAccumulate(x.v, mat(h), 1, { variant }), slow(variant) ? 1 : RUNS);
      const numpy = variant !== matmulVariant(gpu) ? undefined : await numpySeconds({ kind: "gram", n, d });
      rows.push({
        kernel: `gramAccumulate [${matmulShader(variant, x.v, x.v, d, d)}]`,
        size: `n=${n} d=${d}`,
        seconds,
        rate: (2 * n * d * d) / seconds / 1e9,
        unit: "GFLOP/s",
        ...(numpy === undefined ? {} : { numpySeconds: numpy }),
      });
    }
    const normsSeconds = await best(gpu, () => columnSquaredNormsAccumulate(x.v, norms, 1));
    rows.push({
      kernel: "columnSquaredNormsAccumulate",
      size: `n=${n} d=${d}`,
      seconds: normsSeconds,
      rate: (n * d) / normsSeconds / 1e6,
      unit: "Melem/s",
    });

    // elementwise on the same batch: a strided window copy (kernel) and axpy
    const y = empty(gpu, [n, d], "f32", "Y");
    owned.push(y);
    const window = sub(x.v, 0, 1, n, d - 1);
    const copySeconds = await best(gpu, () => copyView(window, sub(mat(y), 0, 0, n, d - 1)));
    rows.push({
      kernel: "copyView (strided window)",
      size: `${n}x${d - 1}`,
      seconds: copySeconds,
      rate: (n * (d - 1)) / copySeconds / 1e6,
      unit: "Melem/s",
    });
    const axpySeconds = await best(gpu, () => axpy(mat(y), x.v, 0.5));
    rows.push({
      kernel: "axpy",
      size: `${n}x${d}`,
      seconds: axpySeconds,
      rate: (n * d) / axpySeconds / 1e6,
      unit: "Melem/s",
    });
  } finally {
    for (const t of owned) t.release();
  }
  return rows;
}
