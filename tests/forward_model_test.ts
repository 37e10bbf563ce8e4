/**
 * Whole-model forward passes (thanos/model/{forward,llama,opt,gpt2,load}.ts) on tiny random-weight
 * checkpoints the test writes, against the float64 reference forward in tests/reference/forward.ts
 * (an independent implementation reading config.json keys and HF tensor names).
 *
 * Tolerances: logits atol 1e-4 + rtol 1e-4 (f32 matmuls and reductions on O(1) activations, two
 * blocks deep); per-position NLL atol 1e-4. The largest differences are printed.
 */

import { assertEquals, assertRejects } from "./assert.ts";
import { upload } from "../thanos/gpu/mod.ts";
import type { LinearGroup } from "../thanos/model/forward.ts";
import type { MatrixView } from "../thanos/linalg/view.ts";
import { DecoderModel, linear, residual } from "../thanos/model/forward.ts";
import { MATMUL_VARIANT_ENV } from "../thanos/linalg/matmul.ts";
import { residualAdd } from "../thanos/model/ops.ts";
import { forwardHidden, forwardNll, loadModel } from "../thanos/model/load.ts";
import * as ref from "./reference/forward.ts";
import { TINY_CONFIGS, writeTinyCheckpoint } from "./tiny_models.ts";
import { assertClose, gpuTest, maxAbsDiff, randn, randomIds } from "./util.ts";

const LOGITS_TOL = { rtol: 1e-4, atol: 1e-4 };
const NLL_TOL = { rtol: 0, atol: 1e-4 };

const tmp = await Deno.makeTempDir({ prefix: "thanos-forward-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

function referenceNll(logits: Float64Array, ids: Uint32Array, batch: number, T: number, V: number): Float64Array {
  const rows: number[] = [], targets: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < T - 1; t++) rows.push(b * T + t), targets.push(ids[b * T + t + 1]);
  }
  const picked = new Float64Array(rows.length * V);
  rows.forEach((r, i) => picked.set(logits.subarray(r * V, (r + 1) * V), i * V));
  return ref.nll(picked, rows.length, V, targets);
}

/** Sequence lengths per variant: long enough to cross rope bands / all learned positions. */
const SEQ: Record<string, number> = { "llama3-tied": 70, "opt-pre-ln": 32, gpt2: 32 };

for (const variant of Object.keys(TINY_CONFIGS)) {
  gpuTest(`${variant}: logits and NLL match the float64 reference forward`, async () => {
    const { dir, config, weights } = await writeTinyCheckpoint(tmp, variant, 3);
    const V = config.vocab_size as number, batch = 2, T = SEQ[variant] ?? 13;
    const ids = randomIds(batch * T, V, 7);
    const want = ref.referenceLogits(config, weights, ids, batch, T);
    const model = await loadModel(dir);
    try {
      const x = await forwardHidden(model, ids, batch, T);
      const logits = await model.logits(x, Array.from({ length: batch * T }, (_, i) => i));
      const nll = await model.nll(x, ids, batch, T);
      x.release();
      console.log(`  ${variant}: max |Δlogit| ${maxAbsDiff(logits, want).toExponential(2)}`);
      assertClose(logits, want, LOGITS_TOL, `${variant} logits`);
      const wantNll = referenceNll(want, ids, batch, T, V);
      assertEquals(nll.length, batch * (T - 1));
      assertClose(nll, wantNll, NLL_TOL, `${variant} nll`);
    } finally {
      model.release();
    }
  });
}

gpuTest(
  "chunked embedding tables, LM head and logits blocks give the same NLL and logits (llama3-tied, opt-post-ln-proj)",
  async () => {
    for (const variant of ["llama3-tied", "opt-post-ln-proj", "gpt2-untied"]) {
      const { dir, config } = await writeTinyCheckpoint(tmp, variant, 4);
      const V = config.vocab_size as number, T = 9, batch = 3;
      const ids = randomIds(batch * T, V, 8);
      const rows = [0, 7, batch * T - 1];
      const whole = await loadModel(dir);
      const expected = await forwardNll(whole, ids, batch, T);
      const xWhole = await forwardHidden(whole, ids, batch, T);
      const expectedLogits = await whole.logits(xWhole, rows);
      xWhole.release();
      whole.release();
      // tables split into chunks of 5 rows; logits computed 3 vocabulary columns at a time
      const cols = (config.word_embed_proj_dim ?? config.hidden_size ?? config.n_embd) as number;
      const chunked = await loadModel(dir, { maxChunkBytes: 5 * cols * 4, logitsBytes: 3 * 4 * batch * (T - 1) });
      const got = await forwardNll(chunked, ids, batch, T);
      const xChunked = await forwardHidden(chunked, ids, batch, T);
      const gotLogits = await chunked.logits(xChunked, rows); //      one matmul per LM head chunk
      xChunked.release();
      chunked.release();
      assertClose(got, expected, { rtol: 0, atol: 2e-5 }, `${variant} chunked`);
      assertClose(gotLogits, expectedLogits, { rtol: 0, atol: 2e-5 }, `${variant} chunked logits`);
    }
  },
);

