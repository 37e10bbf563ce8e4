/**
 * The decode-step kernels (thanos/decode/ops.ts) against tests/reference/decode.ts on odd shapes:
 * matvec (offsets, bias, accumulate; rows/cols from ODD_SIZES), kvAppend (rotation of q and k, v
 * copy, GQA), decode attention over a cache in several chunks (scores, softmax, weighted values),
 * argmax with ties. Tolerances: matvec atol 1e-4 + rtol 1e-5 (f32 sums of up to 1000 products of
 * O(1) values), attention 1e-5, kvAppend 1e-6 (one rotation), argmax exact.
 */

import { assertEquals, assertRejects } from "./assert.ts";
import { readAll, upload, zeros } from "../thanos/gpu/mod.ts";
import {
  argmax,
  decodeAttend,
  decodeAttention,
  decodeScores,
  decodeSoftmax,
  kvAppend,
  matvec,
} from "../thanos/decode/ops.ts";
import * as ref from "./reference/decode.ts";
import { assertClose, gpuTest, ODD_SIZES, randn } from "./util.ts";

gpuTest("matvec equals the reference on odd shapes, with offsets, bias and accumulate", async (gpu) => {
  for (const rows of ODD_SIZES) {
    for (const cols of [1, 3, 130, 1000]) {
      const w = randn(rows * cols + 5, rows + cols),
        x = randn(cols + 3, cols),
        b = randn(rows, 7),
        y0 = randn(rows + 2, 9);
      using xT = upload(gpu, x, [x.length], "x");
      using bT = upload(gpu, b, [rows], "b");
      using yPlain = zeros(gpu, [rows], "f32", "y");
      using yAcc = upload(gpu, y0, [y0.length], "y0");
      const W2 = upload(gpu, w.subarray(5), [rows, cols], "w2");
      await matvec(W2, xT, yPlain, { xOffset: 3 });
      await matvec(W2, xT, yAcc, { xOffset: 3, bias: bT, accumulate: true, yOffset: 2 });
      const [plain, acc] = await readAll(yPlain, yAcc);
      W2.release();
      const xs = x.subarray(3);
      const tol = { rtol: 1e-5, atol: 1e-4 };
      assertClose(plain, ref.matvec(w.subarray(5), rows, cols, xs), tol, `matvec ${rows}x${cols}`);
      assertClose(
        acc.subarray(2),
        ref.matvec(w.subarray(5), rows, cols, xs, b, y0.subarray(2)),
        tol,
        `matvec+b+acc ${rows}x${cols}`,
      );
      assertEquals([...acc.subarray(0, 2)], [...y0.subarray(0, 2)], "matvec wrote outside its window");
    }
  }
});

gpuTest(
  "matvec's vec4 kernel (cols and offsets multiples of 4) equals the reference on odd row counts",
  async (gpu) => {
    // rows not a multiple of the kernel's 4 rows an invocation; small and large workgroups (rows >= 2048)
    for (const [rows, cols] of [[1, 4], [3, 8], [7, 132], [13, 1000], [2049, 12]]) {
      const w = randn((rows + 1) * cols, rows + cols),
        x = randn(4 + cols, cols),
        b = randn(rows, 5),
        y0 = randn(rows + 1, 6);
      using wT = upload(gpu, w, [w.length], "w");
      using xT = upload(gpu, x, [x.length], "x");
      using bT = upload(gpu, b, [rows], "b");
      using yPlain = zeros(gpu, [rows], "f32", "y");
      using yAcc = upload(gpu, y0, [y0.length], "y0");
      const W = wT.reshape([rows + 1, cols]); // rows 1.. are the weight (wOffset = one row)
      await matvec(W, xT, yPlain, { wOffset: cols, xOffset: 4, rows });
      await matvec(W, xT, yAcc, { wOffset: cols, xOffset: 4, rows, bias: bT, accumulate: true, yOffset: 1 });
      const [plain, acc] = await readAll(yPlain, yAcc);
      const ws = w.subarray(cols), xs = x.subarray(4), tol = { rtol: 1e-5, atol: 1e-4 };
      assertClose(plain, ref.matvec(ws, rows, cols, xs), tol, `matvec_vec4 ${rows}x${cols}`);
      assertClose(acc.subarray(1), ref.matvec(ws, rows, cols, xs, b, y0.subarray(1)), tol, `+b+acc ${rows}x${cols}`);
      assertEquals(acc[0], y0[0], "matvec_vec4 wrote outside its window");
    }
  },
);

gpuTest("matvec with wOffset and rows reads a window of rows", async (gpu) => {
  const rows = 7, cols = 13;
  const w = randn(20 * cols, 1), x = randn(cols, 2);
  using wT = upload(gpu, w, [20, cols], "w");
  using xT = upload(gpu, x, [cols], "x");
  using y = zeros(gpu, [rows], "f32", "y");
  await matvec(wT, xT, y, { wOffset: 5 * cols, rows });
  assertClose(await y.read(), ref.matvec(w.subarray(5 * cols), rows, cols, x), { rtol: 1e-5, atol: 1e-5 }, "window");
  await assertRejects(
    () => matvec(wT, xT, y, { wOffset: 15 * cols, rows: 7 }),
    RangeError,
    `matvec: w needs elements [195, 286) but "w" has only 260`,
  );
});

