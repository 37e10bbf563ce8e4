/**
 * Forward-pass kernels (thanos/model/ops.ts, rope.ts) against the float64 reference in
 * tests/reference/forward.ts, on odd shapes. Tolerances are stated per kernel; every failure
 * message reports the largest difference.
 */

import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { empty, launch, upload, zeros } from "../thanos/gpu/mod.ts";
import { mat, paddedWidth, sub } from "../thanos/linalg/view.ts";
import { matmulRowStack, matmulVariant } from "../thanos/linalg/matmul.ts";
import {
  activation,
  attentionKeyRanges,
  attentionTextureKernel,
  type AttentionVariant,
  attentionVariant,
  biasAdd,
  causalAttention,
  gatedActivation,
  gatedActivationRows,
  gatedProductRows,
  gatherRows,
  layerNorm,
  nllUpdate,
  residualAdd,
  rmsNorm,
  rope,
  type RowChunks,
} from "../thanos/model/ops.ts";
import { ropeInverseFrequencies, ropeTables, ropeTablesOnGpu } from "../thanos/model/rope.ts";
import type { Gpu } from "../thanos/gpu/device.ts";
import * as ref from "./reference/forward.ts";
import { assertClose, gpuTest, inVocabChunks, ODD_SIZES, randn, randomIds } from "./util.ts";

/** Splits a [rows, cols] table into chunks of `per` rows on the GPU. */
function chunked(
  gpu: Parameters<typeof upload>[0],
  data: Float32Array,
  rows: number,
  cols: number,
  per: number,
): RowChunks {
  const chunks = [];
  for (let lo = 0; lo < rows; lo += per) {
    const n = Math.min(per, rows - lo);
    chunks.push({ lo, tensor: upload(gpu, data.slice(lo * cols, (lo + n) * cols), [n, cols], `table[${lo}:]`) });
  }
  return { rows, cols, chunks };
}

// ---------------------------------------------------------------------------------------------
// embedding gather: exact (a copy)

for (const d of ODD_SIZES) {
  gpuTest(`gatherRows copies table rows exactly (d=${d}, one chunk and chunks of 7 rows)`, async (gpu) => {
    const vocab = 29, n = 13;
    const table = randn(vocab * d, d), ids = randomIds(n, vocab, d);
    const want = ref.gatherRows(ids, table, d);
    const idsT = upload(gpu, ids);
    const out = empty(gpu, [n, d]);
    await gatherRows(idsT, upload(gpu, table, [vocab, d]), out);
    assertClose(await out.read(), want, { rtol: 0, atol: 0 }, "one chunk");
    const out2 = empty(gpu, [n, d]);
    await gatherRows(idsT, chunked(gpu, table, vocab, d, 7), out2);
    assertClose(await out2.read(), want, { rtol: 0, atol: 0 }, "chunks of 7");
  });
}

gpuTest("gatherRows with accumulate adds learned positions (offset 2, as OPT)", async (gpu) => {
  const T = 5, batch = 3, d = 129, vocab = 11, n = batch * T;
  const tok = randn(vocab * d, 1), pos = randn((T + 2) * d, 2);
  const ids = randomIds(n, vocab, 3);
  const positions = Uint32Array.from({ length: n }, (_, r) => (r % T) + 2);
  const out = empty(gpu, [n, d]);
  await gatherRows(upload(gpu, ids), upload(gpu, tok, [vocab, d]), out);
  await gatherRows(upload(gpu, positions), upload(gpu, pos, [T + 2, d]), out, { accumulate: true });
  const want = ref.gatherRows(ids, tok, d).map((v, i) => v + ref.gatherRows(positions, pos, d)[i]);
  assertClose(await out.read(), want, { rtol: 1e-7, atol: 0 });
});

gpuTest("gatherRows rejects mismatched shapes and non-u32 ids", async (gpu) => {
  const table = upload(gpu, new Float32Array(12), [4, 3], "table");
  await assertRejects(
    () => gatherRows(upload(gpu, new Uint32Array(2)), table, empty(gpu, [2, 4], "f32", "out")),
    RangeError,
    'gatherRows: out "out" is 2x4; expected 2x3',
  );
  await assertRejects(
    () => gatherRows(upload(gpu, new Int32Array(2), [2], "ids"), table, empty(gpu, [2, 3])),
    TypeError,
    'gatherRows: ids "ids" is i32; expected u32',
  );
});

// ---------------------------------------------------------------------------------------------
// norms: f32 reductions, rtol 1e-5 / atol 1e-5 relative to O(1) outputs

for (const cols of ODD_SIZES) {
  for (const rows of [1, 7, 129]) {
    gpuTest(`rmsNorm and layerNorm match the reference (${rows}x${cols})`, async (gpu) => {
      const x = randn(rows * cols, rows * 31 + cols);
      for (let i = 0; i < x.length; i++) x[i] = x[i] * 3 + 0.5; // a mean and a scale to normalise away
      const w = randn(cols, 7), b = randn(cols, 8);
      const xT = upload(gpu, x, [rows, cols]);
      const r = await rmsNorm(xT, upload(gpu, w), 1e-5);
      assertClose(await r.read(), ref.rmsNorm(x, rows, cols, w, 1e-5), { rtol: 1e-5, atol: 1e-5 }, "rmsNorm");
      const l = await layerNorm(xT, upload(gpu, w), upload(gpu, b), 1e-5);
      // cols = 1: x − mean is exactly 0, so y = b
      assertClose(await l.read(), ref.layerNorm(x, rows, cols, w, b, 1e-5), { rtol: 1e-5, atol: 1e-5 }, "layerNorm");
    });
  }
}

