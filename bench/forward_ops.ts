/**
 * `deno task bench:forward-ops [--batch 16] [--seqlen 256] [--repeats 3] [--inner 4]`
 *
 * Where a LLaMA forward pass spends its time: each kernel of one decoder block, timed alone at
 * tiny-llama's shapes (hidden 256, 8 query heads of 32 over 4 kv heads, MLP 688, vocabulary 4096)
 * on `batch` windows of `seqlen` tokens with seeded random inputs, as LlamaModel runs them — RMSNorm
 * (recording its output's NaN/Inf check), q/k/v in one product, RoPE, attention (checked),
 * o_proj accumulated onto the copied stream, gate/up in one product with SiLU·up as its epilogue
 * (row-padded, checked; the product then the activation kernel where the fused product does not
 * apply), the down product, the residual add (checked) — and the LM head, with the share of each in
 * a forward pass of tiny-llama's 4 blocks (the kernels it runs, times how often).
 * Best wall time of `repeats` runs after a warm-up (which compiles the pipelines), each run `inner`
 * calls with the GPU synced after the last (a sync alone costs milliseconds of polling, which
 * would swamp the short kernels), divided by `inner`; the load average is printed before and after,
 * since the machine is shared.
 *
 * A table goes to stdout, then one JSON line.
 *
 * @module
 */

import { getGpu } from "../thanos/gpu/device.ts";
import { empty, upload, zeros } from "../thanos/gpu/tensor.ts";
import { matmul, matmulRowStack } from "../thanos/linalg/matmul.ts";
import { mat, paddedWidth, sub } from "../thanos/linalg/view.ts";
import {
  causalAttention,
  gatedActivationRows,
  gatedProductRows,
  residualAdd,
  rmsNorm,
  rope,
} from "../thanos/model/ops.ts";
import { ropeInverseFrequencies, ropeTablesOnGpu } from "../thanos/model/rope.ts";
import { randn } from "../thanos/util/random.ts";
import { stringFlags } from "./flags.ts";
import { bestSeconds } from "./timing.ts";

const values = stringFlags(Deno.args, { batch: "16", seqlen: "256", repeats: "3", inner: "4" });
const B = Number(values.batch), T = Number(values.seqlen), runs = Number(values.repeats), inner = Number(values.inner);
const N = B * T, d = 256, f = 688, nh = 8, nkv = 4, hs = 32, V = 4096, blocks = 4;

const gpu = await getGpu();
const loadBefore = Deno.loadavg()[0];
const rand = (shape: number[], seed: number) => upload(gpu, randn(shape.reduce((a, b) => a * b), seed), shape);
using x = rand([N, d], 1), norm = rand([d], 2), h = empty(gpu, [N, d]);
using wq = rand([d, d], 3), wk = rand([nkv * hs, d], 4), wv = rand([nkv * hs, d], 5), wo = rand([d, d], 14);
using wgate = rand([f, d], 6), wup = rand([f, d], 15), wdown = rand([d, f], 7), head = rand([V, d], 8);
using qkv = empty(gpu, [N, (nh + 2 * nkv) * hs]), gateUp = rand([N, 2 * f], 12);
using att = rand([N, nh * hs], 9), y = empty(gpu, [N, d]);
using logits = empty(gpu, [N, V]), flags = zeros(gpu, [1], "u32");
const check = { flags, slot: 0 };
const ld = paddedWidth(f);
using act = await gatedActivationRows(sub(mat(gateUp), 0, 0, N, f), sub(mat(gateUp), 0, f, N, f), "silu", ld);
const q = sub(mat(qkv), 0, 0, N, nh * hs), k = sub(mat(qkv), 0, nh * hs, N, nkv * hs);
const v = sub(mat(qkv), 0, (nh + nkv) * hs, N, nkv * hs);
const { cos, sin } = ropeTablesOnGpu(gpu, ropeInverseFrequencies(hs, { theta: 10000, scaling: null }), T);
using _tables = { [Symbol.dispose]: () => (cos.release(), sin.release()) };
const shape = { batch: B, seqLen: T, heads: nh, kvHeads: nkv, headDim: hs, scale: hs ** -0.5 };

/** [name, dispatches of it per forward pass, the work] — as LlamaModel runs them (thanos/model/llama.ts) */
const ops: [string, number, () => Promise<unknown>][] = [
  ["RMSNorm [N, 256], checked", 2 * blocks, () => rmsNorm(x, norm, 1e-5, h, check)],
  ["q/k/v, one 512x256 product", blocks, () => matmulRowStack(mat(h), [wq, wk, wv], mat(qkv))],
  ["RoPE q", blocks, () => rope(q, cos, sin, { seqLen: T, heads: nh, headDim: hs })],
  ["RoPE k", blocks, () => rope(k, cos, sin, { seqLen: T, heads: nkv, headDim: hs })],
  ["attention, checked", blocks, () => causalAttention(q, k, v, att, shape, undefined, check)],
  ["o proj onto the stream", blocks, () => {
    gpu.recorder.copy(x.buffer, 0, y.buffer, 0, y.byteLength);
    return matmul(mat(att), mat(wo), mat(y), { transB: true, accumulate: true });
  }],
  ["gate/up + SiLU·up, checked", blocks, async () => {
    // the product's epilogue where it can be (gatedProductRows), else the product then the activation
    using fused = await gatedProductRows(mat(h), wgate, wup, "silu", ld, check);
    if (fused) return;
    await matmulRowStack(mat(h), [wgate, wup], mat(gateUp));
    using _a = await gatedActivationRows(sub(mat(gateUp), 0, 0, N, f), sub(mat(gateUp), 0, f, N, f), "silu", ld, check);
  }],
  ["down proj 256x688", blocks, () => matmul(sub(mat(act), 0, 0, N, f), mat(wdown), mat(y), { transB: true })],
  ["residual add, checked", blocks, () => residualAdd(y, x, check)],
  ["LM head 4096x256", 1, () => matmul(mat(h), mat(head), mat(logits), { transB: true })],
];
const rows = [];
for (const [name, count, work] of ops) {
  // `inner` calls between syncs: a sync alone costs milliseconds of polling on llvmpipe
  const seconds = await bestSeconds(gpu, async () => {
    for (let i = 0; i < inner; i++) await work();
  }, { runs }) / inner;
  rows.push({ name, count, seconds });
  console.error(`${name}: ${(seconds * 1000).toFixed(1)} ms`);
}
const total = rows.reduce((s, r) => s + r.count * r.seconds, 0);
const loadAfter = Deno.loadavg()[0];
console.log(
  `adapter: ${gpu.info.description}; ${B}x${T} tokens; load average ${loadBefore.toFixed(1)} -> ${
    loadAfter.toFixed(1)
  }`,
);
console.log(["kernel", "ms", "per forward", "share"].map((s, i) => i ? s.padStart(12) : s.padEnd(26)).join(""));
for (const r of rows) {
  console.log(
    [
      r.name.padEnd(26),
      (r.seconds * 1000).toFixed(1),
      `x${r.count}`,
      `${(100 * r.count * r.seconds / total).toFixed(1)}%`,
    ]
      .map((s, i) => i ? s.padStart(12) : s).join(""),
  );
}
console.log(`sum of the kernels of one forward pass: ${total.toFixed(2)} s = ${(N / total).toFixed(0)} tokens/s`);
console.log(JSON.stringify({ adapter: gpu.info.description, batch: B, seqlen: T, loadBefore, loadAfter, rows, total }));
