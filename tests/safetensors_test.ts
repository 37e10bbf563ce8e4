import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./util.ts";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../thanos/model/half.ts";
import { exists } from "../thanos/util/fs.ts";
import {
  openSafetensors,
  SafetensorsFile,
  type TensorInput,
  writeSafetensors,
  writeSafetensorsSharded,
} from "../thanos/model/safetensors.ts";

const tmp = () => Deno.makeTempDir({ prefix: "thanos-st-" });

/** Writes a hand-made safetensors file: 8-byte length, header text, data bytes. */
async function rawFile(path: string, header: string | object, data: Uint8Array, headerLength?: number) {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  await Deno.writeFile(path, out);
  return path;
}

Deno.test("F16 widening matches the runtime's Float16Array for all 65536 bit patterns", () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const ours = f16ToF32(all);
  const native = Float32Array.from(new Float16Array(all.buffer));
  for (let i = 0; i < 65536; i++) {
    if (Number.isNaN(native[i])) assert(Number.isNaN(ours[i]), `0x${i.toString(16)} should be NaN`);
    else assert(Object.is(ours[i], native[i]), `0x${i.toString(16)}: ${ours[i]} vs ${native[i]}`);
  }
});

Deno.test("F16 narrowing rounds to nearest even like Math.f16round (random, ties, subnormals, overflow)", () => {
  const values = [
    0,
    -0,
    1,
    -1,
    65504,
    65519.99,
    65520,
    -65520,
    1e9,
    Infinity,
    -Infinity,
    2 ** -24,
    2 ** -25,
    2 ** -25 * 1.0000001,
    3 * 2 ** -25,
    2 ** -14,
    2 ** -14 - 2 ** -25,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    1 + 2 ** -11 + 2 ** -20,
    2049,
    2051,
    6e-8,
    1e-10,
  ];
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  const u = (() => {
    let s = 12345;
    return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  })();
  for (let i = 0; i < 200_000; i++) {
    bits[0] = u();
    if (!Number.isNaN(f[0])) values.push(f[0]);
  }
  const input = new Float32Array(values);
  const ours = f16ToF32(f32ToF16(input));
  for (let i = 0; i < input.length; i++) {
    const want = Math.f16round(input[i]);
    assert(Object.is(ours[i], want), `f16(${input[i]}) = ${ours[i]}, expected ${want}`);
  }
  assert(Number.isNaN(f16ToF32(f32ToF16(new Float32Array([NaN])))[0]));
});

Deno.test("BF16 narrowing rounds to nearest even and widening is exact", () => {
  const input = new Float32Array([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -2.5, 3.4e38, 0, -0]);
  const back = bf16ToF32(f32ToBf16(input));
  assertEquals([...back], [1, 1, 1 + 2 ** -6, 1 + 2 ** -7, -2.5, Infinity, 0, -0]);
  assert(Number.isNaN(bf16ToF32(f32ToBf16(new Float32Array([NaN])))[0]));
});