gpuTest(
  "the row-reduction shaders reduce correctly at every workgroup size (16 on llvmpipe, 128 on GPUs)",
  async (gpu) => {
    const rows = 5, cols = 1000;
    const x = randn(rows * cols, 41), w = randn(cols, 42), b = randn(cols, 43);
    const targets = randomIds(rows, cols, 44);
    const xT = upload(gpu, x, [rows, cols]), wT = upload(gpu, w), bT = upload(gpu, b), tT = upload(gpu, targets);
    for (const WG of [1, 16, 128, 256]) {
      const y = empty(gpu, [rows, cols]),
        z = empty(gpu, [rows, cols]),
        state = empty(gpu, [rows, 3]),
        nll = empty(gpu, [rows]);
      using flags = zeros(gpu, [1], "u32"); // the output check's flags (CHECK is off)
      await launch(gpu, "rms_norm", { x: xT, w: wT, y, flags }, {
        grid: [rows],
        params: { rows, cols, eps: 1e-5, slot: 0 },
        constants: { WG },
      });
      await launch(gpu, "layer_norm", { x: xT, w: wT, b: bT, y: z }, {
        grid: [rows],
        params: { rows, cols, eps: 1e-5 },
        constants: { WG },
      });
      await launch(gpu, "nll", { logits: xT, targets: tT, state, out: nll }, {
        grid: [rows],
        params: { rows, cols, lo: 0, offset: 0, ld: cols, first: 1, last: 1 },
        constants: { WG },
      });
      assertClose(await y.read(), ref.rmsNorm(x, rows, cols, w, 1e-5), { rtol: 1e-5, atol: 1e-5 }, `rms_norm WG ${WG}`);
      assertClose(
        await z.read(),
        ref.layerNorm(x, rows, cols, w, b, 1e-5),
        { rtol: 1e-5, atol: 1e-5 },
        `layer_norm WG ${WG}`,
      );
      assertClose(await nll.read(), ref.nll(x, rows, cols, targets), { rtol: 1e-5, atol: 2e-5 }, `nll WG ${WG}`);
    }
  },
);

gpuTest("layerNorm keeps its precision on rows with a large mean (two-pass variance)", async (gpu) => {
  const rows = 3, cols = 1000;
  const x = randn(rows * cols, 5).map((v) => 1000 + v);
  const w = new Float32Array(cols).fill(1), b = new Float32Array(cols);
  const l = await layerNorm(upload(gpu, x, [rows, cols]), upload(gpu, w), upload(gpu, b), 1e-5);
  assertClose(await l.read(), ref.layerNorm(x, rows, cols, w, b, 1e-5), { rtol: 0, atol: 2e-3 });
});

gpuTest("norms reject shape mismatches and bad eps", async (gpu) => {
  const x = upload(gpu, new Float32Array(6), [2, 3], "x");
  await assertRejects(
    () => rmsNorm(x, upload(gpu, new Float32Array(4), [4], "w"), 1e-5),
    RangeError,
    'rmsNorm: weight "w" has 4 elements; expected 3',
  );
  await assertRejects(
    () => layerNorm(x, upload(gpu, new Float32Array(3)), upload(gpu, new Float32Array(3)), NaN),
    RangeError,
    "layerNorm: eps is NaN; expected a finite number >= 0",
  );
  await assertRejects(
    () => rmsNorm(x, upload(gpu, new Float32Array(3)), 1e-5, x),
    RangeError,
    'rmsNorm: out aliases x (both live in the buffer of "x"); expected out in a separate tensor',
  );
});

// ---------------------------------------------------------------------------------------------
// bias add, residual add, activations

for (const cols of ODD_SIZES) {
  gpuTest(`biasAdd and residualAdd match the reference (7x${cols})`, async (gpu) => {
    const rows = 7, x = randn(rows * cols, cols), b = randn(cols, 2), y = randn(rows * cols, 3);
    const xT = upload(gpu, x, [rows, cols]);
    await biasAdd(xT, upload(gpu, b));
    const withBias = ref.biasAdd(x, rows, cols, b);
    assertClose(await xT.read(), withBias, { rtol: 1e-7, atol: 0 }, "biasAdd");
    await residualAdd(xT, upload(gpu, y, [rows, cols]));
    assertClose(await xT.read(), withBias.map((v, i) => v + y[i]), { rtol: 1e-6, atol: 1e-7 }, "residualAdd");
  });
}

gpuTest("biasAdd and residualAdd reject mismatched shapes", async (gpu) => {
  const x = upload(gpu, new Float32Array(6), [2, 3], "x");
  await assertRejects(
    () => biasAdd(x, upload(gpu, new Float32Array(2), [2], "b")),
    RangeError,
    'biasAdd: bias "b" has 2 elements; expected 3',
  );
  await assertRejects(
    () => residualAdd(x, upload(gpu, new Float32Array(5), [5], "y")),
    RangeError,
    'residualAdd: x "x" has shape [2,3] but y "y" has [5]; expected the same size',
  );
});