gpuTest("kvAppend rotates q and k (GQA), copies v, and writes only its cache row", async (gpu) => {
  for (const [heads, kvHeads, hd] of [[6, 2, 10], [3, 3, 2], [4, 1, 34]]) {
    const qW = heads * hd, kvW = kvHeads * hd, positions = 9, pos = 7, rows = 5, row = 3;
    const qkv = randn(4 + qW + 2 * kvW, heads + hd);
    const cos = randn(positions * hd / 2, 3), sin = randn(positions * hd / 2, 4);
    using qkvT = upload(gpu, qkv, [qkv.length], "qkv");
    using k = upload(gpu, new Float32Array(rows * kvW).fill(-7), [rows, kvW], "k");
    using v = upload(gpu, new Float32Array(rows * kvW).fill(-8), [rows, kvW], "v");
    using c = upload(gpu, cos, [positions, hd / 2], "cos");
    using s = upload(gpu, sin, [positions, hd / 2], "sin");
    const layout = { heads, kvHeads, headDim: hd, pos, row, qOffset: 4, kOffset: 4 + qW, vOffset: 4 + qW + kvW };
    await kvAppend(qkvT, k, v, { ...layout, rope: { cos: c, sin: s } });
    const [q2, k2, v2] = await readAll(qkvT, k, v);
    const ct = cos.subarray(pos * hd / 2, (pos + 1) * hd / 2), st = sin.subarray(pos * hd / 2, (pos + 1) * hd / 2);
    const tol = { rtol: 1e-6, atol: 1e-6 };
    for (let h = 0; h < heads; h++) {
      const at = 4 + h * hd;
      assertClose(q2.subarray(at, at + hd), ref.rotateHalf(qkv.subarray(at, at + hd), ct, st), tol, `q head ${h}`);
    }
    for (let h = 0; h < kvHeads; h++) {
      const at = 4 + qW + h * hd;
      assertClose(
        k2.subarray(row * kvW + h * hd, row * kvW + (h + 1) * hd),
        ref.rotateHalf(qkv.subarray(at, at + hd), ct, st),
        tol,
        `k head ${h}`,
      );
    }
    assertEquals([...v2.subarray(row * kvW, (row + 1) * kvW)], [...qkv.subarray(4 + qW + kvW, 4 + qW + 2 * kvW)]);
    assertEquals(k2.filter((_, i) => Math.floor(i / kvW) !== row).every((x) => x === -7), true, "k rows untouched");
    assertEquals(v2.filter((_, i) => Math.floor(i / kvW) !== row).every((x) => x === -8), true, "v rows untouched");
    assertEquals([...q2.subarray(0, 4)], [...qkv.subarray(0, 4)], "before q untouched");
    // without rope: q untouched, k copied
    using k3 = zeros(gpu, [rows, kvW], "f32", "k3");
    using v3 = zeros(gpu, [rows, kvW], "f32", "v3");
    qkvT.write(qkv);
    await kvAppend(qkvT, k3, v3, { ...layout, rope: null });
    const [q3, k3v] = await readAll(qkvT, k3);
    assertEquals([...q3], [...qkv]);
    assertEquals([...k3v.subarray(row * kvW, (row + 1) * kvW)], [...qkv.subarray(4 + qW, 4 + qW + kvW)]);
  }
});

/**
 * Decode attention's outputs against the reference: `probs` in rows of `ldS` (query at q[2..]),
 * `got` the heads' outputs after one sentinel 5 that must stay.
 */
