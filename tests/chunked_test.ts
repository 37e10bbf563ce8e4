/**
 * Tensors larger than one storage binding (thanos/gpu/chunked.ts): the WGSL rewrite on its own, every
 * shader compiled with its bindings split, and the pruning methods, the forward pass and decoding run
 * with a forced small binding limit — on odd shapes, their results bit for bit those of the unsplit
 * kernels (the accessors change where an element is read, not the arithmetic).
 */

import { splitBindings } from "../thanos/gpu/chunked.ts";
import { type Gpu, launch, type Tensor, upload, zeros } from "../thanos/gpu/mod.ts";
import { shaderInterface, shaderSource } from "../thanos/gpu/pipelines.ts";
import { perplexity } from "../thanos/eval.ts";
import { loadModel } from "../thanos/model/load.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { generate } from "../thanos/decode/generate.ts";
import { CalibrationStats, pruneLayer } from "../thanos/prune/mod.ts";
import type { PruneOptionsInput } from "../thanos/prune/options.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { gpuTest, randn, randomIds, withBindingLimit } from "./util.ts";

// ------------------------------------------------------------------------------------------------
// the rewrite

const TOY = `
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
fn twice(i: u32) -> f32 { return 2.0 * a[i]; } // a[i] in a comment stays
@compute @workgroup_size(1)
fn main() {
  out[a[0]] = vec4f(a[ 1u ], twice(2u), 0.0, f32(arrayLength(&a)));
  out[3] += out[u32(a[2])] * 2.0;
  let same = a[1] == a[2];
}`;

