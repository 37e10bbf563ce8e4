/**
 * The CPU's own BLAS as a yardstick for the benchmarks: numpy (OpenBLAS on Debian) timed in a
 * subprocess, so that a GPU kernel's rate can be printed as a ratio against the same machine at the
 * same moment (a CPU-emulated adapter shares the cores with everything else, and absolute rates move
 * with the load). Used only by `bench/`; nothing in `thanos/` or `tests/` runs Python.
 *
 * @module
 */

/**
 * What numpy times: C = A·B with A [M, K], B [K, N]; the Gram product XᵀX of X [n, d]; or, on a
 * d x d Hessian XᵀX/d of a random X [2d, d], damped by 1% of its mean diagonal (as
 * bench/kernels/factor.ts builds it on the GPU), LAPACK's Cholesky factor
 * (`np.linalg.cholesky`) or inverse (`np.linalg.inv`, an LU-based general inverse: the same result
 * as our SPD inverse, by a path with twice its flops).
 */
export type NumpyProduct =
  | { kind: "matmul"; M: number; N: number; K: number }
  | { kind: "gram"; n: number; d: number }
  | { kind: "cholesky" | "inverse"; d: number };

const SCRIPT = `
import sys, json, time
import numpy as np
spec = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
if spec["kind"] == "matmul":
    a = rng.standard_normal((spec["M"], spec["K"]), dtype=np.float32)
    b = rng.standard_normal((spec["K"], spec["N"]), dtype=np.float32)
    f = lambda: a @ b
elif spec["kind"] == "gram":
    x = rng.standard_normal((spec["n"], spec["d"]), dtype=np.float32)
    f = lambda: x.T @ x
else:
    d = spec["d"]
    x = rng.standard_normal((2 * d, d), dtype=np.float32)
    h = (x.T @ x) / d
    h += 0.01 * np.mean(np.diag(h)) * np.eye(d, dtype=np.float32)
    f = (lambda: np.linalg.cholesky(h)) if spec["kind"] == "cholesky" else (lambda: np.linalg.inv(h))
f()
best = float("inf")
for _ in range(spec["runs"]):
    t = time.perf_counter(); f(); best = min(best, time.perf_counter() - t)
print(best)
`;

/**
 * Best wall time of numpy's float32 operation over `runs` runs after a warm-up, in seconds, or
 * undefined when python3 with numpy is not installed (the benchmark then prints no ratio).
 *
 * @param product the operation to time (numpy's `x.T @ x` runs BLAS syrk: half the flops of a product)
 * @param runs timed runs
 * @returns seconds of the best run, or undefined
 * @example
 * ```ts
 * const s = await numpySeconds({ kind: "matmul", M: 1024, N: 1024, K: 1024 });
 * ```
 */
export async function numpySeconds(product: NumpyProduct, runs = 5): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", SCRIPT, JSON.stringify({ ...product, runs })],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return undefined;
    const seconds = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
  } catch {
    return undefined; // no python3
  }
}
