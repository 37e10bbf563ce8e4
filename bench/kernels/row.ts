/**
 * One line of `deno task bench:kernels`. Each file in bench/kernels/ (except this one) exports
 * `bench(gpu: Gpu): Promise<BenchRow[]>`; bench/kernels.ts discovers and runs them.
 */
export interface BenchRow {
  /** kernel name, e.g. "matmul A·Bᵀ" */
  kernel: string;
  /** problem size, e.g. "1024x1024x1024" */
  size: string;
  /** best wall time of the GPU run, seconds (after a warm-up run) */
  seconds: number;
  /** throughput of the GPU run */
  rate: number;
  unit: "GFLOP/s" | "Melem/s";
  /**
   * numpy's (OpenBLAS's) seconds for the same operation on the CPU, measured in the same run
   * (printed as the GPU kernel's rate over numpy's; see bench/numpy.ts)
   */
  numpySeconds?: number;
}