Deno.test("splitBindings: reads, stores, compound and nested accesses become accessor calls", () => {
  const { code, chunks } = splitBindings("toy", TOY, {
    chunkBytes: 512,
    splits: [{ name: "a", chunks: 3 }, { name: "out", chunks: 2 }],
  });
  assertEquals(chunks, [{ name: "a", bindings: [1, 3, 4] }, { name: "out", bindings: [2, 5] }]);
  assert(code.includes("var<storage, read> a_c2: array<f32>;"), "a's third chunk is declared");
  assert(code.includes("out_st(u32(a_ld(u32(0))), vec4f(a_ld(u32( 1u )), twice(2u), 0.0, f32(a_len())));"), code);
  assert(
    code.includes("{ let i_out = u32(3); out_st(i_out, out_ld(i_out) + (out_ld(u32(u32(a_ld(u32(2))))) * 2.0)); }"),
  );
  assert(code.includes("let same = a_ld(u32(1)) == a_ld(u32(2));"), "a comparison is a read");
  assert(code.includes("switch i / 128u"), "f32 chunks of 512 bytes hold 128 elements");
  assert(code.includes("switch i / 32u"), "vec4f chunks of 512 bytes hold 32 elements");
  assert(!/\ba\[|\bout\[/.test(code.replace(/\/\/[^\n]*/g, "")), "no direct access is left");
  assertEquals(code.split("\n").slice(0, TOY.split("\n").length).length, TOY.split("\n").length);
  assertEquals(code.split("\n")[4].startsWith("fn twice"), true, "lines keep their numbers");
});

Deno.test("splitBindings: what cannot be split is refused naming the shader and the binding", () => {
  const plan = (name: string) => ({ chunkBytes: 256, splits: [{ name, chunks: 2 }] });
  const src = `
@group(0) @binding(0) var<storage, read_write> c: array<atomic<u32>>;
@group(0) @binding(1) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
fn f(s: f32) -> f32 { return s; }
fn main() { atomicAdd(&c[0], 1u); v[0].x = 1.0; }`;
  assertThrows(() => splitBindings("k", src, plan("c")), Error, 'Shader "k.wgsl": binding "c" cannot be split');
  assertThrows(() => splitBindings("k", src, plan("v")), Error, "a component of v[…] is written in place");
  assertThrows(() => splitBindings("k", src, plan("s")), Error, "a function-scope name shadows it");
  assertThrows(() => splitBindings("k", src, plan("nope")), Error, 'binding "nope" cannot be split');
  assertThrows(
    () => splitBindings("k", src.replace("atomic<u32>", "u32"), plan("c")),
    Error,
    "its address is taken (&c[…])",
  );
});

gpuTest("every shader compiles with each of its bindings split in two", async (gpu) => {
  const names = [...Deno.readDirSync(new URL("../shaders/", import.meta.url))]
    .filter((e) => e.isFile && e.name.endsWith(".wgsl")).map((e) => e.name.slice(0, -5)).sort();
  let split = 0;
  for (const name of names) {
    const candidates = shaderInterface(name).storage.filter((d) => d.space !== "texture" && !/atomic/.test(d.type))
      .map((d) => d.name);
    if (candidates.length === 0) continue;
    const { code } = splitBindings(name, shaderSource(name), {
      chunkBytes: 256,
      splits: candidates.map((n) => ({ name: n, chunks: 2 })),
    });
    gpu.device.pushErrorScope("validation");
    const module = gpu.device.createShaderModule({ label: `${name} (split)`, code });
    const error = await gpu.device.popErrorScope();
    const messages = (await module.getCompilationInfo()).messages.filter((m) => m.type === "error");
    assertEquals([error?.message, ...messages.map((m) => `${m.lineNum}: ${m.message}`)].filter(Boolean), [], name);
    split += candidates.length;
  }
  assert(split > 100, `${split} bindings split`);
});

// ------------------------------------------------------------------------------------------------
// the launch

gpuTest("a launch binds a buffer larger than the limit in chunks; too many chunks are refused", async (gpu) => {
  const n = 1000; // 4000 bytes: 4 chunks of 1024 at a limit of 1024
  using x = upload(gpu, randn(n, 3)), y = upload(gpu, randn(n, 4));
  using want = upload(gpu, await y.read());
  const params = { rows: 1, cols: n, offX: 0, ldX: n, offY: 0, ldY: n, alpha: -0.5 };
  await launch(gpu, "axpy", { x, y: want }, { grid: [4], params, constants: { WG: 256 } });
  await withBindingLimit(gpu, 1024, () => launch(gpu, "axpy", { x, y }, { grid: [4], params, constants: { WG: 256 } }));
  assertEquals(await y.read(), await want.read());
  using big = zeros(gpu, [10 * 64]); // 10 chunks of 256 bytes
  await assertRejects(
    () =>
      withBindingLimit(
        gpu,
        256,
        () => launch(gpu, "axpy", { x: big, y: big }, { grid: [1], params, constants: { WG: 256 } }),
      ),
    RangeError,
    'Shader "axpy": its buffers need 20 storage bindings in chunks of 256 bytes (x: 10, y: 10), more than ' +
      "the device's maxStorageBuffersPerShaderStage",
  );
});

// ------------------------------------------------------------------------------------------------
// whole computations, split against unsplit

async function prune(gpu: Gpu, W: Float32Array, X: Float32Array, rows: number, cols: number, o: PruneOptionsInput) {
  using stats = new CalibrationStats(gpu, cols, "chunked");
  const n = X.length / cols, half = Math.floor(n / 3);
  await stats.addBatch(upload(gpu, X.slice(0, half * cols), [half, cols]));
  await stats.addBatch(upload(gpu, X.slice(half * cols), [n - half, cols]));
  using weight = upload(gpu, W, [rows, cols], "W");
  const result = await pruneLayer({ name: "layer", weight: weight as Tensor }, stats, o);
  using w = result.weight, m = result.mask;
  return { W: await w.read(), mask: await m.read(), error: result.relativeError };
}

// 120 x 296 weights (142 KB), H 296² (350 KB), activations 411 x 296 (487 KB): at a 128 KiB limit
// the Hessian, its factor, the activations, the scores and the weights are all split (2–4 chunks)
const LAYER_CASES: [string, PruneOptionsInput][] = [
  ["thanos unstructured", { method: "thanos", pattern: "unstructured", blocksize: 64 }],
  ["thanos 2:4 alpha 0.1", { method: "thanos", pattern: "2:4", blocksize: 64, alpha: 0.1 }],
  ["thanos structured", { method: "thanos", pattern: "structured", sparsity: 0.3 }],
  ["sparsegpt unstructured", { method: "sparsegpt", pattern: "unstructured", blocksize: 64 }],
  ["sparsegpt 4:8", { method: "sparsegpt", pattern: "4:8", blocksize: 64 }],
  ["wanda unstructured", { method: "wanda", pattern: "unstructured" }],
  ["magnitude 2:4", { method: "magnitude", pattern: "2:4" }],
];

for (const [what, options] of LAYER_CASES) {
  gpuTest(`${what} on 120x296 is the same bit for bit with every large tensor split`, async (gpu) => {
    const rows = 120, cols = 296, n = 411;
    const W = randn(rows * cols, 7), X = randn(n * cols, 8);
    for (let t = 0; t < n; t++) for (let j = 0; j < cols; j += 13) X[t * cols + j] *= 6;
    const o = { sparsity: 0.5, ...options };
    const whole = await prune(gpu, W, X, rows, cols, o);
    const split = await withBindingLimit(gpu, 128 * 1024, () => prune(gpu, W, X, rows, cols, o));
    assertEquals(split.mask, whole.mask);
    assertEquals(split.W, whole.W);
    assertEquals(split.error, whole.error);
  });
}

gpuTest(
  "tiny-llama's perplexity and greedy decoding are the same with the embeddings and activations split",
  async (gpu) => {
    const model = await loadModel("models/tiny-llama");
    try {
      const windows = { tokens: randomIds(2 * 96, model.config.vocabSize, 5), count: 2, seqlen: 96 };
      const tokenizer = await loadTokenizer("models/tiny-llama");
      const run = async () => ({
        ppl: (await perplexity(model, windows, { batchSize: 2 })).perplexity,
        tokens: (await generate(model, tokenizer, [1, 17, 29, 3], { maxNewTokens: 6, eosTokenIds: [] })).tokens,
      });
      const whole = await run();
      // 1 MiB: the embedding table (4 MiB) in 4 chunks (the MLP's tensors fit: the gate/up product is
      // the epilogue's now; the test below splits its kernels)
      const split = await withBindingLimit(gpu, 1 << 20, run);
      assertEquals(split, whole);
    } finally {
      model.release();
    }
  },
);

gpuTest(
  "the gated gate/up product, RMSNorm, RoPE and the residual add (vec4 forms) give the same bits with their tensors split",
  async (gpu) => {
    const { gatedProductRows, residualAdd, rmsNorm, rope } = await import("../thanos/model/ops.ts");
    const { ropeInverseFrequencies, ropeTablesOnGpu } = await import("../thanos/model/rope.ts");
    const { mat, sub } = await import("../thanos/linalg/view.ts");
    const rows = 300, d = 64, f = 100, ld = 128, K = 576; // K: two k-slices, so the gated kernel reads `part`
    using a = upload(gpu, randn(rows * K, 1), [rows, K]);
    using wg = upload(gpu, randn(f * K, 2).map((v) => v / 8), [f, K]), wu = upload(gpu, randn(f * K, 3), [f, K]);
    using w = upload(gpu, randn(d, 4), [d]);
    const { cos, sin } = ropeTablesOnGpu(gpu, ropeInverseFrequencies(32, { theta: 10000, scaling: null }), 100);
    const run = async () => {
      using flags = zeros(gpu, [4], "u32");
      using hidden = await gatedProductRows(mat(a), wg, wu, "silu", ld, { flags, slot: 0 });
      using x = upload(gpu, randn(rows * d, 5), [rows, d]), y = upload(gpu, randn(rows * d, 6), [rows, d]);
      using normed = await rmsNorm(x, w, 1e-5, undefined, { flags, slot: 1 });
      await residualAdd(x, y, { flags, slot: 2 });
      await rope(sub(mat(y), 0, 0, rows, d), cos, sin, { seqLen: 100, heads: 2, headDim: 32 });
      return [
        hidden ? await hidden.read() : null,
        await normed.read(),
        await x.read(),
        await y.read(),
        await flags.read(),
      ];
    };
    const whole = await run();
    // 64 KiB: the gated output [300, 128] and the partial sums [300, 200] in 3 and 4 chunks, x and y in 2
    const split = await withBindingLimit(gpu, 1 << 16, run);
    assertEquals(split, whole);
    cos.release();
    sin.release();
  },
);