gpuTest("hooks see each linear group's input once per block, with the right shape and values", async () => {
  const { dir, config, weights } = await writeTinyCheckpoint(tmp, "llama-gqa", 5);
  const model = await loadModel(dir);
  const batch = 2, T = 5, N = batch * T, D = config.hidden_size as number;
  const ids = randomIds(N, config.vocab_size as number, 9);
  const seen: { group: LinearGroup; rows: number; cols: number; data?: Float32Array }[] = [];
  let x = await model.embed(ids, batch, T);
  const next = await model.runBlock(0, x, batch, T, {
    async onLinearInput(group, view) {
      const data = group.input === "attn_in" ? (await view.tensor.read()) as Float32Array : undefined;
      seen.push({ group, rows: view.rows, cols: view.cols, data });
    },
  });
  x.release();
  x = next;
  assertEquals(seen.map((s) => s.group.names), [
    ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
    ["self_attn.o_proj"],
    ["mlp.gate_proj", "mlp.up_proj"],
    ["mlp.down_proj"],
  ]);
  assertEquals(seen.map((s) => [s.rows, s.cols]), [[N, D], [N, D], [N, D], [N, 48]]);
  assertEquals(model.linearGroups.map((g) => g.input), ["attn_in", "attn_out", "mlp_in", "mlp_hidden"]);
  // attn_in of block 0 = RMSNorm(embeddings)
  const emb = ref.gatherRows(ids, weights.get("model.embed_tokens.weight")!, D);
  const want = ref.rmsNorm(emb, N, D, weights.get("model.layers.0.input_layernorm.weight")!, 1e-5);
  assertClose(seen[0].data!, want, { rtol: 1e-5, atol: 1e-5 }, "attn_in");
  x.release();
  model.release();
});

gpuTest("GPT-2 hook groups are c_attn, c_proj, c_fc, mlp.c_proj and OPT's are q/k/v, out, fc1, fc2", async () => {
  for (
    const [variant, names] of [
      ["gpt2", [["attn.c_attn"], ["attn.c_proj"], ["mlp.c_fc"], ["mlp.c_proj"]]],
      ["opt-pre-ln", [["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"], ["self_attn.out_proj"], ["fc1"], [
        "fc2",
      ]]],
    ] as const
  ) {
    const { dir } = await writeTinyCheckpoint(tmp, variant, 6);
    const model = await loadModel(dir);
    const seen: string[][] = [];
    const x = await model.embed(new Uint32Array(4), 1, 4);
    const y = await model.runBlock(1, x, 1, 4, { onLinearInput: (g) => void seen.push([...g.names]) });
    assertEquals(seen, names.map((n) => [...n]));
    x.release(), y.release(), model.release();
  }
});

gpuTest(
  "blockLinears are [out, in] (GPT-2 Conv1D transposed on load) and setLinearWeight changes the forward pass",
  async (gpu) => {
    const { dir, config, weights } = await writeTinyCheckpoint(tmp, "gpt2", 7);
    const model = await loadModel(dir);
    const linears = await model.blockLinears(0);
    assertEquals(linears.map((l) => [l.name, ...l.weight.shape]), [
      ["attn.c_attn", 96, 32],
      ["attn.c_proj", 32, 32],
      ["mlp.c_fc", 128, 32],
      ["mlp.c_proj", 32, 128],
    ]);
    const stored = weights.get("transformer.h.0.mlp.c_fc.weight")!; // [32, 128] = [in, out]
    const got = (await linears[2].weight.read()) as Float32Array; // [128, 32]
    assertEquals(got[5 * 32 + 3], stored[3 * 128 + 5]);

    // zero mlp.c_proj of block 1: the model must then match the reference with that weight zeroed
    await model.setLinearWeight(1, "mlp.c_proj", upload(gpu, new Float32Array(32 * 128), [32, 128], "zeroed"));
    const T = 6, ids = randomIds(T, 61, 10);
    const zeroed = new Map(weights);
    zeroed.set("transformer.h.1.mlp.c_proj.weight", new Float32Array(128 * 32));
    const want = ref.referenceLogits(config, zeroed, ids, 1, T);
    const x = await forwardHidden(model, ids, 1, T);
    assertClose(await model.logits(x, [0, 5]), [...want.subarray(0, 61), ...want.subarray(5 * 61, 6 * 61)], LOGITS_TOL);
    x.release();

    // the exported checkpoint holds the new weight in Conv1D layout and the others unchanged
    const tensors = model.checkpointTensors();
    const exported = tensors.get("transformer.h.1.mlp.c_proj.weight")!;
    assertEquals(exported.shape, [128, 32]);
    const data = typeof exported.data === "function" ? await exported.data() : exported.data;
    assertEquals(data, new Float32Array(128 * 32));
    const cFc = tensors.get("transformer.h.0.mlp.c_fc.weight")!;
    assertEquals(typeof cFc.data === "function" ? await cFc.data() : cFc.data, stored);
    model.release();
  },
);

