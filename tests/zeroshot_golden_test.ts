/**
 * Zero-shot scoring against an independent PyTorch reference (tools/fixtures/zeroshot.py, written
 * from lm-evaluation-harness v0.4.7's source): for each fixture family, on hand-written documents
 * that exercise every rule (a context ending in a space, choices with a leading space, multi-byte
 * characters, HellaSwag "[title]" markers, WinoGrande's "_", left truncation of a 780-token
 * context to the 256-token window, continuations the model predicts greedily), the requests'
 * strings and tokens are identical, every per-choice log-likelihood is within 1e-4 relative
 * (float32 on the GPU vs float64 in the reference), every is-greedy flag and every document's
 * acc / acc_norm is identical. Batch size must not change the results: batches of 1, 3 and 16
 * give the same numbers (checked on tiny-gpt2, the fastest family; the others run batches of 16).
 */

import { assertEquals } from "./assert.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { loadModel } from "../thanos/model/load.ts";
import { evaluateZeroShot, type PreparedTask, prepareTask } from "../thanos/zeroshot/evaluate.ts";
import { getTask } from "../thanos/zeroshot/tasks.ts";
import { assertClose, gpuTest } from "./util.ts";

interface Golden {
  model: string;
  max_length: number;
  docs: Record<string, Record<string, unknown>[]>;
  requests: {
    task: string;
    doc: number;
    context: string;
    continuation: string;
    context_tokens: number[];
    continuation_tokens: number[];
    loglikelihood: number;
    is_greedy: boolean;
  }[];
  metrics: Record<string, { acc: number; acc_norm?: number }[]>;
}

for (const name of ["tiny-llama", "tiny-opt", "tiny-gpt2"]) {
  gpuTest(`zero-shot log-likelihoods of ${name} equal the PyTorch lm-eval reference`, async (gpu) => {
    const golden: Golden = JSON.parse(await Deno.readTextFile(`tests/fixtures/zeroshot/${name}.json`));
    const dir = `models/${name}`;
    const tokenizer = await loadTokenizer(dir);
    const model = await loadModel(dir, { gpu });
    try {
      assertEquals(model.config.maxPositions, golden.max_length, "max_length");
      const prepared: PreparedTask[] = Object.entries(golden.docs).map(([task, docs]) =>
        prepareTask(getTask(task), docs, tokenizer, { maxLength: golden.max_length })
      );
      // the requests, as strings and as tokens
      const strings = prepared.flatMap((p) => p.requests.flatMap((r) => r.arguments));
      assertEquals(strings, golden.requests.map((r) => [r.context, r.continuation]), "request strings");
      const tokens = prepared.flatMap((p) => p.encoded.flat());
      assertEquals(
        tokens,
        golden.requests.map((r) => ({ context: r.context_tokens, continuation: r.continuation_tokens })),
        "request tokens",
      );
      let first: number[] | null = null;
      for (const batchSize of name === "tiny-gpt2" ? [16, 1, 3] : [16]) {
        const result = await evaluateZeroShot(model, prepared, { batchSize });
        const responses = result.tasks.flatMap((t) => t.samples.flatMap((s) => s.responses));
        const lls = responses.map((r) => r.logprob);
        assertClose(lls, golden.requests.map((r) => r.loglikelihood), { rtol: 1e-4, atol: 0 }, `${name} lls`);
        assertEquals(responses.map((r) => r.isGreedy), golden.requests.map((r) => r.is_greedy), "is_greedy");
        for (const t of result.tasks) {
          assertEquals(t.samples.map((s) => s.metrics), golden.metrics[t.name], `${t.name} metrics`);
        }
        if (first === null) first = lls;
        else assertEquals(lls, first, `batch size ${batchSize} changes the log-likelihoods`);
      }
    } finally {
      model.release();
    }
  });
}
