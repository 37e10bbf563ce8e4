/**
 * `deno task bench:sparse [--shapes 4096x4096,11008x4096] [--batch 64] [--repeats 3]`
 *
 * Products from compressed sparse weights against dense ones on this machine's adapter, at each shape
 * [rows, cols] = [out, in], with weights dense, 2:4 (the 2 largest of every 4 kept: values + 4 index
 * bits per group, `sparse24Matvec` / `sparseMatmul`) and unstructured ~50% (a coin per weight: values +
 * 1 mask bit per weight + a start per row, `bitmaskMatvec` / `sparseMatmul`):
 *
 * - **time**: the one-token matrix-vector product y = W·x (decode) and the batch product
 *   Y = X·Wᵀ for `batch` tokens (prefill/evaluation; dense: the `matmul` kernel the forward uses). A
 *   dense weight larger than one storage binding (11008 x 4096 in f32 is 180 MB; llvmpipe binds 128 MiB)
 *   is held as row blocks that each fit, one product per block — the compressed weights fit whole:
 *   best of `repeats` runs after a warm-up, the bytes each reads (weights + index/mask + inputs),
 *   effective GB/s, and the speed-up over dense;
 * - **GPU memory** held by the weight in each form: the buffer pool's live bytes taken by its tensors;
 * - **disk**: the bytes of the weight in a checkpoint (compressed-tensors layout, `.shape` included)
 *   for F32 and F16 values, dense vs `sparse-24-bitmask` (2:4) and `sparse-bitmask` (unstructured),
 *   computed from the arrays the checkpoint writer stores (`compress24`, `compressBitmask`).
 *
 * Tables go to stdout (with `uptime`'s load average: the timings move with it on a shared CPU), then
 * one JSON line with every measurement.
 *
 * @module
 */

import { getGpu } from "../thanos/gpu/device.ts";
import { type Tensor, upload, zeros } from "../thanos/gpu/tensor.ts";
import { matvec } from "../thanos/decode/ops.ts";
import { bitmaskMatvec, sparse24Matvec } from "../thanos/decode/sparse_ops.ts";
import { upload24, uploadBitmask } from "../thanos/linalg/sparse_weight.ts";
import { sparseMatmul } from "../thanos/linalg/sparse_matmul.ts";
import { matmul } from "../thanos/linalg/matmul.ts";
import { mat, sub } from "../thanos/linalg/view.ts";
import { compress24, compressBitmask } from "../thanos/model/compressed.ts";
import { stringFlags } from "./flags.ts";
import { bestSeconds } from "./timing.ts";

const values = stringFlags(Deno.args, { shapes: "4096x4096,11008x4096", batch: "64", repeats: "3" });
const shapes = values.shapes.split(",").map((s) => s.split("x").map(Number) as [number, number]);
const batch = Number(values.batch), runs = Number(values.repeats);
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

/** `uptime`'s load averages, or "?" where it cannot run. */
async function load(): Promise<string> {
  try {
    const out = new TextDecoder().decode((await new Deno.Command("uptime").output()).stdout);
    return out.match(/load average[s]?: (.*)$/m)?.[1].trim() ?? "?";
  } catch {
    return "?";
  }
}

/** Pool bytes taken by the tensors `make` uploads. */
function pooled<T>(make: () => T): { value: T; bytes: number } {
  const before = gpu.pool.liveBytes;
  const value = make();
  return { value, bytes: gpu.pool.liveBytes - before };
}

const loadBefore = await load();
const timing: Record<string, unknown>[] = [],
  memory: Record<string, unknown>[] = [],
  disk: Record<string, unknown>[] = [];