Deno.test("round trip F32/F16/BF16/U8/BOOL/I32/U32/I64 with __metadata__", async () => {
  const dir = await tmp();
  const w = randn(7 * 129, 1);
  const tensors: Record<string, TensorInput> = {
    "w.f32": { dtype: "F32", shape: [7, 129], data: w },
    "w.f16": { dtype: "F16", shape: [7, 129], data: w },
    "w.bf16": { dtype: "BF16", shape: [129, 7], data: w },
    mask: { dtype: "U8", shape: [3, 5], data: new Uint8Array(15).map((_, i) => i % 2) },
    flags: { dtype: "BOOL", shape: [2], data: new Uint8Array([1, 0]) },
    ids: { dtype: "I32", shape: [4], data: new Int32Array([-1, 0, 7, 2 ** 31 - 1]) },
    counts: { dtype: "U32", shape: [2], data: new Uint32Array([0, 2 ** 32 - 1]) },
    big: { dtype: "I64", shape: [2], data: new BigInt64Array([-(2n ** 40n), 5n]) },
    scalar: { dtype: "F32", shape: [], data: new Float32Array([3.5]) },
    empty: { dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
  };
  const path = join(dir, "all.safetensors");
  await writeSafetensors(path, tensors, { metadata: { format: "pt", note: "round trip" } });
  const st = await openSafetensors(path);
  assertEquals(st.metadata, { format: "pt", note: "round trip" });
  assertEquals(st.names().sort(), Object.keys(tensors).sort());
  assertEquals(await st.readTensor("w.f32"), { dtype: "F32", shape: [7, 129], data: w });
  const f16 = await st.readTensor("w.f16");
  assertEquals(f16.dtype, "F16");
  assertEquals(f16.data, Float32Array.from(w, Math.f16round));
  const bf16 = await st.readTensor("w.bf16");
  assertEquals(bf16.shape, [129, 7]);
  assertEquals(bf16.data, bf16ToF32(f32ToBf16(w)));
  assertClose(bf16.data as Float32Array, w, { rtol: 2 ** -8, atol: 0 }, "bf16");
  for (const name of ["mask", "flags", "ids", "counts", "big", "scalar", "empty"]) {
    const t = await st.readTensor(name);
    assertEquals(t, { dtype: tensors[name].dtype, shape: [...tensors[name].shape], data: tensors[name].data });
  }
  // Data is 8-byte aligned: the header is padded with spaces, wider dtypes come first.
  const file = await Deno.readFile(path);
  const n = Number(new DataView(file.buffer).getBigUint64(0, true));
  assertEquals(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
  assertEquals(header.big.data_offsets[0], 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readRows reads one slice of the first dimension", async () => {
  const dir = await tmp();
  const w = randn(1000 * 7, 2);
  const st = await openSafetensors(
    (await writeSafetensors(join(dir, "e.safetensors"), { emb: { dtype: "BF16", shape: [1000, 7], data: w } })).path,
  );
  const rows = await st.readRows("emb", 513, 520);
  assertEquals(rows.shape, [7, 7]);
  assertEquals(rows.data, bf16ToF32(f32ToBf16(w.subarray(513 * 7, 520 * 7))));
  assertEquals((await st.readRows("emb", 1000, 1000)).shape, [0, 7]);
  await assertRejects(
    () => st.readRows("emb", 5, 1001),
    RangeError,
    'rows [5, 1001) of tensor "emb" with shape [1000,7]; expected 0 <= start <= end <= 1000',
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a sharded BF16 checkpoint loads and matches its F32 twin within bf16 rounding", async () => {
  const dir = await tmp();
  const f32Dir = join(dir, "f32"), bf16Dir = join(dir, "bf16");
  await Deno.mkdir(f32Dir);
  await Deno.mkdir(bf16Dir);
  const f32 = new Map<string, TensorInput>();
  const bf16 = new Map<string, TensorInput>();
  const shapes: [string, number[]][] = [
    ["model.embed_tokens.weight", [129, 64]],
    ["model.layers.0.self_attn.q_proj.weight", [64, 64]],
    ["model.layers.0.mlp.up_proj.weight", [172, 64]],
    ["model.layers.0.mlp.down_proj.weight", [64, 172]],
    ["model.norm.weight", [64]],
  ];
  shapes.forEach(([name, shape], i) => {
    const data = randn(shape.reduce((a, b) => a * b, 1), 10 + i);
    f32.set(name, { dtype: "F32", shape, data });
    bf16.set(name, { dtype: "BF16", shape, data: () => data }); // produced lazily, one at a time
  });
  await writeSafetensorsSharded(f32Dir, f32, { maxShardBytes: 1 << 30 });
  const { files } = await writeSafetensorsSharded(bf16Dir, bf16, { maxShardBytes: 30_000 });
  assertEquals(files.map((f) => f.slice(bf16Dir.length + 1)), [
    "model-00001-of-00003.safetensors",
    "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors",
    "model.safetensors.index.json",
  ]);
  assertEquals(await exists(join(f32Dir, "model.safetensors")), true);
  const index = JSON.parse(await Deno.readTextFile(join(bf16Dir, "model.safetensors.index.json")));
  assertEquals(index.metadata.total_size, shapes.reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1) * 2, 0));

  const a = await openSafetensors(f32Dir);
  const b = await openSafetensors(bf16Dir);
  assertEquals(b.files.length, 3);
  assertEquals(b.names().sort(), a.names().sort());
  for (const name of a.names()) {
    const x = await a.readFloat32(name), y = await b.readFloat32(name);
    assertEquals(y.shape, x.shape);
    assertEquals(b.entry(name).dtype, "BF16");
    assertClose(y.data, x.data, { rtol: 2 ** -8, atol: 0 }, name);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("malformed files are rejected with the file, the tensor, what was found and what was expected", async () => {
  const dir = await tmp();
  const p = (name: string) => join(dir, name);
  const entry = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });

  await Deno.writeFile(p("short"), new Uint8Array(5));
  await assertRejects(
    () => SafetensorsFile.open(p("short")),
    Error,
    `safetensors ${p("short")}: file is 5 bytes, too short for the 8-byte header length`,
  );
  await rawFile(p("long"), "{}", new Uint8Array(0), 1000);
  await assertRejects(
    () => SafetensorsFile.open(p("long")),
    Error,
    "header length 1000 exceeds the 2 bytes after the length field",
  );
  await rawFile(p("json"), "{not json", new Uint8Array(0));
  await assertRejects(
    () => SafetensorsFile.open(p("json")),
    Error,
    `safetensors ${p("json")}: header is not valid UTF-8 JSON`,
  );
  await rawFile(p("array"), "[1]", new Uint8Array(0));
  await assertRejects(() => SafetensorsFile.open(p("array")), Error, "header must be a JSON object but is an array");
  await rawFile(p("dtype"), { w: entry("F33", [2], [0, 8]) }, new Uint8Array(8));
  await assertRejects(
    () => SafetensorsFile.open(p("dtype")),
    Error,
    `safetensors ${p("dtype")}: tensor "w" has unknown dtype "F33"; expected one of BOOL, U8, I8`,
  );
  await rawFile(p("shape"), { w: entry("F32", [2, -1], [0, 8]) }, new Uint8Array(8));
  await assertRejects(
    () => SafetensorsFile.open(p("shape")),
    Error,
    'tensor "w" has shape [2,-1]; expected an array of non-negative integers',
  );
  await rawFile(p("size"), { w: entry("F32", [2, 3], [0, 20]) }, new Uint8Array(20));
  await assertRejects(
    () => SafetensorsFile.open(p("size")),
    Error,
    'tensor "w" has data_offsets [0, 20] (20 bytes) but dtype F32 and shape [2,3] need 24 bytes',
  );
  await rawFile(p("gap"), { a: entry("F32", [1], [0, 4]), b: entry("F32", [1], [8, 12]) }, new Uint8Array(12));
  await assertRejects(
    () => SafetensorsFile.open(p("gap")),
    Error,
    'tensor "b" starts at data byte 8 but "a" ends at 4 (gap); expected contiguous tensors',
  );
  await rawFile(p("overlap"), { a: entry("F32", [2], [0, 8]), b: entry("F32", [1], [4, 8]) }, new Uint8Array(8));
  await assertRejects(
    () => SafetensorsFile.open(p("overlap")),
    Error,
    'tensor "b" starts at data byte 4 but "a" ends at 8 (overlap); expected contiguous tensors',
  );
  await rawFile(p("trunc"), { w: entry("F32", [4], [0, 16]) }, new Uint8Array(10));
  await assertRejects(
    () => SafetensorsFile.open(p("trunc")),
    Error,
    `safetensors ${
      p("trunc")
    }: file is truncated: tensor "w" ends at data byte 16 but the file holds only 10 bytes of data`,
  );
  await rawFile(p("trail"), { w: entry("F32", [1], [0, 4]) }, new Uint8Array(7));
  await assertRejects(() => SafetensorsFile.open(p("trail")), Error, "3 unexpected bytes after the last tensor");
  await rawFile(p("meta"), { __metadata__: { a: 1 } }, new Uint8Array(0));
  await assertRejects(() => SafetensorsFile.open(p("meta")), Error, "__metadata__.a is 1; expected a string");

  // A dtype the format knows but this reader does not convert opens fine and fails on read.
  await rawFile(p("f64"), { d: entry("F64", [1], [0, 8]) }, new Uint8Array(8));
  const st = await openSafetensors(p("f64"));
  await assertRejects(
    () => st.readTensor("d"),
    Error,
    'tensor "d" has dtype F64, which cannot be read; supported: F32, F16, BF16, U8, BOOL, I32, U32, I64',
  );
  await assertRejects(
    () => st.readTensor("nope"),
    Error,
    `safetensors ${p("f64")}: no tensor "nope" (it has 1 tensors: "d")`,
  );
  await assertRejects(() => openSafetensors(p("missing")), Error, `safetensors ${p("missing")}: not found`);
  await assertRejects(
    () => openSafetensors(dir),
    Error,
    "directory has neither model.safetensors.index.json nor model.safetensors",
  );

  // A file that shrinks after opening is caught on read.
  const shrink =
    (await writeSafetensors(p("shrink.safetensors"), { w: { dtype: "F32", shape: [64], data: randn(64, 3) } })).path;
  const opened = await openSafetensors(shrink);
  await Deno.truncate(shrink, 100);
  await assertRejects(() => opened.readTensor("w"), Error, 'file is truncated: tensor "w" needs 256 bytes');
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an index that maps a tensor to a shard without it is rejected", async () => {
  const dir = await tmp();
  await writeSafetensors(join(dir, "a.safetensors"), { x: { dtype: "F32", shape: [1], data: new Float32Array(1) } });
  await Deno.writeTextFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { x: "a.safetensors", y: "a.safetensors" } }),
  );
  await assertRejects(() => openSafetensors(dir), Error, 'maps tensor "y" to a.safetensors, which has no such tensor');
  await Deno.writeTextFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { x: "../a.safetensors" } }),
  );
  await assertRejects(
    () => openSafetensors(dir),
    Error,
    'tensor "x" maps to "../a.safetensors"; expected a file name beside the index',
  );
  await Deno.writeTextFile(join(dir, "model.safetensors.index.json"), "[]");
  await assertRejects(
    () => openSafetensors(dir),
    Error,
    'expected an object with a "weight_map" of tensor name → file',
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the writer leaves nothing at the target on error and names the missing directory", async () => {
  const dir = await tmp();
  const w = { dtype: "F32", shape: [2, 3], data: new Float32Array(6) } as const;
  await assertRejects(
    () => writeSafetensors(join(dir, "no", "such", "x.safetensors"), { w }),
    Error,
    `writeSafetensors: cannot write ${join(dir, "no", "such", "x.safetensors")}: directory ${
      join(dir, "no", "such")
    } does not exist`,
  );
  const target = join(dir, "x.safetensors");
  await assertRejects(
    () => writeSafetensors(target, { w: { dtype: "F32", shape: [2, 3], data: new Float32Array(5) } }),
    RangeError,
    'writeSafetensors: tensor "w" has 5 values but shape [2,3] needs 6',
  );
  await assertRejects(
    () =>
      writeSafetensors(target, {
        w,
        late: { dtype: "F32", shape: [4], data: () => Promise.reject(new Error("GPU lost")) },
      }),
    Error,
    "GPU lost",
  );
  await assertRejects(
    () => writeSafetensors(target, { m: { dtype: "U8", shape: [2], data: new Float32Array(2) as never } }),
    TypeError,
    'writeSafetensors: tensor "m" (U8) needs a Uint8Array but got Float32Array',
  );
  await assertRejects(
    () => writeSafetensors(target, { m: { dtype: "F8_E4M3", shape: [2], data: new Uint8Array(2) } as never }),
    Error,
    'tensor "m" has dtype "F8_E4M3"; supported: F32, F16, BF16, U8, BOOL, I32, U32, I64',
  );
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), []); // no target, no temporary file
  await Deno.remove(dir, { recursive: true });
});

