/**
 * Sampling (thanos/decode/sampling.ts) and the stop conditions of `generate`
 * (thanos/decode/generate.ts): option validation with exact messages; greedy ties; top-k and top-p
 * keep exactly the tokens they should (checked over many seeded draws against the truncated
 * distribution); a seed reproduces a generation; eos, stop strings, maxNewTokens and an abort
 * signal end it; one readback per sampled token.
 */

import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { generate } from "../thanos/decode/generate.ts";
import { argmaxOf, resolveSampling, Sampler } from "../thanos/decode/sampling.ts";
import { loadModel } from "../thanos/model/load.ts";
import { gpuTest } from "./util.ts";

Deno.test("resolveSampling rejects out-of-range options with one clear message", () => {
  assertThrows(
    () => resolveSampling({ temperature: -0.1 }),
    RangeError,
    "temperature is -0.1; expected a finite number >= 0",
  );
  assertThrows(() => resolveSampling({ topK: -1 }), RangeError, "top-k is -1; expected an integer >= 0");
  assertThrows(() => resolveSampling({ topP: 0 }), RangeError, "top-p is 0; expected a number in (0, 1]");
  assertThrows(() => resolveSampling({ topP: 1.5 }), RangeError, "top-p is 1.5; expected a number in (0, 1]");
  assertThrows(() => resolveSampling({ seed: 1.5 }), RangeError, "seed is 1.5; expected an integer >= 0");
  assertEquals(resolveSampling({}), { temperature: 0, topK: 0, topP: 1, seed: 0 });
});

Deno.test("greedy picks the lowest id among equal maxima", () => {
  assertEquals(argmaxOf([1, 3, 2, 3]), 1);
  assertEquals(new Sampler().sample(Float32Array.of(0, 5, 5, 1)), 1);
});

/** Empirical frequencies of `n` draws. */
function frequencies(sampler: Sampler, logits: Float32Array, n: number): number[] {
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampler.sample(logits)]++;
  return counts.map((c) => c / n);
}

Deno.test("temperature, top-k and top-p draw from the truncated, renormalised distribution", () => {
  const logits = Float32Array.of(2, 1, 0.5, 3, -1, 3); // ids 3 and 5 tie for the largest
  const n = 20000;
  const probs = (keep: number[], t: number) => {
    const w = keep.map((i) => Math.exp(logits[i] / t));
    const z = w.reduce((a, b) => a + b, 0);
    const p = new Array(logits.length).fill(0);
    keep.forEach((i, j) => (p[i] = w[j] / z));
    return p;
  };
  const cases: [string, ConstructorParameters<typeof Sampler>[0], number[]][] = [
    ["full, T=1", { temperature: 1, seed: 1 }, probs([0, 1, 2, 3, 4, 5], 1)],
    ["T=0.5", { temperature: 0.5, seed: 2 }, probs([0, 1, 2, 3, 4, 5], 0.5)],
    ["top-k 3", { temperature: 1, topK: 3, seed: 3 }, probs([3, 5, 0], 1)], // ties: id 3 before 5
    ["top-k 1", { temperature: 1, topK: 1, seed: 4 }, probs([3], 1)],
    // sorted probabilities at T=1: 3 and 5 hold 0.366 each (0.732 together), then 0 holds 0.135
    ["top-p 0.7", { temperature: 1, topP: 0.7, seed: 5 }, probs([3, 5], 1)],
    ["top-p 0.8", { temperature: 1, topP: 0.8, seed: 6 }, probs([3, 5, 0], 1)],
    ["top-p 0.1", { temperature: 1, topP: 0.1, seed: 7 }, probs([3], 1)],
  ];
  for (const [what, options, expected] of cases) {
    const got = frequencies(new Sampler(options), logits, n);
    for (let i = 0; i < logits.length; i++) {
      if (expected[i] === 0) assertEquals(got[i], 0, `${what}: id ${i} must never be drawn`);
      // 5 standard deviations of a binomial frequency
      else {assert(
          Math.abs(got[i] - expected[i]) < 5 * Math.sqrt(expected[i] * (1 - expected[i]) / n) + 1e-9,
          `${what}: id ${i} drawn ${got[i]}, expected ${expected[i]}`,
        );}
    }
  }
});

Deno.test("the same seed draws the same tokens; another seed differs", () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
  const draw = (seed: number) => {
    const s = new Sampler({ temperature: 1, seed });
    return Array.from({ length: 30 }, () => s.sample(logits));
  };
  assertEquals(draw(11), draw(11));
  assert(draw(11).join() !== draw(12).join(), "different seeds gave the same 30 draws");
});

gpuTest("generate: seeded sampling reproduces; eos, stop strings, maxNewTokens and abort end it", async () => {
  const dir = "models/tiny-opt";
  const model = await loadModel(dir);
  const tokenizer = await loadTokenizer(dir);
  try {
    const prompt = "The state of the Union is";
    const a = await generate(model, tokenizer, prompt, {
      temperature: 0.9,
      topK: 40,
      topP: 0.95,
      seed: 3,
      maxNewTokens: 12,
    });
    const b = await generate(model, tokenizer, prompt, {
      temperature: 0.9,
      topK: 40,
      topP: 0.95,
      seed: 3,
      maxNewTokens: 12,
    });
    assertEquals(a.tokens, b.tokens, "same seed, same tokens");
    assertEquals(a.tokens.length, 12);
    assertEquals(a.readbacksPerToken, 1, "one logits readback per sampled token");
    const greedy = await generate(model, tokenizer, prompt, { maxNewTokens: 8 });
    assertEquals(greedy.text, " the United States, and the United States");
    const eos = await generate(model, tokenizer, prompt, { maxNewTokens: 8, eosTokenIds: [greedy.tokens[2]] });
    assertEquals([eos.tokens, eos.stopReason], [greedy.tokens.slice(0, 3), "eos"]);
    const streamed: string[] = [];
    const stop = await generate(model, tokenizer, prompt, {
      maxNewTokens: 8,
      stop: ["States,"],
      onToken: (_id, text) => void streamed.push(text),
    });
    assertEquals([stop.text, stop.stopReason], [" the United States,", "stop"]);
    assertEquals(streamed.join(""), stop.text, "the streamed pieces add up to the text");
    const controller = new AbortController();
    const aborted = await generate(model, tokenizer, prompt, {
      maxNewTokens: 8,
      signal: controller.signal,
      onToken: (_id, _text) => controller.abort(),
    });
    assertEquals([aborted.tokens.length, aborted.stopReason], [1, "aborted"]);
    await assertRejects(
      () => generate(model, tokenizer, prompt, { maxNewTokens: 250 }),
      RangeError,
      "max-new-tokens is 250; expected at most 249 (the model's context of 256 positions minus the prompt's 7 tokens)",
    );
    await assertRejects(() => generate(model, tokenizer, "", {}), RangeError, "the prompt is empty");
  } finally {
    model.release();
  }
});