function assertDecodeAttention(
  probs: Float32Array,
  got: Float32Array,
  c: {
    q: Float32Array;
    K: Float32Array;
    V: Float32Array;
    len: number;
    heads: number;
    kvHeads: number;
    hd: number;
    ldS: number;
  },
): void {
  const { q, K, V, len, heads, kvHeads, hd, ldS } = c;
  const want = ref.decodeAttention(q.subarray(2), K, V, len, heads, kvHeads, hd, hd ** -0.5);
  const p = new Float32Array(heads * len);
  for (let h = 0; h < heads; h++) p.set(probs.subarray(h * ldS, h * ldS + len), h * len);
  assertClose(p, want.probs, { rtol: 1e-5, atol: 1e-6 }, `probs ${heads}/${kvHeads}x${hd} len ${len}`);
  assertClose(got.subarray(1), want.out, { rtol: 1e-5, atol: 1e-5 }, `out ${heads}/${kvHeads}x${hd} len ${len}`);
  assertEquals(got[0], 5, "out before outOffset untouched");
}
gpuTest("decode attention over a chunked cache equals the reference (GQA, odd lengths)", async (gpu) => {
  for (
    const [heads, kvHeads, hd, len, chunk] of [[6, 2, 10, 1, 4], [6, 3, 7, 13, 4], [4, 4, 33, 129, 50], [
      8,
      1,
      64,
      300,
      300,
    ]]
  ) {
    const kvW = kvHeads * hd, ldS = len + 3;
    const q = randn(2 + heads * hd, len), K = randn(len * kvW, hd), V = randn(len * kvW, heads);
    using qT = upload(gpu, q, [q.length], "q");
    using scores = zeros(gpu, [heads, ldS], "f32", "scores");
    using out = upload(gpu, new Float32Array(heads * hd + 1).fill(5), [heads * hd + 1], "out");
    const chunks = [];
    for (let lo = 0; lo < len; lo += chunk) {
      const n = Math.min(chunk, len - lo);
      chunks.push({
        lo,
        n,
        k: upload(gpu, K.slice(lo * kvW, (lo + n) * kvW), [n, kvW], "k"),
        v: upload(gpu, V.slice(lo * kvW, (lo + n) * kvW), [n, kvW], "v"),
      });
    }
    const shape = { heads, kvHeads, headDim: hd };
    for (const c of chunks) await decodeScores(qT, 2, { tensor: c.k, lo: c.lo, n: c.n }, scores, shape, hd ** -0.5);
    await decodeSoftmax(scores, len);
    for (const [i, c] of chunks.entries()) {
      await decodeAttend(scores, { tensor: c.v, lo: c.lo, n: c.n }, out, 1, shape, i > 0);
    }
    const [probs, got] = await readAll(scores, out);
    for (const c of chunks) c.k.release(), c.v.release();
    assertDecodeAttention(probs, got, { q, K, V, len, heads, kvHeads, hd, ldS });
  }
});

gpuTest(
  "decodeAttention (scores, softmax and values fused) equals the reference (GQA, odd lengths, headDim past WG)",
  async (gpu) => {
    for (const [heads, kvHeads, hd, len] of [[6, 2, 10, 1], [6, 3, 7, 13], [4, 4, 65, 129], [8, 1, 64, 300]]) {
      const kvW = kvHeads * hd, ldS = len + 3;
      const q = randn(2 + heads * hd, len), K = randn((len + 2) * kvW, hd), V = randn((len + 2) * kvW, heads);
      using qT = upload(gpu, q, [q.length], "q");
      using scores = zeros(gpu, [heads, ldS], "f32", "scores");
      using out = upload(gpu, new Float32Array(heads * hd + 1).fill(5), [heads * hd + 1], "out");
      using k = upload(gpu, K, [len + 2, kvW], "k"); // two positions past n: never read
      using v = upload(gpu, V, [len + 2, kvW], "v");
      const shape = { heads, kvHeads, headDim: hd };
      await decodeAttention(
        qT,
        2,
        { tensor: k, lo: 0, n: len },
        { tensor: v, lo: 0, n: len },
        scores,
        out,
        1,
        shape,
        hd ** -0.5,
      );
      const [probs, got] = await readAll(scores, out);
      assertDecodeAttention(probs, got, { q, K, V, len, heads, kvHeads, hd, ldS });
    }
    using t = zeros(gpu, [40], "f32", "t");
    using s = zeros(gpu, [1, 8], "f32", "s");
    await assertRejects(
      () =>
        decodeAttention(
          t,
          0,
          { tensor: t.reshape([5, 8]), lo: 4, n: 1 },
          { tensor: t.reshape([5, 8]), lo: 4, n: 1 },
          s,
          s,
          0,
          { heads: 1, kvHeads: 1, headDim: 8 },
          1,
        ),
      RangeError,
      "decodeAttention: keys cover positions 4..4 and values 4..4; expected both 0..n−1 with n ≥ 1 (one chunk)",
    );
  },
);

gpuTest("argmax finds the first maximum (ties to the lowest index) on odd lengths", async (gpu) => {
  using result = zeros(gpu, [1], "u32", "argmax");
  for (const n of [...ODD_SIZES, 4096, 32001]) {
    const x = randn(n, n);
    for (const [i, offset] of [[0, 0], [1, 3]] as const) {
      if (i === 1 && n > 2) {
        const m = Math.max(...x);
        x[n - 1] = m, x[Math.floor(n / 2)] = m; // a tie: the lower index wins
      }
      const padded = new Float32Array(offset + n);
      padded.set(x, offset);
      using xT = upload(gpu, padded, [padded.length], "x");
      await argmax(xT, result, n, offset);
      assertEquals((await result.read())[0], ref.argmax(x), `argmax n ${n} offset ${offset}`);
    }
  }
  using allEqual = upload(gpu, new Float32Array(300).fill(2), [300], "equal");
  await argmax(allEqual, result);
  assertEquals((await result.read())[0], 0);
});
