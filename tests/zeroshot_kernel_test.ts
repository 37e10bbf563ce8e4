/**
 * shaders/token_logprob.wgsl (through `tokenLogprobUpdate`) against tests/reference/zeroshot.ts on
 * odd shapes, in one chunk and in several, with ties for the argmax. Tolerance: 2e-5 absolute plus
 * 1e-5 relative on log-probabilities (f32 log-sum-exp over up to 4099 values of magnitude ~10);
 * greedy flags exactly.
 */

import { assertEquals } from "./assert.ts";
import { empty, launch, upload } from "../thanos/gpu/mod.ts";
import { mat } from "../thanos/linalg/view.ts";
import { tokenLogprobUpdate } from "../thanos/model/token_logprob.ts";
import * as ref from "./reference/zeroshot.ts";
import { assertClose, gpuTest, inVocabChunks, randn, randomIds } from "./util.ts";

function split(scores: ArrayLike<number>): { lp: number[]; greedy: number[] } {
  const lp = [], greedy = [];
  for (let i = 0; i < scores.length; i += 2) lp.push(scores[i]), greedy.push(scores[i + 1]);
  return { lp, greedy };
}

/** Logits with planted ties and targets that are often the argmax, so both flag values occur. */
function plant(rows: number, vocab: number, seed: number): { logits: Float32Array; targets: Uint32Array } {
  const logits = randn(rows * vocab, seed).map((v) => Math.round(v * 8) / 2); // coarse values: ties happen
  const targets = randomIds(rows, vocab, seed + 1);
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    const max = Math.max(...row);
    if (r % 3 === 0) row[targets[r]] = max + 1; // a unique argmax at the target
    if (r % 3 === 1 && vocab > 1) { // a tie at the max: the target is the later one → not greedy
      const t = targets[r], other = t === 0 ? vocab - 1 : t - 1;
      row[t] = row[other] = max + 1;
    }
  }
  return { logits, targets };
}

for (const vocab of [1, 7, 129, 1000, 4099]) {
  gpuTest(`tokenLogprobUpdate matches the reference over vocab ${vocab} (one chunk and chunks of 100)`, async (gpu) => {
    const rows = 13;
    const { logits, targets } = plant(rows, vocab, vocab);
    const want = split(ref.tokenLogprobs(logits, rows, vocab, targets));
    if (vocab > 7) assertEquals(new Set(want.greedy).size, 2, "the planted rows give both flag values");
    using targetsT = upload(gpu, targets);
    using state = empty(gpu, [rows, 4]);
    using out = empty(gpu, [rows, 2]);
    using lt = upload(gpu, logits, [rows, vocab]);
    await tokenLogprobUpdate(mat(lt), targetsT, state, out, { lo: 0, first: true, last: true });
    let got = split((await out.read()) as Float32Array);
    assertClose(got.lp, want.lp, { rtol: 1e-5, atol: 2e-5 }, "log p, one chunk");
    assertEquals(got.greedy, want.greedy, "greedy, one chunk");
    await inVocabChunks(
      gpu,
      logits,
      { rows, vocab, width: 100 },
      (chunk, at) => tokenLogprobUpdate(chunk, targetsT, state, out, at),
    );
    got = split((await out.read()) as Float32Array);
    assertClose(got.lp, want.lp, { rtol: 1e-5, atol: 2e-5 }, "log p, chunks of 100");
    assertEquals(got.greedy, want.greedy, "greedy, chunks of 100");
  });
}

gpuTest("token_logprob reduces correctly at every workgroup size (ties resolved to the first id)", async (gpu) => {
  const rows = 5, vocab = 1000;
  const { logits, targets } = plant(rows, vocab, 77);
  const want = split(ref.tokenLogprobs(logits, rows, vocab, targets));
  using lt = upload(gpu, logits, [rows, vocab]);
  using tT = upload(gpu, targets);
  for (const WG of [1, 16, 128, 256]) {
    using state = empty(gpu, [rows, 4]);
    using scores = empty(gpu, [rows, 2]);
    await launch(gpu, "token_logprob", { logits: lt, targets: tT, state, out: scores }, {
      grid: [rows],
      params: { rows, cols: vocab, lo: 0, offset: 0, ld: vocab, first: 1, last: 1 },
      constants: { WG },
    });
    const got = split((await scores.read()) as Float32Array);
    assertClose(got.lp, want.lp, { rtol: 1e-5, atol: 2e-5 }, `log p WG ${WG}`);
    assertEquals(got.greedy, want.greedy, `greedy WG ${WG}`);
  }
});