Deno.test("prune-layer files: weight and inputs in, weight and mask out", async () => {
  const dir = await tmp();
  const rows = 7, cols = 129, n = 13;
  const input = join(dir, "layer.safetensors");
  await writeSafetensors(input, {
    weight: { dtype: "F32", shape: [rows, cols], data: randn(rows * cols, 4) },
    inputs: { dtype: "F32", shape: [n, cols], data: randn(n * cols, 5) },
  });
  const st = await openSafetensors(input);
  const weight = await st.readFloat32("weight");
  const mask = new Uint8Array(rows * cols).map((_, i) => (Math.abs(weight.data[i]) < 0.5 ? 1 : 0));
  const output = join(dir, "pruned.safetensors");
  await writeSafetensors(output, {
    weight: { dtype: "F32", shape: [rows, cols], data: weight.data.map((v, i) => (mask[i] ? 0 : v)) },
    mask: { dtype: "U8", shape: [rows, cols], data: mask },
  });
  const out = await openSafetensors(output);
  assertEquals(out.entry("mask").dtype, "U8");
  assertEquals((await out.readTensor("mask")).data, mask);
  await Deno.remove(dir, { recursive: true });
});

gpuTest("uploadTensor puts a BF16 tensor (or a row slice) on the GPU as f32", async (gpu) => {
  const dir = await tmp();
  const w = randn(129 * 7, 6);
  const path = join(dir, "g.safetensors");
  await writeSafetensors(path, {
    w: { dtype: "BF16", shape: [129, 7], data: w },
    ids: { dtype: "I32", shape: [1], data: new Int32Array(1) },
  });
  const st = await openSafetensors(path);
  const t = await st.uploadTensor(gpu, "w");
  assertEquals(t.shape, [129, 7]);
  assertEquals(t.label, "w");
  assertEquals(await t.read(), bf16ToF32(f32ToBf16(w)));
  const slice = await st.uploadTensor(gpu, "w", [1, 3]);
  assertEquals(await slice.read(), bf16ToF32(f32ToBf16(w.subarray(7, 21))));
  await assertRejects(
    () => st.uploadTensor(gpu, "ids"),
    Error,
    'tensor "ids" has dtype I32; expected F32, F16 or BF16',
  );
  t.release();
  slice.release();
  await Deno.remove(dir, { recursive: true });
});