const ACTIVATIONS = ["relu", "gelu_new", "gelu", "silu"] as const;
for (const kind of ACTIVATIONS) {
  gpuTest(`activation and gatedActivation "${kind}" match the reference (n=1000, |x| up to 40)`, async (gpu) => {
    const n = 1000;
    const x = randn(n, 11).map((v, i) => (i < 20 ? (i - 10) * 4 : v * 3)); // includes ±40: saturation
    const up = randn(n, 12);
    const fn = ref.ACTIVATION_FNS[kind];
    const xT = upload(gpu, x);
    await activation(xT, kind);
    // gelu (erf) uses a 1.5e-7-accurate erf; the others are exact formulas in f32
    assertClose(await xT.read(), Array.from(x, fn), { rtol: 2e-6, atol: 2e-6 }, kind);
    const g = upload(gpu, x);
    await gatedActivation(g, upload(gpu, up), kind);
    assertClose(await g.read(), Array.from(x, (v, i) => fn(v) * up[i]), { rtol: 2e-6, atol: 2e-6 }, `gated ${kind}`);
  });
}

gpuTest(
  "gatedActivationRows: windows of one gate/up tensor into a padded output, gatedActivation's values bit for bit",
  async (gpu) => {
    const rows = 7, f = 129, ld = paddedWidth(f); // 192: a padded row length
    assertEquals([paddedWidth(688), paddedWidth(64), paddedWidth(1)], [704, 64, 64]);
    for (const kind of ACTIVATIONS) {
      const gu = randn(rows * 2 * f, 31).map((v) => v * 4); // [rows, 2f]: gate | up
      using guT = upload(gpu, gu, [rows, 2 * f], "gate|up");
      using out = await gatedActivationRows(sub(mat(guT), 0, 0, rows, f), sub(mat(guT), 0, f, rows, f), kind, ld);
      assertEquals(out.shape, [rows, ld]);
      // the same values through gatedActivation on contiguous copies
      const gate = new Float32Array(rows * f), up = new Float32Array(rows * f);
      for (let r = 0; r < rows; r++) {
        gate.set(gu.subarray(r * 2 * f, r * 2 * f + f), r * f);
        up.set(gu.subarray(r * 2 * f + f, (r + 1) * 2 * f), r * f);
      }
      using g = upload(gpu, gate, [rows, f]);
      await gatedActivation(g, upload(gpu, up, [rows, f]), kind);
      const want = await g.read() as Float32Array, got = await out.read() as Float32Array;
      const fn = ref.ACTIVATION_FNS[kind];
      // |gate| up to ~16 here: gelu's 1.5e-7-accurate erf times 0.5·|gate|·|up| reaches a few 1e-6
      assertClose(want, Array.from(gate, (v, i) => fn(v) * up[i]), { rtol: 2e-6, atol: 1e-5 }, `reference ${kind}`);
      for (let r = 0; r < rows; r++) {
        assertEquals(got.subarray(r * ld, r * ld + f), want.subarray(r * f, (r + 1) * f), `${kind} row ${r}`);
        assertEquals(got.subarray(r * ld + f, (r + 1) * ld), new Float32Array(ld - f), `${kind} padding of row ${r}`);
      }
    }
  },
);

