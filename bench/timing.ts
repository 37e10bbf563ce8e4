/**
 * Timing shared by the benchmarks: the best wall time of several runs after a warm-up run (which
 * compiles pipelines and fills the buffer pool), with the GPU synced after every run so recorded
 * work is counted where it runs.
 *
 * @module
 */

import type { Gpu } from "../thanos/gpu/device.ts";

/** Options of {@link bestSeconds}. */
export interface BestOptions {
  /** timed runs after the warm-up (default 3) */
  runs?: number;
  /**
   * run more often, up to {@link maxRuns}, until about this many seconds of runs (judged by the
   * warm-up): on a shared machine the best of a few runs of a short kernel on a CPU adapter is
   * still noisy (default 0: exactly `runs`)
   */
  fillSeconds?: number;
  /** cap on the runs `fillSeconds` asks for (default 10) */
  maxRuns?: number;
}

/**
 * Best wall time, in seconds, of `f` over the timed runs after one warm-up run.
 *
 * @param gpu synced after each call (`f` may only record GPU work); null for CPU-only work
 * @param f the work to time
 * @param options runs, and more runs for short work
 * @returns the smallest time of one run
 * @example
 * ```ts
 * const s = await bestSeconds(gpu, () => matmul(a, b, c), { fillSeconds: 2 });
 * ```
 */
export async function bestSeconds(
  gpu: Gpu | null,
  f: () => unknown,
  { runs = 3, fillSeconds = 0, maxRuns = 10 }: BestOptions = {},
): Promise<number> {
  const t0 = performance.now();
  await f();
  await gpu?.sync();
  const warmUp = (performance.now() - t0) / 1000;
  if (fillSeconds > 0) runs = Math.max(runs, Math.min(maxRuns, Math.ceil(fillSeconds / Math.max(warmUp, 1e-3))));
  let seconds = Infinity;
  for (let r = 0; r < runs; r++) {
    const t1 = performance.now();
    await f();
    await gpu?.sync();
    seconds = Math.min(seconds, (performance.now() - t1) / 1000);
  }
  return seconds;
}
