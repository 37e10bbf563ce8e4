/**
 * Selection-kernel benchmarks: global k-smallest (random scores, and scores with many ties, which
 * adds the tie-ranking passes), per-row k-smallest and n:m 2:4 — in elements per second, at
 * 768x768 and 4096x4096. No CPU yardstick: numpy has no exact k-smallest mask with the kernels'
 * tie rule to time against.
 */
import type { Gpu } from "../../thanos/gpu/device.ts";
import { empty, upload } from "../../thanos/gpu/tensor.ts";
import { mat } from "../../thanos/linalg/view.ts";
import { kSmallestMask, nmMask, rowKSmallestMask } from "../../thanos/linalg/select.ts";
import { randn, rng } from "../../thanos/util/random.ts";
import { bestSeconds } from "../timing.ts";
import type { BenchRow } from "./row.ts";

const RUNS = 3;

/** Best wall time of `runs` calls after one warm-up (see bench/timing.ts). */
const best = (gpu: Gpu | null, f: () => unknown, runs = RUNS) => bestSeconds(gpu, f, { runs });

function row(kernel: string, rows: number, cols: number, seconds: number): BenchRow {
  return { kernel, size: `${rows}x${cols}`, seconds, rate: rows * cols / seconds / 1e6, unit: "Melem/s" };
}

/** Runs the selection benchmarks on `gpu`. */
export async function bench(gpu: Gpu): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [768, 4096]) {
    const data = randn(n * n, n);
    const u = rng(n);
    const ties = Float32Array.from({ length: n * n }, () => [-1, 0, 0.5, 2][Math.floor(u() * 4)]);
    const scores = upload(gpu, data, [n, n], "scores");
    const tied = upload(gpu, ties, [n, n], "tiedScores");
    const mask = empty(gpu, [n, n], "u32", "mask");
    const k = Math.floor(n * n / 2);
    try {
      rows.push(row(
        "kSmallestMask k=size/2",
        n,
        n,
        await best(gpu, () => kSmallestMask(mat(scores), k, mat(mask))),
      ));
      rows.push(row(
        "kSmallestMask k=size/2, 4 distinct values",
        n,
        n,
        await best(gpu, () => kSmallestMask(mat(tied), k, mat(mask))),
      ));
      rows.push(row(
        "rowKSmallestMask k=cols/2",
        n,
        n,
        await best(gpu, () => rowKSmallestMask(mat(scores), n / 2, mat(mask))),
      ));
      rows.push(row(
        "nmMask 2:4",
        n,
        n,
        await best(gpu, () => nmMask(mat(scores), 2, 4, mat(mask))),
      ));
    } finally {
      scores.release();
      tied.release();
      mask.release();
    }
  }
  return rows;
}