gpuTest(
  "gatedProductRows (the gate/up product's epilogue): the product then gatedActivationRows bit for bit, " +
    "one to three k-slices, odd rows and widths, its NaN/Inf check; null where the texture product cannot take it",
  async (gpu) => {
    const { decodeFirstNonFinite } = await import("../thanos/linalg/finite.ts");
    const texture = matmulVariant(gpu) === "texture" && gpu.info.readsStorageTextures;
    // [rows, f, K, ld]: K a multiple of 64 (the weights' rows copied into a texture), 1 to 3 slices of 512
    const cases = [[37, 45, 64, paddedWidth(45)], [19, 129, 576, 132], [5, 7, 1088, 8]] as const;
    for (const [n, [rows, f, K, ld]] of cases.entries()) {
      for (const kind of n === 0 ? ACTIVATIONS : (["silu"] as const)) {
        const xs = randn(rows * K, 60 + n), wg = randn(f * K, 70 + n).map((v) => v / 8), wu = randn(f * K, 80 + n);
        if (kind === "silu") xs[2 * K + 5] = Infinity; // row 2's outputs are not finite: the first at 2·f
        using x = upload(gpu, xs, [rows, K]), g = upload(gpu, wg, [f, K]), u = upload(gpu, wu, [f, K]);
        using flags = zeros(gpu, [2], "u32");
        const fused = await gatedProductRows(mat(x), g, u, kind, ld, { flags, slot: 0 });
        if (!texture) {
          assertEquals(fused, null);
          continue;
        }
        using out = fused!;
        using gu = empty(gpu, [rows, 2 * f]);
        await matmulRowStack(mat(x), [g, u], mat(gu));
        using want = await gatedActivationRows(
          sub(mat(gu), 0, 0, rows, f),
          sub(mat(gu), 0, f, rows, f),
          kind,
          ld,
          { flags, slot: 1 },
        );
        const what = `${kind} ${rows}x${f} K=${K} ld=${ld}`;
        assertEquals(out.shape, [rows, ld]);
        assertEquals(await out.read(), await want.read(), what);
        const [got, expected] = Array.from(await flags.read(), decodeFirstNonFinite);
        assertEquals(got, expected, `${what}: first non-finite output`);
        assertEquals(got, kind === "silu" ? 2 * f : -1, what);
        // and the float64 reference on the finite rows
        const fn = ref.ACTIVATION_FNS[kind];
        const gRef = ref.linear(xs, rows, wg, f, K), uRef = ref.linear(xs, rows, wu, f, K);
        const all = await out.read() as Float32Array;
        const gotRows = [], wantRows = [];
        for (let r = 0; r < rows; r++) {
          if (kind === "silu" && r === 2) continue;
          for (let c = 0; c < f; c++) {
            gotRows.push(all[r * ld + c]);
            wantRows.push(fn(gRef[r * f + c]) * uRef[r * f + c]);
          }
        }
        assertClose(gotRows, wantRows, { rtol: 1e-4, atol: 1e-4 }, `${what} against the reference`);
      }
    }
    // where the fused product does not apply: the caller runs the product and gatedActivationRows
    using x = upload(gpu, randn(3 * 64, 1), [3, 64]), w = upload(gpu, randn(5 * 64, 2), [5, 64]);
    using x6 = upload(gpu, randn(3 * 60, 1), [3, 60]), w6 = upload(gpu, randn(5 * 60, 2), [5, 60]);
    assertEquals(await gatedProductRows(mat(x), w, w, "silu", 6), null); // ld not a multiple of 4
    assertEquals(await gatedProductRows(mat(x6), w6, w6, "silu", 8), null); // rows not copyable (60 floats)
    await assertRejects(() => gatedProductRows(mat(x), w, w, "swish" as never, 8), RangeError, "swish");
  },
);

gpuTest(
  "gatedActivationRows, rmsNorm and residualAdd record the first non-finite output in the unpadded layout",
  async (gpu) => {
    const { decodeFirstNonFinite } = await import("../thanos/linalg/finite.ts");
    const rows = 5, f = 9;
    using flags = zeros(gpu, [4], "u32", "flags");
    const gate = randn(rows * f, 41), up = randn(rows * f, 42);
    gate[3 * f + 7] = NaN; //                                  first bad output at row 3, column 7
    up[4 * f + 2] = Infinity;
    using g = upload(gpu, gate, [rows, f]), u = upload(gpu, up, [rows, f]);
    using _out = await gatedActivationRows(mat(g), mat(u), "silu", 64, { flags, slot: 1 });
    // finite inputs: nothing recorded
    using ok = upload(gpu, randn(rows * f, 47), [rows, f]);
    using _fine = await gatedActivationRows(mat(ok), mat(ok), "relu", 64, { flags, slot: 0 });
    using x = upload(gpu, randn(rows * f, 43).map((v, i) => (i === 2 * f + 4 ? NaN : v)), [rows, f]);
    using w = upload(gpu, randn(f, 44), [f]);
    await rmsNorm(x, w, 1e-5, undefined, { flags, slot: 2 }); // row 2 is all NaN after the norm: first at 2·f
    using y = upload(gpu, randn(rows * f, 45).map((v, i) => (i === 11 ? -Infinity : v)), [rows, f]);
    await residualAdd(y, upload(gpu, randn(rows * f, 46), [rows, f]), { flags, slot: 3 });
    const decoded = Array.from(await flags.read(), decodeFirstNonFinite);
    assertEquals(decoded, [-1, 3 * f + 7, 2 * f, 11]);
  },
);

gpuTest("gatedActivation rejects unknown activations and mismatched sizes", async (gpu) => {
  const a = upload(gpu, new Float32Array(4)), b = upload(gpu, new Float32Array(3));
  await assertRejects(
    () => gatedActivation(a, b, "silu"),
    RangeError,
    "gatedActivation: gate has shape [4] but up has [3]",
  );
  await assertRejects(
    () => activation(a, "swish" as never),
    RangeError,
    'activation: activation "swish" is not supported; supported: relu, gelu_new, gelu, silu',
  );
});

// ---------------------------------------------------------------------------------------------
// rotary embedding

gpuTest("ropeInverseFrequencies: default and linear match the float64 reference to f32 rounding", () => {
  for (const hd of [2, 32, 128]) {
    const inv = ropeInverseFrequencies(hd, { theta: 10000, scaling: null });
    assertClose(inv, ref.ropeInverseFrequencies(hd, 10000, null), { rtol: 2e-7, atol: 0 }, `default hd=${hd}`);
    const lin = ropeInverseFrequencies(hd, { theta: 500000, scaling: { type: "linear", factor: 4 } });
    assertClose(
      lin,
      ref.ropeInverseFrequencies(hd, 500000, { type: "linear", factor: 4 }),
      { rtol: 2e-7, atol: 0 },
      "linear",
    );
  }
  return Promise.resolve();
});

