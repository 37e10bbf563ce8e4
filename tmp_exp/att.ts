import { getGpu } from "../thanos/gpu/device.ts";
import { upload, empty } from "../thanos/gpu/tensor.ts";
import { causalAttention } from "../thanos/model/ops.ts";
import { mat } from "../thanos/linalg/view.ts";
const gpu = await getGpu();
const [batch, seqLen, heads, kvHeads, hd] = (Deno.args[0] ?? "16,256,8,4,32").split(",").map(Number);
const rows = batch * seqLen;
const r = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
const q = upload(gpu, r(rows * heads * hd), [rows, heads * hd]);
const k = upload(gpu, r(rows * kvHeads * hd), [rows, kvHeads * hd]);
const v = upload(gpu, r(rows * kvHeads * hd), [rows, kvHeads * hd]);
const outs: Record<string, Float32Array> = {};
for (let round = 0; round < 3; round++) {
  for (const variant of ["storage", "texture"] as const) {
    const out = empty(gpu, [rows, heads * hd]);
    await gpu.sync();
    const t = performance.now();
    await causalAttention(mat(q), mat(k), mat(v), out, { batch, seqLen, heads, kvHeads, headDim: hd, scale: hd ** -0.5 }, variant);
    await gpu.sync();
    console.log(variant, ((performance.now() - t)).toFixed(1), "ms");
    outs[variant] = await out.read() as Float32Array;
    out.release();
  }
}
let same = 0;
for (let i = 0; i < outs.storage.length; i++) if (outs.storage[i] === outs.texture[i]) same++;
console.log("bitwise equal", same, "/", outs.storage.length);
