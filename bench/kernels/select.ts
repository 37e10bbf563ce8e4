/**
 * Selection-kernel benchmarks: global k-smallest (random scores, and scores with many ties, which
 * adds the tie-ranking passes), per-row k-smallest and n:m 2:4 — in elements per second, with the
 * plain-TS reference timed on 768x768 (4096x4096 gets GPU rows only).
 */
import type { Gpu } from "../../thanos/gpu/device.ts";
import { empty, upload } from "../../thanos/gpu/tensor.ts";
import { mat } from "../../thanos/linalg/view.ts";
import { kSmallestMask, nmMask, rowKSmallestMask } from "../../thanos/linalg/select.ts";
import * as ref from "../../reference/select.ts";
import { randn, rng } from "../../reference/random.ts";
import { bestSeconds } from "../timing.ts";
import type { BenchRow } from "./row.ts";

const RUNS = 3;

/** Best wall time of `runs` calls after one warm-up (see bench/timing.ts). */
const best = (gpu: Gpu | null, f: () => unknown, runs = RUNS) => bestSeconds(gpu, f, { runs });

function row(kernel: string, rows: number, cols: number, seconds: number, referenceSeconds?: number): BenchRow {
  return {
    kernel,
    size: `${rows}x${cols}`,
    seconds,
    rate: rows * cols / seconds / 1e6,
    unit: "Melem/s",
    ...(referenceSeconds === undefined ? {} : { referenceSeconds }),
  };
}

/** Runs the selection benchmarks on `gpu`. */
export async function bench(gpu: Gpu): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [n, withReference] of [[768, true], [4096, false]] as const) {
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
        withReference ? await best(null, () => ref.kSmallestMask(data, k), 1) : undefined,
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
        withReference ? await best(null, () => ref.rowKSmallestMask(data, n, n, n / 2), 1) : undefined,
      ));
      rows.push(row(
        "nmMask 2:4",
        n,
        n,
        await best(gpu, () => nmMask(mat(scores), 2, 4, mat(mask))),
        withReference ? await best(null, () => ref.nmMask(data, n, n, 2, 4), 1) : undefined,
      ));
    } finally {
      scores.release();
      tied.release();
      mask.release();
    }
  }
  return rows;
}