for (const [rows, cols] of shapes) {
  const shape = `${rows}x${cols}`;
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

  for (const [dtype, eb] of [["F32", 4], ["F16", 2]] as const) { //     on disk, .shape (int64 x 2) included
    const dense = rows * cols * eb;
    const s24 = c24.compressed.length * eb + c24.bitmask.length + 16;
    const su = cu.compressed.length * eb + cu.bitmask.length + 8 * cu.rowOffsets!.length + 16;
    disk.push({
      shape,
      dtype,
      dense,
      "2:4": s24,
      unstructured: su,
      density: cu.compressed.length / (rows * cols),
      ratio24: s24 / dense,
      ratioUnstructured: su / dense,
      // what sparse-bitmask costs beyond values + mask: the int64 row_offsets, 8 bytes a row
      rowOffsetsShare: (8 * rows) / dense,
    });
  }

  // dense row blocks that each fit one storage binding
  const per = Math.floor(gpu.limits.maxStorageBufferBindingSize / (4 * cols));
  const dense = pooled(() => {
    const blocks: { lo: number; t: Tensor }[] = [];
    for (let lo = 0; lo < rows; lo += per) {
      const hi = Math.min(rows, lo + per);
      blocks.push({ lo, t: upload(gpu, w.subarray(lo * cols, hi * cols), [hi - lo, cols], `dense ${lo}..${hi}`) });
    }
    return blocks;
  });
  const s24 = pooled(() => upload24(gpu, c24.compressed, c24.bitmask, rows, cols, "2:4"));
  const su = pooled(() => uploadBitmask(gpu, cu.compressed, cu.bitmask, cu.rowOffsets!, rows, cols, "bitmask"));
  memory.push({
    shape,
    denseBlocks: dense.value.length,
    dense: dense.bytes,
    "2:4": s24.bytes,
    unstructured: su.bytes,
    ratio24: s24.bytes / dense.bytes,
    ratioUnstructured: su.bytes / dense.bytes,
  });
  using _s = s24.value, _u = su.value;
  using _d = { [Symbol.dispose]: () => dense.value.forEach((b) => b.t.release()) };
  using x = upload(gpu, random(cols, 3), [cols], "x");
  using y = zeros(gpu, [rows], "f32", "y");
  using xb = upload(gpu, random(batch * cols, 4), [batch, cols], "X");
  using yb = zeros(gpu, [batch, rows], "f32", "Y");
  const weightBytes = { dense: rows * cols * 4, "2:4": s24.bytes, "unstructured 50%": su.bytes };
  const cases: { product: string; kind: keyof typeof weightBytes; run: () => Promise<void> }[] = [
    {
      product: "matvec",
      kind: "dense",
      run: async () => {
        for (const b of dense.value) await matvec(b.t, x, y, { yOffset: b.lo });
      },
    },
    { product: "matvec", kind: "2:4", run: () => sparse24Matvec(s24.value, x, y) },
    { product: "matvec", kind: "unstructured 50%", run: () => bitmaskMatvec(su.value, x, y) },
    {
      product: `batch ${batch}`,
      kind: "dense",
      run: async () => {
        for (const b of dense.value) {
          await matmul(mat(xb), mat(b.t), sub(mat(yb), 0, b.lo, batch, b.t.shape[0]), { transB: true });
        }
      },
    },
    { product: `batch ${batch}`, kind: "2:4", run: () => sparseMatmul(s24.value, xb, yb) },
    { product: `batch ${batch}`, kind: "unstructured 50%", run: () => sparseMatmul(su.value, xb, yb) },
  ];
  let denseSeconds = 0;
  for (const c of cases) {
    console.error(`bench:sparse ${shape} ${c.product} ${c.kind}…`);
    const seconds = await bestSeconds(gpu, c.run, { runs });
    if (c.kind === "dense") denseSeconds = seconds;
    const inputs = (c.product === "matvec" ? 1 : batch) * cols * 4;
    const bytes = weightBytes[c.kind] + inputs;
    timing.push({
      shape,
      product: c.product,
      kind: c.kind,
      ms: seconds * 1e3,
      bytes,
      gbPerSecond: bytes / seconds / 1e9,
      speedup: denseSeconds / seconds,
    });
  }
}
const loadAfter = await load();

const mb = (b: number) => (b / 1e6).toFixed(1);
console.log(`adapter: ${gpu.info.description}; load average before: ${loadBefore}, after: ${loadAfter}`);
console.log("\n| shape | product | weights | ms | MB read | GB/s | speed-up vs dense |");
console.log("|---|---|---|---:|---:|---:|---:|");
for (const r of timing) {
  console.log(
    `| ${r.shape} | ${r.product} | ${r.kind} | ${(r.ms as number).toFixed(1)} | ${mb(r.bytes as number)} | ${
      (r.gbPerSecond as number).toFixed(2)
    } | ${(r.speedup as number).toFixed(2)}x |`,
  );
}
console.log("\n| shape | GPU bytes dense | 2:4 | unstructured 50% |");
console.log("|---|---:|---:|---:|");
for (const m of memory) {
  console.log(
    `| ${m.shape} | ${mb(m.dense as number)} MB | ${mb(m["2:4"] as number)} MB (${
      (m.ratio24 as number).toFixed(3)
    }x) | ${mb(m.unstructured as number)} MB (${(m.ratioUnstructured as number).toFixed(3)}x) |`,
  );
}
console.log(
  "\n| shape | dtype | disk bytes dense | sparse-24-bitmask | sparse-bitmask (density) | row_offsets share |",
);
console.log("|---|---|---:|---:|---:|---:|");
for (const d of disk) {
  console.log(
    `| ${d.shape} | ${d.dtype} | ${d.dense} | ${d["2:4"]} (${(d.ratio24 as number).toFixed(4)}x) | ${d.unstructured} (${
      (d.ratioUnstructured as number).toFixed(4)
    }x at ${(d.density as number).toFixed(4)}) | ${(d.rowOffsetsShare as number).toFixed(4)} |`,
  );
}
console.log(JSON.stringify({ runs, batch, load: { before: loadBefore, after: loadAfter }, timing, memory, disk }));