gpuTest("streaming keeps one block on the GPU and preserves replaced weights across evictions", async (gpu) => {
  const { dir, config, weights } = await writeTinyCheckpoint(tmp, "llama-gqa", 8);
  const T = 7, batch = 1, V = config.vocab_size as number;
  const ids = randomIds(T, V, 11);
  const model = await loadModel(dir, { streaming: true });
  assertEquals((model as DecoderModel).residentBlocks, []);
  // prune-like edit of block 0: halve q_proj in place and replace up_proj
  const [q] = await model.blockLinears(0);
  const qHalf = ((await q.weight.read()) as Float32Array).map((v) => v / 2);
  q.weight.write(qHalf);
  const up = weights.get("model.layers.0.mlp.up_proj.weight")!.map((v) => -v);
  await model.setLinearWeight(0, "mlp.up_proj", upload(gpu, up, [48, 32]));
  const edited = new Map(weights);
  edited.set("model.layers.0.self_attn.q_proj.weight", qHalf);
  edited.set("model.layers.0.mlp.up_proj.weight", up);
  const want = referenceNll(ref.referenceLogits(config, edited, ids, batch, T), ids, batch, T, V);
  for (let pass = 0; pass < 2; pass++) { // the second pass reloads block 0 from the CPU copy
    let x = await model.embed(ids, batch, T);
    for (let b = 0; b < model.numBlocks; b++) {
      const next = await model.runBlock(b, x, batch, T);
      assertEquals((model as DecoderModel).residentBlocks, [b]);
      x.release();
      x = next;
    }
    assertClose(await model.nll(x, ids, batch, T), want, NLL_TOL, `pass ${pass}`);
    x.release();
  }
  const exported = model.checkpointTensors().get("model.layers.0.mlp.up_proj.weight")!;
  assertEquals(typeof exported.data === "function" ? await exported.data() : exported.data, up);
  model.release();
});

for (const variant of ["llama-gqa", "opt-post-ln-proj", "gpt2"]) {
  gpuTest(`${variant}: an error thrown inside a block or the LM head frees every tensor the call made`, async (gpu) => {
    const { dir } = await writeTinyCheckpoint(tmp, variant, 12);
    const before = gpu.pool.liveBytes;
    const model = await loadModel(dir);
    const T = 9, ids = randomIds(T, model.config.vocabSize, 5);
    using x = await model.embed(ids, 1, T);
    (await model.runBlock(0, x, 1, T)).release(); // loads block 0 and the family's caches
    const loaded = gpu.pool.liveBytes;
    for (let failAt = 0; failAt < model.linearGroups.length; failAt++) {
      let seen = 0;
      const hooks = {
        onLinearInput() {
          if (seen++ === failAt) throw new Error(`hook ${failAt}`);
        },
      };
      await assertRejects(() => model.runBlock(0, x, 1, T, hooks), Error, `hook ${failAt}`);
      assertEquals(gpu.pool.liveBytes, loaded, `live bytes after a throw in group ${failAt}`);
    }
    x.release();
    await assertRejects(() => model.nll(x, ids, 1, T), Error, "used after release()");
    assertEquals(gpu.pool.liveBytes, loaded - x.byteLength);
    model.release();
    assertEquals(gpu.pool.liveBytes, before, "live bytes after model.release()");
  });
}

for (const variant of ["texture", "register", "tiled"] as const) {
  gpuTest(
    `residual: the product accumulated onto the stream is linear + residualAdd bit for bit (${variant})`,
    async (gpu) => {
      const previous = Deno.env.get(MATMUL_VARIANT_ENV);
      Deno.env.set(MATMUL_VARIANT_ENV, variant);
      try {
        // K 512: the last depth summed in one pass (accumulated onto the stream); 513: two passes (added after)
        for (const K of [64, 256, 512, 513]) {
          const rows = 37, out = 21;
          using skip = upload(gpu, randn(rows * out, K), [rows, out], "stream");
          using x = upload(gpu, randn(rows * K, K + 1), [rows, K], "x");
          using w = upload(gpu, randn(out * K, K + 2), [out, K], "W");
          const layer = { name: "o_proj", weight: w, bias: null };
          using got = await residual(skip, x, layer);
          using want = await linear(x, layer);
          await residualAdd(want, skip);
          assertEquals(await got.read(), await want.read(), `K ${K}`);
        }
      } finally {
        if (previous === undefined) Deno.env.delete(MATMUL_VARIANT_ENV);
        else Deno.env.set(MATMUL_VARIANT_ENV, previous);
      }
    },
  );
}