gpuTest("ropeInverseFrequencies: llama3 scaling (Llama-3.2-1B settings) matches HF's formula", () => {
  const scaling = {
    factor: 32,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  };
  const inv = ropeInverseFrequencies(64, {
    theta: 500000,
    scaling: { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
  });
  const want = ref.ropeInverseFrequencies(64, 500000, scaling);
  assertClose(inv, want, { rtol: 1e-6, atol: 0 });
  // all three bands occur: kept (high frequency), blended, divided by 32 (low frequency)
  const plain = ref.ropeInverseFrequencies(64, 500000, null);
  const kept = want.filter((f, i) => f === plain[i]).length;
  const divided = want.filter((f, i) => Math.abs(f - plain[i] / 32) < 1e-12 * plain[i]).length;
  assertEquals(kept > 0 && divided > 0 && kept + divided < 32, true);
  // HF float32 values for Llama-3.2-1B (head_dim 64): inv_freq[0] = 1, inv_freq[31] = 500000^(-62/64) / 32
  assertEquals(inv[0], 1);
  assertClose([inv[31]], [Math.fround(1 / 500000 ** (62 / 64) / 32)], { rtol: 1e-6, atol: 0 });
  return Promise.resolve();
});

gpuTest("ropeInverseFrequencies rejects an odd head dimension", () => {
  assertThrows(
    () => ropeInverseFrequencies(7, { theta: 10000, scaling: null }),
    RangeError,
    "headDim is 7; expected an even integer",
  );
  return Promise.resolve();
});

for (const [seqLen, batch, heads, hd] of [[1, 1, 1, 2], [7, 3, 5, 6], [129, 2, 3, 64], [513, 1, 2, 18]]) {
  gpuTest(`rope matches the reference (T=${seqLen}, batch ${batch}, ${heads} heads of ${hd})`, async (gpu) => {
    const rows = seqLen * batch, width = heads * hd;
    const x = randn(rows * width, seqLen + hd);
    const inv = ropeInverseFrequencies(hd, { theta: 10000, scaling: null });
    const { cos, sin } = ropeTablesOnGpu(gpu, inv, seqLen);
    const xT = upload(gpu, x, [rows, width]);
    await rope(mat(xT), cos, sin, { seqLen, heads, headDim: hd });
    // angles up to 512 rad are rounded to f32 (as HF does): |Δangle| ≤ 3e-5
    assertClose(await xT.read(), ref.rope(x, rows, seqLen, heads, hd, inv), { rtol: 1e-5, atol: 1e-4 });
  });
}

gpuTest("rope works in place on a window of a fused projection (ld > width)", async (gpu) => {
  const seqLen = 7, batch = 2, heads = 3, hd = 4, rows = seqLen * batch, width = heads * hd;
  const fused = randn(rows * 3 * width, 9); // [rows, q | k | v]
  const inv = ropeInverseFrequencies(hd, { theta: 10000, scaling: null });
  const { cos, sin } = ropeTablesOnGpu(gpu, inv, seqLen);
  const t = upload(gpu, fused, [rows, 3 * width]);
  await rope(sub(mat(t), 0, width, rows, width), cos, sin, { seqLen, heads, headDim: hd }); // rotate k only
  const got = await t.read();
  const k = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) k[r * width + c] = fused[r * 3 * width + width + c];
  const want = Float64Array.from(fused);
  const kRot = ref.rope(k, rows, seqLen, heads, hd, inv);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) want[r * 3 * width + width + c] = kRot[r * width + c];
  assertClose(got, want, { rtol: 1e-5, atol: 1e-5 });
});

