/**
 * Factorization benchmarks (thanos/linalg/{cholesky,solve}.ts), with numpy/LAPACK (OpenBLAS, in a
 * subprocess right after the GPU run; see bench/numpy.ts) timed on the same matrices' Cholesky
 * factor and inverse as the machine's own yardstick. Flop counts (multiply and add each count one):
 *
 *   spdInverse               d³            (Cholesky d³/3 + triangular inverse d³/3 + L⁻ᵀL⁻¹ d³/3)
 *   cholesky                 d³/3
 *   upperCholeskyOfInverse   2d³/3         (Cholesky + triangular inverse)
 *   gatheredSolve            Σ_rows n³/3 + 2n²   (Cholesky of each gathered n x n matrix, two solves)
 *
 * The matrices are damped Hessians (2/s)·XᵀX + 1%, like Thanos's.
 */
import type { Gpu } from "../../thanos/gpu/device.ts";
import { type Tensor, upload, zeros } from "../../thanos/gpu/tensor.ts";
import { cholesky, spdInverse, upperCholeskyOfInverse } from "../../thanos/linalg/cholesky.ts";
import { matmulNew } from "../../thanos/linalg/matmul.ts";
import { gatheredSolve } from "../../thanos/linalg/solve.ts";
import { dampHessian } from "../../thanos/linalg/damp.ts";
import { mat } from "../../thanos/linalg/view.ts";
import { randn, removalSets } from "../../thanos/util/random.ts";
import { numpySeconds } from "../numpy.ts";
import { bestSeconds } from "../timing.ts";
import type { BenchRow } from "./row.ts";

const RUNS = 3;

/** Best wall time of `runs` calls after one warm-up (see bench/timing.ts). */
const best = (gpu: Gpu | null, f: () => unknown, runs = RUNS) => bestSeconds(gpu, f, { runs });

function row(kernel: string, size: string, flops: number, seconds: number, numpy?: number): BenchRow {
  return {
    kernel,
    size,
    seconds,
    rate: flops / seconds / 1e9,
    unit: "GFLOP/s",
    ...(numpy === undefined ? {} : { numpySeconds: numpy }),
  };
}

/** A damped d x d Hessian of 2d random samples, built and damped on the GPU. */
async function hessian(gpu: Gpu, d: number): Promise<Tensor> {
  using x = upload(gpu, randn(2 * d * d, d), [2 * d, d], "X");
  const h = await matmulNew(mat(x), mat(x), { transA: true, alpha: 1 / d }, "H");
  (await dampHessian(h, 0.01)).dead.release();
  return h;
}

/** Runs the factorization benchmarks on `gpu`. */
export async function bench(gpu: Gpu): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const d of [768, 2048]) {
    using h = await hessian(gpu, d);
    rows.push(row(
      "spdInverse",
      `${d}x${d}`,
      d ** 3,
      await best(gpu, async () => (await spdInverse(mat(h))).release()),
      await numpySeconds({ kind: "inverse", d }),
    ));
    rows.push(row(
      "upperCholeskyOfInverse",
      `${d}x${d}`,
      2 * d ** 3 / 3,
      await best(gpu, async () => (await upperCholeskyOfInverse(mat(h))).release()),
    ));
    using work = zeros(gpu, [d, d]);
    const copy = () => gpu.recorder.copy(h.buffer, 0, work.buffer, 0, h.byteLength);
    const copySeconds = await best(gpu, copy);
    rows.push(row(
      "cholesky",
      `${d}x${d}`,
      d ** 3 / 3,
      Math.max(
        1e-9,
        await best(gpu, () => {
          copy();
          return cholesky(mat(work));
        }) - copySeconds,
      ),
      await numpySeconds({ kind: "cholesky", d }),
    ));
  }

  for (const [nRows, maxQ, m] of [[768, 64, 128], [4096, 128, 128]] as const) {
    using h = await hessian(gpu, m);
    using a = await spdInverse(mat(h));
    const { idx, counts, rhs } = removalSets(nRows, m, maxQ, 7, maxQ);
    using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs);
    using out = zeros(gpu, [nRows, maxQ]);
    rows.push(row(
      "gatheredSolve",
      `${nRows} rows x ${maxQ}`,
      nRows * (maxQ ** 3 / 3 + 2 * maxQ ** 2),
      await best(gpu, () => gatheredSolve(mat(a), ti, tc, tr, out, maxQ)),
    ));
  }
  return rows;
}
