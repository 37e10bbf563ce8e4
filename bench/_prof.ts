import { Decoder } from "../thanos/decode/decoder.ts";
import { loadModel } from "../thanos/model/load.ts";
const model = await loadModel(Deno.args[0] ?? "models/tiny-llama");
const d = await Decoder.create(model, { maxLength: 100 });
await d.prefill(Uint32Array.of(84, 3215, 1123, 267, 259, 1163, 327));
let tok = await d.argmax();
const gpu = model.gpu;
for (let i = 0; i < 5; i++) { await d.step(tok); tok = await d.argmax(); }
let tRec = 0, tRead = 0;
const N = 20;
for (let i = 0; i < N; i++) {
  const a = performance.now();
  await d.step(tok);
  const b = performance.now();
  tok = await d.argmax();
  const c = performance.now();
  tRec += b - a; tRead += c - b;
}
console.log(`record ${(tRec / N).toFixed(2)} ms, readback (incl. GPU work) ${(tRead / N).toFixed(2)} ms per token`);
// empty readback cost
const t = performance.now();
for (let i = 0; i < 10; i++) await d.argmax();
console.log(`argmax-only readback ${((performance.now() - t) / 10).toFixed(2)} ms`);
// GPU time: sync only
let tg = 0;
for (let i = 0; i < 10; i++) { await d.step(tok); const a = performance.now(); await gpu.sync(); tg += performance.now() - a; tok = await d.argmax(); }
console.log(`sync after step ${(tg / 10).toFixed(2)} ms`);
