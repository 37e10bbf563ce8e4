/**
 * Throughput of the CPU side of model loading: safetensors reads (F32, F16 and BF16 widened to
 * float32), writes (F32, F16 and BF16 narrowing), and tokenizing the sotu-eval corpus when a
 * fixture tokenizer exists.
 *
 *   deno run -A bench/model_io.ts [elements=16777216]
 */
import { join } from "node:path";
import { openSafetensors, writeSafetensors } from "../thanos/model/safetensors.ts";
import { corpusTokens, loadCorpus } from "../thanos/data/corpus.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";

const n = Number(Deno.args[0] ?? 16 * 1024 * 1024);
const data = new Float32Array(n);
for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 3;
const dir = await Deno.makeTempDir({ prefix: "thanos-bench-" });

function best(times: number[]): number {
  return Math.min(...times);
}

async function time(fn: () => Promise<unknown>, repeats = 3): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return best(times);
}

console.log(`tensor of ${n} elements (${(n * 4 / 2 ** 20).toFixed(0)} MiB as f32)`);
console.log("operation".padEnd(28), "seconds".padStart(8), "Melem/s".padStart(9));
for (const dtype of ["F32", "F16", "BF16"] as const) {
  const path = join(dir, `${dtype}.safetensors`);
  const write = await time(() => writeSafetensors(path, { w: { dtype, shape: [n], data } }));
  const st = await openSafetensors(path);
  const read = await time(() => st.readTensor("w"));
  console.log(`write ${dtype}`.padEnd(28), write.toFixed(3).padStart(8), (n / write / 1e6).toFixed(0).padStart(9));
  console.log(`read ${dtype} → f32`.padEnd(28), read.toFixed(3).padStart(8), (n / read / 1e6).toFixed(0).padStart(9));
}
await Deno.remove(dir, { recursive: true });

const fixture = new URL("../models/tiny-llama/tokenizer.json", import.meta.url).pathname;
try {
  const tokenizer = await loadTokenizer(fixture);
  const corpus = await loadCorpus("sotu-eval");
  const t0 = performance.now();
  const tokens = corpusTokens(corpus, tokenizer);
  const s = (performance.now() - t0) / 1000;
  console.log(`tokenize sotu-eval (${corpus.text.length} chars → ${tokens.length} tokens): ${s.toFixed(2)} s`);
} catch (err) {
  console.log(`tokenizer benchmark skipped: ${(err as Error).message}`);
}