for (const variant of ["llama-gqa", "opt-post-ln-proj", "gpt2"]) {
  gpuTest(
    `${variant}: observeBlock hands every group the inputs runBlock does, and frees what it made`,
    async (gpu) => {
      const { dir } = await writeTinyCheckpoint(tmp, variant, 14);
      const model = await loadModel(dir);
      const batch = 2, T = 7, ids = randomIds(batch * T, model.config.vocabSize, 6);
      using x = await model.embed(ids, batch, T);
      const inputs = (into: [string, Float32Array][]) => ({
        async onLinearInput(g: LinearGroup, v: MatrixView) {
          const all = await v.tensor.read() as Float32Array, rows = new Float32Array(v.rows * v.cols);
          for (let r = 0; r < v.rows; r++) {
            rows.set(all.subarray(v.offset + r * v.ld, v.offset + r * v.ld + v.cols), r * v.cols);
          }
          into.push([g.input, rows]);
        },
      });
      const full: [string, Float32Array][] = [], observed: [string, Float32Array][] = [];
      (await model.runBlock(1, x, batch, T, inputs(full))).release(); // loads the block and the family's caches
      const loaded = gpu.pool.liveBytes;
      await model.observeBlock(1, x, batch, T, inputs(observed));
      assertEquals(observed, full); // the same groups, in order, with the same inputs bit for bit
      assertEquals(gpu.pool.liveBytes, loaded, "live bytes after observeBlock");
      // an error inside the pass still propagates
      const failing = {
        onLinearInput: () => Promise.reject(new Error("hook failed")),
      };
      await assertRejects(() => model.observeBlock(1, x, batch, T, failing), Error, "hook failed");
      assertEquals(gpu.pool.liveBytes, loaded, "live bytes after a failed observeBlock");
      // and the next full pass runs to its end
      (await model.runBlock(1, x, batch, T)).release();
      model.release();
    },
  );
}

gpuTest("bad input is rejected with messages that name the value and what was expected", async (gpu) => {
  const { dir } = await writeTinyCheckpoint(tmp, "opt-pre-ln", 9);
  const model = await loadModel(dir);
  await assertRejects(
    () => model.embed(new Uint32Array([1, 53]), 1, 2),
    RangeError,
    "embed: token id 53 at index 1 is out of range; expected ids < vocab size 53",
  );
  await assertRejects(
    () => model.embed(new Uint32Array(33), 1, 33),
    RangeError,
    "embed: seqLen 33 exceeds the model's context of 32 positions",
  );
  await assertRejects(
    () => model.embed(new Uint32Array(5), 2, 3),
    RangeError,
    "embed: ids has 5 tokens; expected batch·seqLen = 2·3 = 6",
  );
  const x = await model.embed(new Uint32Array(6), 2, 3);
  await assertRejects(
    () => model.runBlock(2, x, 2, 3),
    RangeError,
    "block index 2 is out of range; expected an integer in [0, 2)",
  );
  await assertRejects(
    () => model.runBlock(0, x, 1, 3),
    RangeError,
    'runBlock: hidden "hidden" is f32 [6, 32]; expected f32 [3, 32]',
  );
  await assertRejects(
    () => model.setLinearWeight(0, "fc1", upload(gpu, new Float32Array(32 * 32), [32, 32], "w")),
    RangeError,
    'setLinearWeight: fc1 of block 0 needs an f32 [64, 32] tensor but "w" is f32 [32, 32]',
  );
  await assertRejects(
    () => model.setLinearWeight(0, "self_attn.o_proj", upload(gpu, new Float32Array(4), [2, 2])),
    RangeError,
    'setLinearWeight: block 0 has no linear layer "self_attn.o_proj"; it has self_attn.q_proj, self_attn.k_proj',
  );
  await assertRejects(
    () => model.logits(x, [6]),
    RangeError,
    "logits: row 6 is out of range; expected an integer in [0, 6)",
  );
  x.release();
  model.release();
  await assertRejects(() => model.embed(new Uint32Array(1), 1, 1), Error, "opt model was used after release()");
});

gpuTest("loadModel reports a missing config.json and an unsupported model_type", async () => {
  const empty = await Deno.makeTempDir({ dir: tmp });
  await assertRejects(() => loadModel(empty), Error, "config.json not found");
  await Deno.writeTextFile(`${empty}/config.json`, JSON.stringify({ model_type: "bert" }));
  await assertRejects(() => loadModel(empty), Error, 'model_type "bert" is not supported; supported: llama, opt, gpt2');
});