gpuTest(
  "the vec4 forms of rmsNorm, rope and residualAdd give their scalar kernels' bits and first non-finite index",
  async (gpu) => {
    const { decodeFirstNonFinite } = await import("../thanos/linalg/finite.ts");
    const scalar = { WG: 16, CHECK: 1 };
    // rmsNorm on 5 rows of 36: a NaN at (3, 6), the third float of a vec4, and every later output of row 3
    const rows = 5, cols = 36;
    using x = upload(gpu, randn(rows * cols, 90).map((v, i) => i === 3 * cols + 6 ? NaN : v), [rows, cols]);
    using w = upload(gpu, randn(cols, 91), [cols]);
    using flags = zeros(gpu, [2], "u32");
    using y = await rmsNorm(x, w, 1e-5, undefined, { flags, slot: 0 });
    using y1 = empty(gpu, [rows, cols]);
    await launch(gpu, "rms_norm", { x, w, y: y1, flags }, {
      grid: [rows, 1, 1],
      params: { rows, cols, eps: 1e-5, slot: 1 },
      constants: scalar,
    });
    assertEquals(await y.read(), await y1.read(), "rmsNorm");
    assertEquals(Array.from(await flags.read(), decodeFirstNonFinite), [3 * cols, 3 * cols], "rmsNorm's check");
    // residualAdd: an Inf at float 4·k + 2
    using f2 = zeros(gpu, [2], "u32");
    const a = randn(rows * cols, 92), b = randn(rows * cols, 93).map((v, i) => i === 22 ? Infinity : v);
    using xa = upload(gpu, a, [rows, cols]), xb = upload(gpu, a, [rows, cols]), yb = upload(gpu, b, [rows, cols]);
    await residualAdd(xa, yb, { flags: f2, slot: 0 });
    await launch(gpu, "residual_add", { y: yb, x: xb, flags: f2 }, {
      grid: [Math.ceil(rows * cols / 16), 1, 1],
      params: { n: rows * cols, slot: 1 },
      constants: scalar,
    });
    assertEquals(await xa.read(), await xb.read(), "residualAdd");
    assertEquals(Array.from(await f2.read(), decodeFirstNonFinite), [22, 22], "residualAdd's check");
    // rope on the k window of a fused [q | k | v] (offset and ld multiples of 4), heads of 8 and 32
    for (const hd of [8, 32]) {
      const seqLen = 7, heads = 3, width = heads * hd, n = 2 * seqLen;
      const inv = ropeInverseFrequencies(hd, { theta: 10000, scaling: null });
      const { cos, sin } = ropeTablesOnGpu(gpu, inv, seqLen);
      const fused = randn(n * 3 * width, hd);
      using t1 = upload(gpu, fused, [n, 3 * width]), t2 = upload(gpu, fused, [n, 3 * width]);
      await rope(sub(mat(t1), 0, width, n, width), cos, sin, { seqLen, heads, headDim: hd });
      await launch(gpu, "rope", { cosTable: cos, sinTable: sin, x: t2 }, {
        grid: [Math.ceil(n * heads * hd / 2 / 16), 1, 1],
        params: { rows: n, seqLen, heads, headDim: hd, offset: width, ld: 3 * width },
        constants: { WG: 16 },
      });
      assertEquals(await t1.read(), await t2.read(), `rope, heads of ${hd}`);
      cos.release();
      sin.release();
    }
  },
);

gpuTest("ropeTables rounds angles to f32 like HF and rejects bad lengths", () => {
  const { cos, sin } = ropeTables(new Float32Array([1, 0.01]), 3);
  assertEquals(cos.length, 6);
  assertClose(cos, [
    1,
    1,
    Math.cos(1),
    Math.cos(Math.fround(0.01)),
    Math.cos(2),
    Math.cos(Math.fround(2 * Math.fround(0.01))),
  ], {
    rtol: 1e-7,
    atol: 0,
  });
  assertClose(sin, [0, 0, Math.sin(1), Math.sin(Math.fround(0.01)), Math.sin(2), Math.sin(Math.fround(0.02))], {
    rtol: 1e-6,
    atol: 0,
  });
  assertThrows(() => ropeTables(new Float32Array(2), 0), RangeError, "ropeTables: seqLen is 0");
  return Promise.resolve();
});

gpuTest("rope rejects a view that is not heads·headDim wide", async (gpu) => {
  const { cos, sin } = ropeTablesOnGpu(gpu, new Float32Array(2), 3);
  await assertRejects(
    () => rope(mat(upload(gpu, new Float32Array(30), [3, 10], "q")), cos, sin, { seqLen: 3, heads: 2, headDim: 4 }),
    RangeError,
    "expected (batch·3)x8 (2 heads of 4)",
  );
});

// ---------------------------------------------------------------------------------------------
// causal attention: f32 dot products and online softmax vs float64; rtol 1e-4, atol 1e-5

const ATTENTION_CASES: [number, number, number, number, number][] = [
  // [batch, seqLen, heads, kvHeads, headDim]
  [1, 1, 1, 1, 1],
  [3, 7, 4, 2, 5], // GQA, odd head dim
  [2, 129, 6, 1, 16], // multi-query
  [1, 257, 2, 2, 64], // plain MHA across several workgroups of queries
  [2, 37, 4, 2, 32], // heads of 32: the texture variant's specialised kernel (attention_texture_hd32)
  [1, 65, 1, 1, 256], // the largest head dimension
];
for (const [batch, seqLen, heads, kvHeads, hd] of ATTENTION_CASES) {
  // the texture kernel needs a head dimension that is a multiple of 4 (attentionVariant)
  for (const variant of hd % 4 === 0 ? ["storage", "texture"] as const : ["storage"] as const) {
    gpuTest(
      `causalAttention matches the reference (batch ${batch}, T=${seqLen}, ${heads}/${kvHeads} heads of ${hd}, ${variant})`,
      async (gpu) => {
        const rows = batch * seqLen;
        const q = randn(rows * heads * hd, seqLen * 3 + 1).map((v) => v * 2); // sharp softmax: max-subtraction matters
        const k = randn(rows * kvHeads * hd, seqLen * 3 + 2).map((v) => v * 2);
        const v = randn(rows * kvHeads * hd, seqLen * 3 + 3);
        const out = empty(gpu, [rows, heads * hd]);
        const scale = 1 / Math.sqrt(hd);
        const shape = { batch, seqLen, heads, kvHeads, headDim: hd, scale };
        assertEquals(attentionVariant(gpu, shape, variant), variant);
        await causalAttention(
          mat(upload(gpu, q, [rows, heads * hd])),
          mat(upload(gpu, k, [rows, kvHeads * hd])),
          mat(upload(gpu, v, [rows, kvHeads * hd])),
          out,
          shape,
          variant,
        );
        assertClose(await out.read(), ref.attention(q, k, v, batch, seqLen, heads, kvHeads, hd, scale), {
          rtol: 1e-4,
          atol: 1e-5,
        });
      },
    );
  }
}

