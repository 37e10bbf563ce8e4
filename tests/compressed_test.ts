/**
 * Compressed sparse checkpoints (compressed-tensors layout): compress/decompress are exact inverses
 * on odd shapes in F32/F16/BF16, a compressed checkpoint reads back like the dense one, the per-layer
 * format choice, and every kind of bad input is named.
 */

import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { sparseWeights } from "./sparse_weights.ts";
import {
  bitmaskRowBytes,
  compress24,
  compressBitmask,
  decompressWeight,
  packBitmask,
  roundToDtype,
  unpackBitmask,
  weightSparsity,
} from "../thanos/model/compressed.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { openSafetensors, type TensorData, type TensorInput } from "../thanos/model/safetensors.ts";

function part(dtype: TensorData["dtype"], shape: number[], data: TensorData["data"]): TensorData {
  return { dtype, shape, data } as TensorData;
}

/** −0 and +0 are the same value (compressed-tensors drops both: `w != 0`). */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (v === 0 && b[i] === 0));
}

Deno.test("packBitmask is numpy.packbits(bitorder='little') and unpackBitmask inverts it", () => {
  const mask = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 1, 1, /* row 2 */ 0, 1, 0, 0, 0, 0, 0, 0, 1]);
  const packed = packBitmask(mask, 2, 9);
  assertEquals([...packed], [0b1000_0001, 0b1, 0b10, 0b1]); //        bit i of byte j = column 8j+i
  assertEquals(unpackBitmask(packed, 2, 9), mask);
});

for (const dtype of ["F32", "F16", "BF16"] as const) {
  Deno.test(`sparse-bitmask and sparse-24-bitmask round-trip exactly on odd shapes (${dtype})`, () => {
    for (const [rows, cols] of [[1, 1], [3, 7], [5, 13], [7, 20], [2, 64], [9, 36]]) {
      const w = roundToDtype(sparseWeights(rows, cols, rows * 100 + cols, "unstructured"), dtype);
      w[0] = -0; //                                        −0 is a zero: dropped, read back as +0
      const c = compressBitmask(w, rows, cols);
      assertEquals(c.bitmask.length, rows * bitmaskRowBytes(cols));
      assertEquals(c.compressed.length, weightSparsity(w, rows, cols).nonzeros);
      const back = decompressWeight("m", "sparse-bitmask", {
        compressed: part(dtype, [c.compressed.length], c.compressed),
        bitmask: part("U8", [rows, bitmaskRowBytes(cols)], c.bitmask),
        shape: part("I64", [2], new BigInt64Array([BigInt(rows), BigInt(cols)])),
        rowOffsets: part("I64", [rows], c.rowOffsets!),
      }, [rows, cols]);
      assert(sameValues(back, w), `${rows}x${cols}`);
      if (cols % 4 !== 0) continue;
      const w24 = roundToDtype(sparseWeights(rows, cols, rows + cols, "2:4"), dtype);
      assert(weightSparsity(w24, rows, cols).twoFour);
      const c24 = compress24(w24, rows, cols);
      assertEquals(c24.compressed.length, rows * cols / 2);
      const back24 = decompressWeight("m", "sparse-24-bitmask", {
        compressed: part(dtype, [rows, cols / 2], c24.compressed),
        bitmask: part("U8", [rows, bitmaskRowBytes(cols)], c24.bitmask),
        shape: part("I64", [2, 1], new BigInt64Array([BigInt(rows), BigInt(cols)])),
      }, [rows, cols]);
      assert(sameValues(back24, w24), `2:4 ${rows}x${cols}`);
    }
  });
}

Deno.test("compress24 refuses a weight that is not 2:4 and every bad part is named", () => {
  assertThrows(() => compress24(new Float32Array([1, 2, 3, 0]), 1, 4, "w"), RangeError, "hold 3 non-zeros");
  assertThrows(() => compress24(new Float32Array(6), 1, 6, "w"), RangeError, "not a multiple of 4");
  const w = new Float32Array([1, 0, 2, 0, 0, 3, 0, 4]);
  const c = compressBitmask(w, 2, 4);
  const parts = () => ({
    compressed: part("F32", [4], c.compressed.slice()),
    bitmask: part("U8", [2, 1], c.bitmask.slice()),
    shape: part("I64", [2], new BigInt64Array([2n, 4n])),
    rowOffsets: part("I64", [2], c.rowOffsets!.slice()),
  });
  const short = parts();
  short.compressed = part("F32", [3], c.compressed.slice(0, 3));
  assertThrows(
    () => decompressWeight("m", "sparse-bitmask", short, [2, 4]),
    RangeError,
    "m.compressed holds 3 values but m.bitmask has 4 bits set",
  );
  const back = parts();
  (back.rowOffsets!.data as BigInt64Array)[1] = -1n;
  assertThrows(
    () => decompressWeight("m", "sparse-bitmask", back, [2, 4]),
    RangeError,
    "m.row_offsets is not monotone",
  );
  const far = parts();
  (far.rowOffsets!.data as BigInt64Array)[1] = 9n;
  assertThrows(
    () => decompressWeight("m", "sparse-bitmask", far, [2, 4]),
    RangeError,
    "m.row_offsets[1] = 9 is out of range",
  );
  const off = parts();
  (off.rowOffsets!.data as BigInt64Array)[1] = 1n;
  assertThrows(
    () => decompressWeight("m", "sparse-bitmask", off, [2, 4]),
    RangeError,
    "m.row_offsets[1] = 1 but m.bitmask has 2 set bits",
  );
  const three = parts();
  (three.bitmask.data as Uint8Array)[0] = 0b0111;
  three.compressed = part("F32", [2, 2], new Float32Array([1, 5, 2, 3]));
  assertThrows(() => decompressWeight("m", "sparse-24-bitmask", three, [2, 4]), RangeError, "m.bitmask is not 2:4");
});

