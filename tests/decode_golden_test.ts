/**
 * Greedy decoding of the bundled fixture models against the independent PyTorch reference in
 * `models/<name>/golden-generate.json` (tools/fixtures/generation.py: every step a full float32
 * forward of prompt + tokens so far, no cache): the prompt's ids, the 8 greedy tokens and the
 * logits of every step. Tolerance on step logits: 1e-4 absolute (measured up to ~1e-5: f32 noise of
 * two implementations, 7.2e-6 between PyTorch float32 and float64, plus the file's 7 digits).
 */

import { assertEquals } from "./assert.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { Decoder } from "../thanos/decode/decoder.ts";
import { generate } from "../thanos/decode/generate.ts";
import { continuationLogProbs } from "../thanos/decode/score.ts";
import { loadModel } from "../thanos/model/load.ts";
import { assertClose, gpuTest, maxAbsDiff } from "./util.ts";

const TOL = { rtol: 0, atol: 1e-4 };

interface GoldenGenerate {
  prompt: string;
  prompt_ids: number[];
  tokens: number[];
  text: string;
  step_logits: number[][];
}

for (const name of ["tiny-llama", "tiny-opt", "tiny-gpt2"]) {
  gpuTest(`${name}: greedy tokens and every step's logits match the PyTorch reference`, async () => {
    const dir = `models/${name}`;
    const golden = JSON.parse(await Deno.readTextFile(`${dir}/golden-generate.json`)) as GoldenGenerate;
    const tokenizer = await loadTokenizer(dir);
    assertEquals(tokenizer.encode(golden.prompt, { addSpecialTokens: true }), golden.prompt_ids, "prompt ids");
    const model = await loadModel(dir);
    try {
      const steps = golden.tokens.length;
      using decoder = await Decoder.create(model, { maxLength: golden.prompt_ids.length + steps });
      await decoder.prefill(Uint32Array.from(golden.prompt_ids));
      let worst = 0;
      for (let s = 0; s < steps; s++) {
        const logits = await decoder.readLogits();
        worst = Math.max(worst, maxAbsDiff(logits, golden.step_logits[s]));
        assertClose(logits, golden.step_logits[s], TOL, `${name} step ${s} logits`);
        assertEquals(await decoder.argmax(), golden.tokens[s], `${name} step ${s} token`);
        if (s + 1 < steps) await decoder.step(golden.tokens[s]);
      }
      console.log(`${name}: max |Δlogit| vs PyTorch ${worst.toExponential(2)} over ${steps} steps`);
      const out = await generate(model, tokenizer, golden.prompt, { maxNewTokens: steps, eosTokenIds: [] });
      assertEquals(out.tokens, golden.tokens, `${name} generate() tokens`);
      assertEquals(out.text, golden.text, `${name} generate() text`);
      assertEquals(out.promptTokens, golden.prompt_ids);
      assertEquals(out.stopReason, "max_new_tokens");
      assertEquals(out.readbacksPerToken, 1, "one readback per greedy token");
    } finally {
      model.release();
    }
  });
}

gpuTest("continuationLogProbs equals the log-softmax of the golden step logits", async () => {
  const golden = JSON.parse(await Deno.readTextFile("models/tiny-llama/golden-generate.json")) as GoldenGenerate;
  const model = await loadModel("models/tiny-llama");
  try {
    const got = await continuationLogProbs(model, golden.prompt_ids, golden.tokens);
    const want = golden.tokens.map((t, s) => {
      const row = golden.step_logits[s];
      const m = Math.max(...row);
      return row[t] - m - Math.log(row.reduce((acc, v) => acc + Math.exp(v - m), 0));
    });
    assertClose(got, want, { rtol: 0, atol: 1e-4 }, "log p of the greedy continuation");
  } finally {
    model.release();
  }
});