gpuTest(
  "causalAttention's texture kernels give the storage kernel's results bit for bit (fused windows, 2 key ranges; " +
    "heads of 32: the specialised kernel)",
  async (gpu) => {
    for (const [batch, seqLen, heads, kvHeads, hd] of [[1, 1300, 2, 1, 64], [3, 37, 4, 2, 32]]) {
      await textureMatchesStorage(gpu, batch, seqLen, heads, kvHeads, hd);
    }
  },
);

/** Runs causalAttention with both variants on windows of one buffer and compares the bits. */
async function textureMatchesStorage(
  gpu: Gpu,
  batch: number,
  seqLen: number,
  heads: number,
  kvHeads: number,
  hd: number,
): Promise<void> {
  const d = heads * hd, dkv = kvHeads * hd, rows = batch * seqLen;
  const shape = { batch, seqLen, heads, kvHeads, headDim: hd, scale: hd ** -0.5 };
  if (hd === 64) assertEquals(attentionKeyRanges(seqLen, hd).length, 2); // queries carry (m, l) between dispatches
  assertEquals(attentionVariant(gpu, shape, "texture"), "texture");
  assertEquals(attentionTextureKernel(hd), hd === 32 ? "attention_texture_hd32" : "attention_texture");
  const ld = 1 + d + 2 * dkv + 2; // unused | q | k | v | unused: unaligned windows of one buffer
  const t = upload(gpu, randn(rows * ld, 23), [rows, ld]);
  const run = async (variant: AttentionVariant) => {
    using out = empty(gpu, [rows, d]);
    await causalAttention(
      sub(mat(t), 0, 1, rows, d),
      sub(mat(t), 0, 1 + d, rows, dkv),
      sub(mat(t), 0, 1 + d + dkv, rows, dkv),
      out,
      shape,
      variant,
    );
    return await out.read();
  };
  assertEquals(await run("texture"), await run("storage"), `heads of ${hd}`);
  t.release();
}

for (const variant of ["storage", "texture"] as const) {
  gpuTest(`causalAttention (${variant}) records the first non-finite output, over 2 key ranges too`, async (gpu) => {
    const { decodeFirstNonFinite } = await import("../thanos/linalg/finite.ts");
    const cases = [[9, 8, 3, 5, 1], [1300, 64, 2, 1100, 1], [37, 32, 4, 20, 2]] as const;
    for (const [seqLen, hd, heads, badRow, badHead] of cases) {
      const batch = 1, rows = batch * seqLen, d = heads * hd;
      const shape = { batch, seqLen, heads, kvHeads: 1, headDim: hd, scale: hd ** -0.5 };
      const q = randn(rows * d, 51);
      q[badRow * d + badHead * hd + 3] = NaN; //             one query's head: all of its output row is NaN
      using flags = zeros(gpu, [2], "u32", "flags");
      using qT = upload(gpu, q, [rows, d]), kv = upload(gpu, randn(rows * hd, 52), [rows, hd]);
      using out = empty(gpu, [rows, d]), fine = empty(gpu, [rows, d]);
      await causalAttention(mat(qT), mat(kv), mat(kv), out, shape, variant, { flags, slot: 1 });
      using qOk = upload(gpu, randn(rows * d, 53), [rows, d]);
      await causalAttention(mat(qOk), mat(kv), mat(kv), fine, shape, variant, { flags, slot: 0 });
      assertEquals(
        Array.from(await flags.read(), decodeFirstNonFinite),
        [-1, badRow * d + badHead * hd],
        `T ${seqLen}`,
      );
    }
  });
}

gpuTest("attentionVariant: the texture kernel where it can run, the storage kernel otherwise", (gpu) => {
  const shape = { batch: 2, seqLen: 8, kvHeads: 2, headDim: 8 };
  assertEquals(attentionVariant(gpu, shape), gpu.info.isFallback ? "texture" : "storage");
  assertEquals(attentionVariant(gpu, shape, "storage"), "storage");
  assertEquals(attentionVariant(gpu, { ...shape, headDim: 6 }, "texture"), "storage"); // a texel would straddle heads
  const max = gpu.limits.maxTextureDimension2D;
  assertEquals(attentionVariant(gpu, { ...shape, batch: max / 8 + 1 }, "texture"), "storage"); // rows past a texture
  assertEquals(attentionVariant(gpu, { ...shape, kvHeads: max / 2 + 1 }, "texture"), "storage"); // too wide
  const reads = gpu.info.readsStorageTextures;
  try {
    gpu.info.readsStorageTextures = false; // WGSL without read-only storage textures
    assertEquals(attentionVariant(gpu, shape, "texture"), "storage");
  } finally {
    gpu.info.readsStorageTextures = reads;
  }
  assertThrows(
    () => attentionVariant(gpu, shape, "fast" as AttentionVariant),
    RangeError,
    'causalAttention: variant is "fast"; expected "storage" or "texture"',
  );
});