const FIXTURES = new URL("./fixtures/compressed/", import.meta.url).pathname;
const CASES = ["llama-mixed-f32", "llama-24-bf16", "llama-24-f16", "gpt2-24-f16"];

async function rawTensors(dir: string): Promise<Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>> {
  const st = await openSafetensors(dir);
  const out = new Map();
  for (const f of st.files) {
    for (const name of f.entries.keys()) {
      const { entry, bytes } = await f.readBytes(name);
      out.set(name, { dtype: entry.dtype, shape: entry.shape, bytes });
    }
  }
  return out;
}

async function denseTensors(dir: string): Promise<Map<string, TensorInput>> {
  const ckpt = await openCheckpoint(dir);
  const out = new Map<string, TensorInput>();
  for (const { name, shape } of ckpt.layout.tensors) {
    out.set(name, { dtype: "F32", shape, data: (await ckpt.readFloat32(name)).data });
  }
  return out;
}

for (const name of CASES) {
  Deno.test(`compressed checkpoint equals the Python reference byte for byte (${name})`, async () => {
    const dense = join(FIXTURES, name, "dense");
    const reference = join(FIXTURES, name, "reference");
    const config = JSON.parse(await Deno.readTextFile(join(dense, "config.json")));
    const dtype = ({ float32: "F32", float16: "F16", bfloat16: "BF16" } as const)[config.torch_dtype as "float32"];
    const root = await Deno.makeTempDir({ prefix: "thanos-compressed-" });
    try {
      const tensors = await denseTensors(dense);
      const out = join(root, "ours");
      const { compression } = await writeCheckpoint(out, { config, tensors, dtype, format: "compressed" });
      const ours = await rawTensors(out);
      const want = await rawTensors(reference);
      assertEquals([...ours.keys()].sort(), [...want.keys()].sort());
      for (const [n, t] of want) {
        const o = ours.get(n)!;
        assertEquals([o.dtype, o.shape], [t.dtype, t.shape], n);
        assertEquals(o.bytes, t.bytes, n);
      }
      const ourConfig = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
      const refConfig = JSON.parse(await Deno.readTextFile(join(reference, "config.json")));
      assertEquals(ourConfig.quantization_config, refConfig.quantization_config);
      assertEquals(ourConfig.torch_dtype, refConfig.torch_dtype);
      assert(compression!.bytes.total.after < compression!.bytes.total.before);
      // both read back (transparently decompressed) as the dense weights
      for (const dir of [out, reference]) {
        const ckpt = await openCheckpoint(dir);
        assertEquals(ckpt.compression?.format, refConfig.quantization_config.sparsity_config.format);
        for (const [n, t] of tensors) {
          assert(sameValues((await ckpt.readFloat32(n)).data, t.data as Float32Array), `${dir}: ${n}`);
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("openCheckpoint refuses quantized (not sparse) compressed-tensors configs and other quant methods", async () => {
  const root = await Deno.makeTempDir({ prefix: "thanos-compressed-" });
  try {
    const src = join(FIXTURES, "llama-mixed-f32", "dense");
    const config = JSON.parse(await Deno.readTextFile(join(src, "config.json")));
    for (
      const [q, expected] of [
        [{ quant_method: "gptq", bits: 4 }, `quant_method is "gptq"`],
        [{ quant_method: "compressed-tensors", config_groups: { group_0: {} } }, "config_groups"],
      ] as const
    ) {
      const dir = join(root, crypto.randomUUID().slice(0, 6));
      await Deno.mkdir(dir);
      await Deno.copyFile(join(src, "model.safetensors"), join(dir, "model.safetensors"));
      await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ ...config, quantization_config: q }));
      await assertRejects(() => openCheckpoint(dir), RangeError, expected);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
