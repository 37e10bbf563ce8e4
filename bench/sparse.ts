/**
 * `deno task bench:sparse [--shapes 4096x4096,11008x4096] [--repeats 5]`
 *
 * One-token (decode) matrix-vector products y = W·x on this machine's adapter: dense `matvec` vs the
 * 2:4 product (`sparse24Matvec`, 50% of the weights, 2 values + 4 index bits per group of 4) vs the
 * unstructured bitmask product (`bitmaskMatvec`, 50% non-zeros at random), at each shape
 * [rows, cols] = [out, in]: best time of `repeats` runs after a warm-up, the bytes each product reads
 * (weights + index/mask + x), effective GB/s, and the speed-up over dense.
 *
 * Not measured here (not built yet): batch products for prefill/eval and decode tokens/s of whole
 * models with compressed weights — the forward and the decoder still hold dense weights.
 *
 * A table goes to stdout, then one JSON line with every measurement.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getGpu } from "../thanos/gpu/device.ts";
import { upload, zeros } from "../thanos/gpu/tensor.ts";
import { matvec } from "../thanos/decode/ops.ts";
import { bitmaskMatvec, sparse24Matvec, upload24, uploadBitmask } from "../thanos/decode/sparse_ops.ts";
import { compress24, compressBitmask } from "../thanos/model/compressed.ts";
import { bestSeconds } from "./timing.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { shapes: { type: "string", default: "4096x4096,11008x4096" }, repeats: { type: "string", default: "5" } },
  strict: true,
});
const shapes = values.shapes!.split(",").map((s) => s.split("x").map(Number) as [number, number]);
const runs = Number(values.repeats);
const gpu = await getGpu();

/** Deterministic pseudo-random values in (-1, 1). */
function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const rowsOut: Record<string, unknown>[] = [];
for (const [rows, cols] of shapes) {
  const w = random(rows * cols, 1);
  const w24 = w.slice(), wu = w.slice();
  for (let i = 0; i < w.length; i += 4) { //                     2:4: keep the 2 largest of every 4
    const order = [0, 1, 2, 3].sort((a, b) => Math.abs(w[i + a]) - Math.abs(w[i + b]));
    w24[i + order[0]] = 0;
    w24[i + order[1]] = 0;
  }
  const coin = random(rows * cols, 2);
  for (let i = 0; i < wu.length; i++) if (coin[i] < 0) wu[i] = 0; //     unstructured ~50%
  const c24 = compress24(w24, rows, cols), cu = compressBitmask(wu, rows, cols);
  using dense = upload(gpu, w, [rows, cols], "dense");
  using s24 = upload24(gpu, c24.compressed, c24.bitmask, rows, cols, "2:4");
  using su = uploadBitmask(gpu, cu.compressed, cu.bitmask, cu.rowOffsets!, rows, cols, "bitmask");
  using x = upload(gpu, random(cols, 3), [cols], "x");
  using y = zeros(gpu, [rows], "f32", "y");
  const xBytes = cols * 4;
  const cases = [
    { kind: "dense", bytes: rows * cols * 4 + xBytes, run: () => matvec(dense, x, y) },
    { kind: "2:4", bytes: (s24.values.size + s24.index.size) * 4 + xBytes, run: () => sparse24Matvec(s24, x, y) },
    {
      kind: "unstructured 50%",
      bytes: (su.values.size + su.mask.size + su.rowStart.size) * 4 + xBytes,
      run: () => bitmaskMatvec(su, x, y),
    },
  ];
  let denseSeconds = 0;
  for (const c of cases) {
    console.error(`bench:sparse ${rows}x${cols} ${c.kind}…`);
    const seconds = await bestSeconds(gpu, c.run, { runs });
    if (c.kind === "dense") denseSeconds = seconds;
    rowsOut.push({
      shape: `${rows}x${cols}`,
      kind: c.kind,
      ms: seconds * 1e3,
      bytes: c.bytes,
      gbPerSecond: c.bytes / seconds / 1e9,
      speedup: denseSeconds / seconds,
    });
  }
}

console.log(`adapter: ${gpu.info.description}`);
console.log("| shape | weights | ms | MB read | GB/s | speed-up vs dense |");
console.log("|---|---|---:|---:|---:|---:|");
for (const r of rowsOut) {
  console.log(
    `| ${r.shape} | ${r.kind} | ${(r.ms as number).toFixed(2)} | ${((r.bytes as number) / 1e6).toFixed(1)} | ${
      (r.gbPerSecond as number).toFixed(2)
    } | ${(r.speedup as number).toFixed(2)}x |`,
  );
}
console.log(JSON.stringify({ runs, results: rowsOut }));
