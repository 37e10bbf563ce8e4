/**
 * Golden tests: the fixture models (models/tiny-{llama,opt,gpt2}) against golden.json, computed by
 * an independent Python/PyTorch re-implementation of the Hugging Face forward pass
 * (tools/fixtures/families.py) from the saved weights.
 *
 * Checked per family:
 * - the tokenizer reproduces golden.token_ids for golden.text;
 * - logits at golden.positions: |Δ| ≤ LOGITS_ATOL (float32 on both sides; golden.json states the
 *   float32-vs-float64 noise of its own forward, which is the scale of the expected difference);
 * - NLL of the first 4 windows of 256 tokens of sotu-eval: each window's mean and the overall mean
 *   within NLL_RTOL relative.
 * The largest differences are printed. A fixture that does not exist yet is skipped (ignored).
 */

import { assertEquals } from "./assert.ts";
import { evalWindows } from "../thanos/data/calibration.ts";
import { corpusTokens, loadCorpus } from "../thanos/data/corpus.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { forwardHidden, forwardNll, loadModel } from "../thanos/model/load.ts";
import { assertClose, maxAbsDiff } from "./util.ts";

/**
 * Logits: absolute tolerance. Logits are O(10); both sides compute in float32 with different
 * accumulation orders. Measured on llvmpipe: max |Δ| 7.6e-6 (tiny-llama), 3.3e-6 (tiny-opt), 2.9e-6 (tiny-gpt2), about
 * the float32-vs-float64 noise golden.json reports for its own forward; 1e-4 leaves room for GPUs
 * whose exp/rsqrt are less exact.
 */
const LOGITS_ATOL = 1e-4;
/** Mean NLL per window and overall: relative tolerance (measured: ≤ 2.8e-8 relative overall, ≤ 2.6e-7 absolute per window). */
const NLL_RTOL = 1e-5;

interface Golden {
  model: string;
  text: string;
  token_ids: number[];
  positions: number[];
  logits: number[][];
  nll: number;
  nll_per_window: number[];
  nll_definition: { window: number; windows: number };
  float64: { max_abs_logit_diff: number; max_abs_nll_diff: number };
}

const root = new URL("../models/", import.meta.url).pathname;

for (const name of ["tiny-llama", "tiny-opt", "tiny-gpt2"]) {
  const dir = root + name;
  let golden: Golden | null = null;
  try {
    golden = JSON.parse(await Deno.readTextFile(`${dir}/golden.json`));
  } catch {
    golden = null;
  }
  Deno.test({
    name: `golden ${name}: logits at the golden positions and the sotu-eval NLL match the PyTorch reference`,
    ignore: golden === null,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const g = golden!;
      const tokenizer = await loadTokenizer(dir);
      assertEquals(tokenizer.encode(g.text), g.token_ids, "tokenizer vs golden token_ids");
      const model = await loadModel(dir);
      try {
        // logits of the golden text (one window, positions 0..T-1)
        const ids = Uint32Array.from(g.token_ids), T = ids.length;
        const x = await forwardHidden(model, ids, 1, T);
        const logits = await model.logits(x, g.positions);
        x.release();
        const want = g.logits.flat();
        const logitDiff = maxAbsDiff(logits, want);

        // NLL of the first windows of sotu-eval
        const { window, windows: count } = g.nll_definition;
        const tokens = corpusTokens(await loadCorpus("sotu-eval"), tokenizer);
        const windows = evalWindows(tokens, window, count);
        const nll = await forwardNll(model, windows.tokens, windows.count, window);
        const perWindow = Array.from({ length: count }, (_, w) => {
          let s = 0;
          for (let i = 0; i < window - 1; i++) s += nll[w * (window - 1) + i];
          return s / (window - 1);
        });
        const mean = perWindow.reduce((a, b) => a + b, 0) / count;
        console.log(
          `  ${name}: max |Δlogit| ${logitDiff.toExponential(2)} (golden f32-vs-f64 noise ` +
            `${g.float64.max_abs_logit_diff.toExponential(2)}), NLL ${mean.toFixed(6)} vs ${g.nll.toFixed(6)} ` +
            `(rel ${(Math.abs(mean - g.nll) / g.nll).toExponential(2)}), max |Δ window NLL| ` +
            `${maxAbsDiff(perWindow, g.nll_per_window).toExponential(2)}`,
        );
        assertClose(logits, want, { rtol: 0, atol: LOGITS_ATOL }, `${name} logits`);
        assertClose(perWindow, g.nll_per_window, { rtol: NLL_RTOL, atol: 0 }, `${name} NLL per window`);
        assertClose([mean], [g.nll], { rtol: NLL_RTOL, atol: 0 }, `${name} NLL`);
      } finally {
        model.release();
      }
    },
  });
}
