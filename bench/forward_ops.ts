/**
 * `deno task bench:forward-ops [--batch 16] [--seqlen 256] [--repeats 3]`
 *
 * Where a LLaMA forward pass spends its time: each kernel of one decoder block, timed alone at
 * tiny-llama's shapes (hidden 256, 8 query heads of 32 over 4 kv heads, MLP 688, vocabulary 4096)
 * on `batch` windows of `seqlen` tokens with seeded random inputs — RMSNorm, the q/k/v/o and
 * gate/up/down products, RoPE, attention, SiLU·up, the residual adds, the NaN/Inf checks of the
 * activations — and the LM head, with the share of each in a forward pass of tiny-llama's 4 blocks
 * (the kernels it runs, times how often).
 * Best wall time of `repeats` runs after a warm-up (which compiles the pipelines), the GPU synced
 * after each; the load average is printed before and after, since the machine is shared.
 *
 * A table goes to stdout, then one JSON line.
 *
 * @module
 */

import { getGpu } from "../thanos/gpu/device.ts";
import { empty, upload, zeros } from "../thanos/gpu/tensor.ts";
import { recordFirstNonFinite } from "../thanos/linalg/finite.ts";
import { matmul } from "../thanos/linalg/matmul.ts";
import { mat } from "../thanos/linalg/view.ts";
import { causalAttention, gatedActivation, residualAdd, rmsNorm, rope } from "../thanos/model/ops.ts";
import { ropeInverseFrequencies, ropeTablesOnGpu } from "../thanos/model/rope.ts";
import { randn } from "../thanos/util/random.ts";
import { stringFlags } from "./flags.ts";
import { bestSeconds } from "./timing.ts";

const values = stringFlags(Deno.args, { batch: "16", seqlen: "256", repeats: "3" });
const B = Number(values.batch), T = Number(values.seqlen), runs = Number(values.repeats);
const N = B * T, d = 256, f = 688, nh = 8, nkv = 4, hs = 32, V = 4096, blocks = 4;

const gpu = await getGpu();
const loadBefore = Deno.loadavg()[0];
const rand = (shape: number[], seed: number) => upload(gpu, randn(shape.reduce((a, b) => a * b), seed), shape);
using x = rand([N, d], 1), norm = rand([d], 2), h = empty(gpu, [N, d]);
using wq = rand([d, d], 3), wkv = rand([nkv * hs, d], 4);
using wgate = rand([f, d], 6), wdown = rand([d, f], 7), head = rand([V, d], 8);
using q = rand([N, nh * hs], 9), k = rand([N, nkv * hs], 10), v = rand([N, nkv * hs], 11);
using att = empty(gpu, [N, nh * hs]), gate = rand([N, f], 12), up = rand([N, f], 13), y = empty(gpu, [N, d]);
using logits = empty(gpu, [N, V]), flags = zeros(gpu, [1], "u32");
const { cos, sin } = ropeTablesOnGpu(gpu, ropeInverseFrequencies(hs, { theta: 10000, scaling: null }), T);
using _tables = { [Symbol.dispose]: () => (cos.release(), sin.release()) };
const shape = { batch: B, seqLen: T, heads: nh, kvHeads: nkv, headDim: hs, scale: hs ** -0.5 };

/** [name, dispatches of it per forward pass, the work] */
const ops: [string, number, () => Promise<unknown>][] = [
  ["RMSNorm [N, 256]", 2 * blocks, () => rmsNorm(x, norm, 1e-5, h)],
  ["q or o proj 256x256", 2 * blocks, () => matmul(mat(h), mat(wq), mat(att), { transB: true })],
  ["k or v proj 128x256", 2 * blocks, () => matmul(mat(h), mat(wkv), mat(k), { transB: true })],
  ["RoPE q", blocks, () => rope(mat(q), cos, sin, { seqLen: T, heads: nh, headDim: hs })],
  ["RoPE k", blocks, () => rope(mat(k), cos, sin, { seqLen: T, heads: nkv, headDim: hs })],
  ["attention", blocks, () => causalAttention(mat(q), mat(k), mat(v), att, shape)],
  ["gate or up proj 688x256", 2 * blocks, () => matmul(mat(h), mat(wgate), mat(gate), { transB: true })],
  ["SiLU(gate)·up", blocks, () => gatedActivation(gate, up, "silu")],
  ["down proj 256x688", blocks, () => matmul(mat(gate), mat(wdown), mat(y), { transB: true })],
  ["residual add", 2 * blocks, () => residualAdd(y, x)],
  // the model's NaN/Inf watch (thanos/model/finite.ts): each linear group's input and each block's output
  ["NaN/Inf check [N, 256]", 4 * blocks, () => recordFirstNonFinite(h, flags, 0)],
  ["NaN/Inf check [N, 688]", blocks, () => recordFirstNonFinite(gate, flags, 0)],
  ["LM head 4096x256", 1, () => matmul(mat(h), mat(head), mat(logits), { transB: true })],
];
const rows = [];
for (const [name, count, work] of ops) {
  const seconds = await bestSeconds(gpu, work, { runs });
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
