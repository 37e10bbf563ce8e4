/**
 * KV-cache decoding (thanos/decode/decoder.ts) against full recomputation with the batched forward
 * pass, on tiny random-weight checkpoints of every family variant (GQA, rope_scaling llama3 and
 * linear, OPT pre-/post-LN with project_in/out, GPT-2 tied and untied) and the bundled fixtures.
 *
 * At every step the decoder's logits of the newest position must equal the last row of
 * `logits(forward(prompt + tokens so far))` within 1e-4 (absolute; both f32, summed in different
 * orders). The KV cache is forced into chunks of 5 positions (far less than one storage binding),
 * so prompts and decoding cross several chunks; the largest difference is printed.
 */

import { assertEquals, assertRejects } from "./assert.ts";
import { Decoder } from "../thanos/decode/decoder.ts";
import { forwardHidden, loadModel } from "../thanos/model/load.ts";
import type { CausalLM } from "../thanos/model/forward.ts";
import { TINY_CONFIGS, writeTinyCheckpoint } from "./tiny_models.ts";
import { assertClose, gpuTest, maxAbsDiff, randomIds } from "./util.ts";

const TOL = { rtol: 0, atol: 1e-4 };

const tmp = await Deno.makeTempDir({ prefix: "thanos-decode-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

async function recomputed(model: CausalLM, ids: number[]): Promise<Float32Array> {
  const x = await forwardHidden(model, Uint32Array.from(ids), 1, ids.length);
  try {
    return await model.logits(x, [ids.length - 1]);
  } finally {
    x.release();
  }
}

/** Prefill `prompt`, then feed `steps` tokens (greedy), comparing every step with recomputation. */
async function checkAgainstRecompute(
  name: string,
  model: CausalLM,
  prompt: number[],
  steps: number,
  maxChunkBytes?: number,
): Promise<number> {
  using decoder = await Decoder.create(model, { maxLength: prompt.length + steps, maxChunkBytes });
  await decoder.prefill(Uint32Array.from(prompt));
  const seq = [...prompt];
  let worst = 0;
  for (let s = 0;; s++) {
    const got = await decoder.readLogits();
    const want = await recomputed(model, seq);
    worst = Math.max(worst, maxAbsDiff(got, want));
    assertClose(got, want, TOL, `${name} step ${s} (length ${seq.length})`);
    const next = await decoder.argmax();
    let best = 0;
    for (let i = 1; i < got.length; i++) if (got[i] > got[best]) best = i;
    assertEquals(next, best, `${name} step ${s}: GPU argmax`);
    if (s === steps) break;
    seq.push(next);
    await decoder.step(next);
  }
  return worst;
}

for (const variant of Object.keys(TINY_CONFIGS)) {
  gpuTest(
    `${variant}: KV-cache decode logits equal full recomputation at every step (cache in chunks of 5)`,
    async () => {
      const { dir, config } = await writeTinyCheckpoint(tmp, variant, 7);
      const model = await loadModel(dir);
      try {
        const V = config.vocab_size as number;
        const kvWidth = ((config.num_key_value_heads ?? config.num_attention_heads ?? config.n_head) as number) *
          ((config.hidden_size ?? config.n_embd) as number) / ((config.num_attention_heads ?? config.n_head) as number);
        const prompt = [...randomIds(7, V, 3)];
        const worst = await checkAgainstRecompute(variant, model, prompt, 9, 5 * kvWidth * 4);
        console.log(`${variant}: max |Δlogit| ${worst.toExponential(2)} over 10 steps`);
      } finally {
        model.release();
      }
    },
  );
}

for (const name of ["tiny-llama", "tiny-opt", "tiny-gpt2"]) {
  gpuTest(`${name}: KV-cache decode equals recomputation, one-token prompt and unchunked cache`, async () => {
    const model = await loadModel(`models/${name}`);
    try {
      const worst = await checkAgainstRecompute(name, model, [84], 6);
      console.log(`${name}: max |Δlogit| ${worst.toExponential(2)} over 7 steps`);
    } finally {
      model.release();
    }
  });
}

gpuTest("Decoder rejects a bad maxLength, a step before prefill, a full cache and a bad token", async () => {
  const model = await loadModel("models/tiny-gpt2");
  try {
    await assertRejects(
      () => Decoder.create(model, { maxLength: 0 }),
      RangeError,
      "maxLength is 0; expected an integer in [1, 256]",
    );
    await assertRejects(() => Decoder.create(model, { maxLength: 257 }), RangeError, "maxLength is 257");
    using d = await Decoder.create(model, { maxLength: 3 });
    await assertRejects(() => d.step(1), Error, "prefill a prompt first");
    await assertRejects(
      () => d.prefill(Uint32Array.of(1, 2, 3, 4)),
      RangeError,
      "the prompt has 4 tokens; expected 1 to 3",
    );
    await d.prefill(Uint32Array.of(1, 2));
    await assertRejects(() => d.step(4096), RangeError, "token 4096 is out of range");
    await assertRejects(() => d.stepOnArgmax(), Error, "Decoder.stepOnArgmax: call startArgmax() first");
    await d.step(5);
    await assertRejects(() => d.step(5), RangeError, "the cache is full (3 positions");
  } finally {
    model.release();
  }
});
