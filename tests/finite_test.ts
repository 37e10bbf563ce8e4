/**
 * NaN/Inf checks: shaders/first_nonfinite.wgsl against tests/reference/finite.ts on odd sizes, the
 * weight checks of loadModel (every checkpoint tensor, named with its first bad index in the
 * checkpoint's own layout), and the activation checks at block boundaries.
 */
import { type Gpu, upload, zeros } from "../thanos/gpu/mod.ts";
import {
  checkFinite,
  decodeFirstNonFinite,
  firstNonFinite,
  NonFiniteError,
  recordFirstNonFinite,
} from "../thanos/linalg/finite.ts";
import { forwardNll, loadModel } from "../thanos/model/load.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { editedCheckpoint, withTempDir } from "./cli_util.ts";
import * as ref from "./reference/finite.ts";
import { gpuTest, randn, rng } from "./util.ts";

const BAD = [NaN, Infinity, -Infinity];

gpuTest("first_nonfinite finds the first NaN/±Inf like the reference, on odd sizes (exact)", async (gpu: Gpu) => {
  const u = rng(7);
  for (const n of [1, 2, 7, 255, 257, 1031, 65537, 300007]) {
    const cases: [string, Float32Array][] = [["finite", randn(n, n)]];
    for (let k = 0; k < 3; k++) {
      const x = randn(n, n + k);
      const marks = 1 + Math.floor(u() * 3); // one to three bad values, anywhere
      for (let m = 0; m < marks; m++) x[Math.floor(u() * n)] = BAD[(k + m) % 3];
      cases.push([`bad ${k}`, x]);
    }
    const last = randn(n, 1);
    last[n - 1] = NaN;
    cases.push(["last", last]);
    const big = randn(n, 2).map((v) => v * 3e38); // huge but finite: no false alarm
    cases.push(["huge", big]);
    for (const [what, x] of cases) {
      using t = upload(gpu, x, [n], what);
      assertEquals(await firstNonFinite(t), ref.firstNonFinite(x), `n = ${n}, ${what}`);
    }
  }
});

gpuTest("several tensors record into one flags tensor and are read back once", async (gpu: Gpu) => {
  const a = randn(33, 1), b = randn(1000, 2), c = randn(5, 3);
  b[999] = -Infinity;
  b[400] = NaN;
  c[0] = Infinity;
  using flags = zeros(gpu, [4], "u32");
  const tensors = [a, b, c].map((x, i) => upload(gpu, x, [x.length], `t${i}`));
  for (const [i, t] of tensors.entries()) await recordFirstNonFinite(t, flags, i);
  await recordFirstNonFinite(tensors[1], flags, 1); // recording twice keeps the minimum
  const got = [...await flags.read()].map(decodeFirstNonFinite);
  assertEquals(got, [-1, 400, 0, -1]);
  const err = await assertRejects(
    () => checkFinite(gpu, tensors.map((tensor, i) => ({ name: `t${i}`, tensor })), "here"),
    NonFiniteError,
  );
  assertEquals(err.message, "here: tensor t1 holds NaN at [400]; expected finite values");
  for (const t of tensors) t.release();
});

const IDS = Uint32Array.from({ length: 2 * 16 }, (_, i) => (i * 37) % 500);

gpuTest("loadModel names a NaN/Inf weight and its first bad index before any forward pass", async () => {
  await withTempDir(async (tmp) => {
    const cases: [string, (d: Float32Array) => void, string][] = [
      // resident weights: checked by loadModel itself
      ["transformer.ln_f.weight", (d) => (d[17] = NaN), "transformer.ln_f.weight holds NaN at [17]"],
      ["transformer.wte.weight", (d) => (d[128 * 9 + 3] = Infinity), "transformer.wte.weight holds Infinity at [9, 3]"],
      // block weights: checked when the block loads, before it runs; a Conv1D [in, out] index as stored
      [
        "transformer.h.1.mlp.c_fc.weight",
        (d) => (d[512 * 3 + 5] = -Infinity),
        "transformer.h.1.mlp.c_fc.weight holds -Infinity at [3, 5]",
      ],
      ["transformer.h.0.ln_1.bias", (d) => (d[0] = NaN), "transformer.h.0.ln_1.bias holds NaN at [0]"],
    ];
    for (const [i, [name, edit, message]] of cases.entries()) {
      const dir = `${tmp}/m${i}`;
      await editedCheckpoint("models/tiny-gpt2", dir, name, edit);
      const err = await assertRejects(async () => {
        const model = await loadModel(dir);
        try {
          await forwardNll(model, IDS, 2, 16);
        } finally {
          model.release();
        }
      }, NonFiniteError);
      assertEquals(err.message, `${dir}: tensor ${message}; expected finite values`);
    }
  });
});

gpuTest(
  "tiny-llama: the checks its kernels record as they write (attention, SwiGLU, residual add) name the layer",
  async () => {
    await withTempDir(async (tmp) => {
      const cases: [string, string][] = [
        ["model.layers.1.self_attn.q_proj.weight", "the input of self_attn.o_proj (attn_out)"], //  attention's check
        ["model.layers.1.mlp.gate_proj.weight", "the input of mlp.down_proj (mlp_hidden)"], //      SwiGLU's, unpadded
        ["model.layers.1.mlp.down_proj.weight", "its output"], //                                 the residual add's
      ];
      for (const [i, [name, what]] of cases.entries()) {
        const dir = `${tmp}/huge${i}`;
        await editedCheckpoint("models/tiny-llama", dir, name, (d) => d.fill(3e38)); // finite, but products overflow
        const model = await loadModel(dir);
        try {
          const err = await assertRejects(() => forwardNll(model, IDS, 2, 16), NonFiniteError);
          assert(err.message.startsWith(`activations became non-finite in block 1: ${what}`), err.message);
          const feature = Number(/feature (\d+)$/.exec(err.message)?.[1]);
          const width = what.includes("mlp_hidden") ? 688 : 256; // the unpadded layout (SwiGLU's rows are 704 long)
          assert(feature < width, err.message);
        } finally {
          model.release();
        }
      }
    });
  },
);

gpuTest("activations that overflow name the block and the layer that read them", async () => {
  await withTempDir(async (tmp) => {
    // finite weights so large that block 1's MLP hidden activations overflow float32
    const dir = `${tmp}/huge`;
    await editedCheckpoint("models/tiny-gpt2", dir, "transformer.h.1.mlp.c_fc.weight", (d) => d.fill(3e38));
    const model = await loadModel(dir);
    try {
      const err = await assertRejects(() => forwardNll(model, IDS, 2, 16), NonFiniteError);
      assert(
        err.message.startsWith("activations became non-finite in block 1: the input of mlp.c_proj (mlp_hidden)"),
        err.message,
      );
      assert(/at window [01], position \d+, feature \d+$/.test(err.message), err.message);
      // the checks were cleared: a clean model afterwards does not inherit them
      await model.checkActivations();
    } finally {
      model.release();
    }
    const clean = await loadModel("models/tiny-gpt2");
    try {
      const nll = await forwardNll(clean, IDS, 2, 16);
      assert(nll.every(Number.isFinite));
      await clean.checkActivations();
    } finally {
      clean.release();
    }
  });
});