gpuTest("causalAttention reads q, k, v as windows of one fused projection (GPT-2's c_attn)", async (gpu) => {
  const batch = 2, seqLen = 9, heads = 3, hd = 8, rows = batch * seqLen, d = heads * hd;
  const fused = randn(rows * 3 * d, 17);
  const t = upload(gpu, fused, [rows, 3 * d]);
  const out = empty(gpu, [rows, d]);
  const shape = { batch, seqLen, heads, kvHeads: heads, headDim: hd, scale: hd ** -0.5 };
  await causalAttention(
    sub(mat(t), 0, 0, rows, d),
    sub(mat(t), 0, d, rows, d),
    sub(mat(t), 0, 2 * d, rows, d),
    out,
    shape,
  );
  const part = (p: number) =>
    Float32Array.from({ length: rows * d }, (_, i) => fused[Math.floor(i / d) * 3 * d + p * d + (i % d)]);
  assertClose(await out.read(), ref.attention(part(0), part(1), part(2), batch, seqLen, heads, heads, hd, hd ** -0.5), {
    rtol: 1e-4,
    atol: 1e-5,
  });
});

gpuTest("causalAttention is stable for huge scores (no overflow in exp)", async (gpu) => {
  const seqLen = 5, hd = 4;
  const q = new Float32Array(seqLen * hd).fill(100), k = new Float32Array(seqLen * hd).fill(100);
  const v = Float32Array.from({ length: seqLen * hd }, (_, i) => i);
  const out = empty(gpu, [seqLen, hd]);
  await causalAttention(
    mat(upload(gpu, q, [seqLen, hd])),
    mat(upload(gpu, k, [seqLen, hd])),
    mat(upload(gpu, v, [seqLen, hd])),
    out,
    {
      batch: 1,
      seqLen,
      heads: 1,
      kvHeads: 1,
      headDim: hd,
      scale: 1,
    },
  );
  assertClose(await out.read(), ref.attention(q, k, v, 1, seqLen, 1, 1, hd, 1), { rtol: 1e-5, atol: 1e-5 });
});

gpuTest("causalAttention rejects bad head counts and shapes", async (gpu) => {
  const t = (r: number, c: number, label: string) => mat(upload(gpu, new Float32Array(r * c), [r, c], label));
  const out = empty(gpu, [4, 6]);
  const shape = { batch: 1, seqLen: 4, heads: 3, kvHeads: 2, headDim: 2, scale: 1 };
  await assertRejects(
    () => causalAttention(t(4, 6, "q"), t(4, 4, "k"), t(4, 4, "v"), out, shape),
    RangeError,
    "causalAttention: heads is 3 and kvHeads 2; expected heads to be a multiple of kvHeads",
  );
  await assertRejects(
    () => causalAttention(t(4, 6, "q"), t(4, 5, "k"), t(4, 6, "v"), out, { ...shape, kvHeads: 3 }),
    RangeError,
    'causalAttention: k "k"[0:4, 0:5] (4x5) is 4x5; expected 4x6',
  );
  await assertRejects(
    () =>
      causalAttention(t(1, 257, "q"), t(1, 257, "k"), t(1, 257, "v"), empty(gpu, [1, 257]), {
        ...shape,
        seqLen: 1,
        heads: 1,
        kvHeads: 1,
        headDim: 257,
      }),
    RangeError,
    "causalAttention: headDim is 257; expected at most 256",
  );
});

// ---------------------------------------------------------------------------------------------
// NLL: log-sum-exp over the vocabulary in f32, one chunk or several; atol 2e-5 on values ~ log(V)

for (const vocab of [1, 7, 129, 1000, 4099]) {
  gpuTest(`nllUpdate matches the reference over vocab ${vocab} (one chunk and chunks of 100)`, async (gpu) => {
    const rows = 13;
    const logits = randn(rows * vocab, vocab).map((v) => v * 4);
    const targets = randomIds(rows, vocab, vocab + 1);
    const want = ref.nll(logits, rows, vocab, targets);
    const targetsT = upload(gpu, targets);
    const state = empty(gpu, [rows, 3]), out = empty(gpu, [rows]);
    const lt = upload(gpu, logits, [rows, vocab]);
    await nllUpdate(mat(lt), targetsT, state, out, { lo: 0, first: true, last: true });
    assertClose(await out.read(), want, { rtol: 1e-5, atol: 2e-5 }, "one chunk");
    await inVocabChunks(
      gpu,
      logits,
      { rows, vocab, width: 100 },
      (chunk, at) => nllUpdate(chunk, targetsT, state, out, at),
    );
    assertClose(await out.read(), want, { rtol: 1e-5, atol: 2e-5 }, "chunks of 100");
  });
}

gpuTest("nllUpdate rejects a target count that does not match the rows", async (gpu) => {
  await assertRejects(
    () =>
      nllUpdate(
        mat(upload(gpu, new Float32Array(6), [2, 3])),
        upload(gpu, new Uint32Array(3), [3], "t"),
        empty(gpu, [2, 3]),
        empty(gpu, [2]),
        {
          lo: 0,
          first: true,
          last: true,
        },
      ),
    RangeError,
    'nllUpdate: targets "t" has 3 elements; expected 2 (one per logits row)',
  );
});
