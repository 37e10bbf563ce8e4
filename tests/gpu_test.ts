import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { empty, getGpu, launch, readAll, upload, zeros } from "../thanos/gpu/mod.ts";
import { indirectArgs } from "../thanos/gpu/launch.ts";
import { axpy, fill } from "../thanos/linalg/elementwise.ts";
import { BindGroupCache } from "../thanos/gpu/recorder.ts";
import * as ref from "./reference/elementwise.ts";
import { assertClose, gpuTest, ODD_SIZES, randn, withPoisonedEmpty } from "./util.ts";

gpuTest("getGpu returns one shared device with the adapter's storage limit", async (gpu) => {
  assertEquals(await getGpu(), gpu);
  assertEquals(gpu.limits.maxStorageBufferBindingSize, gpu.adapter.limits.maxStorageBufferBindingSize);
  assertEquals(typeof gpu.info.description, "string");
});

gpuTest("upload/read round-trips f32, u32 and i32 data", async (gpu) => {
  const f = randn(1000, 1);
  assertEquals(await upload(gpu, f, [10, 100]).read(), f);
  const u = new Uint32Array([0, 1, 0xffffffff, 7]);
  assertEquals(await upload(gpu, u).read(), u);
  const i = new Int32Array([-5, 3, -0x80000000]);
  assertEquals(await upload(gpu, i).read(), i);
});

gpuTest("zeros is zero even on a reused buffer", async (gpu) => {
  const a = upload(gpu, new Float32Array(129).fill(3), [129]);
  a.release();
  const z = zeros(gpu, [129]);
  assertEquals(await z.read(), new Float32Array(129));
});

gpuTest(
  "poisonEmpty hands out NaN-filled tensors from empty(), and zeros() stays zero",
  (gpu) =>
    withPoisonedEmpty(gpu, async () => {
      const a = upload(gpu, new Float32Array(37).fill(3), [37]); // written whole: never poisoned
      assertEquals(await a.read(), new Float32Array(37).fill(3));
      a.release();
      const e = empty(gpu, [37]); // the same pooled buffer: no longer 3s
      const got = await e.read();
      assertEquals(got.every(Number.isNaN), true, `empty() under poison read ${got.slice(0, 4)}…`);
      e.release();
      assertEquals(await zeros(gpu, [37]).read(), new Float32Array(37));
      assertEquals([...await empty(gpu, [2], "u32").read()], [0xffffffff, 0xffffffff]);
    }),
);

for (const n of ODD_SIZES) {
  gpuTest(`fill matches the reference for n=${n}`, async (gpu) => {
    const x = empty(gpu, [n]);
    await fill(x, -2.5);
    assertClose(await x.read(), ref.fill(n, -2.5), { rtol: 0, atol: 0 });
  });
}

gpuTest("fill folds a 1-D grid past 65535 workgroups", async (gpu) => {
  const n = 65536 * 256 + 3;
  const x = empty(gpu, [n]);
  await fill(x, 1);
  const data = await x.read();
  assertEquals(data[0], 1);
  assertEquals(data[n - 1], 1);
  assertEquals(data.reduce((s, v) => s + v, 0), n);
  x.release();
});

gpuTest("buffers are pooled and reused after release", (gpu) => {
  const a = empty(gpu, [333]);
  const buffer = a.buffer;
  a.release();
  const b = empty(gpu, [333]);
  assertEquals(b.buffer, buffer);
  b.release();
});

gpuTest("releaseSpares frees the pooled spares after the recorded work that still names them", async (gpu) => {
  await gpu.releaseSpares();
  const keep = upload(gpu, new Float32Array(1013).fill(2), [1013]);
  const spare = empty(gpu, [1013], "f32", "spare");
  await fill(spare, 3);
  await axpy(keep, spare); // recorded, not yet submitted, when the buffer goes back to the pool
  spare.release();
  const allocated = gpu.pool.allocatedBytes;
  assertEquals(gpu.pool.spareBytes, 4064);
  assertEquals(await gpu.releaseSpares(), 4064);
  assertEquals([gpu.pool.spareBytes, gpu.pool.allocatedBytes], [0, allocated - 4064]);
  assertEquals(await gpu.releaseSpares(), 0);
  assertEquals(await keep.read(), new Float32Array(1013).fill(5)); // the sum ran before the spare was destroyed
  const again = empty(gpu, [1013]); // a new buffer once the spare is gone
  again.release();
  keep.release();
});

gpuTest("a released tensor cannot be used", async (gpu) => {
  const a = empty(gpu, [4]);
  a.release();
  await assertRejects(() => fill(a, 0), Error, 'Tensor "tensor" was used after release()');
});

gpuTest("a tensor larger than the device's maxBufferSize is refused", (gpu) => {
  const limit = gpu.limits.maxBufferSize;
  const n = Math.floor(limit / 4) + 1;
  assertThrows(
    () => empty(gpu, [n], "f32", "huge"),
    RangeError,
    `Tensor "huge" of shape [${n}] needs ${4 * n} bytes, more than the device's maxBufferSize`,
  );
});

gpuTest("a missing shader is reported by name", async (gpu) => {
  await assertRejects(
    () => launch(gpu, "no_such_kernel", {}, { grid: [1] }),
    Error,
    'Shader "no_such_kernel" not found',
  );
});

gpuTest("a binding of the wrong type is a validation error naming the shader", async (gpu) => {
  using x = empty(gpu, [4], "u32");
  const buffer = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM, label: "not storage" });
  await launch(gpu, "fill", { x: buffer }, { grid: [1], params: { n: 4, value: 0 } });
  await assertRejects(() => gpu.sync(), Error, 'WebGPU validation error in shader "fill"');
  buffer.destroy();
  void x;
});

gpuTest("an indirect launch takes its workgroup counts from a buffer; a count of 0 skips it", async (gpu) => {
  using x = zeros(gpu, [600], "f32", "x");
  const args = indirectArgs(gpu, 6, "args");
  try {
    // words 0..2: nothing; words 3..5: 2 workgroups of 256 (512 of the 600 elements)
    gpu.recorder.write(args, 0, new Uint32Array([0, 1, 1, 2, 1, 1]));
    const fillAt = (offset: number, value: number) =>
      launch(gpu, "fill", { x }, { grid: [3], params: { n: 600, value }, indirect: { buffer: args, offset } });
    await fillAt(0, 1);
    assertEquals(await x.read(), new Float32Array(600), "a count of 0 launches nothing");
    await fillAt(12, 2);
    assertEquals(await x.read(), new Float32Array(600).fill(2, 0, 512), "the counts from the buffer, not the grid");
    await assertRejects(() => fillAt(14, 3), RangeError, 'Shader "fill": indirect arguments at byte 14');
    await assertRejects(() => fillAt(args.size - 8, 3), RangeError, "expected a multiple of 4 with 12 bytes after it");
  } finally {
    gpu.pool.release(args);
  }
});

gpuTest("readAll reads several tensors of mixed types in one round trip", async (gpu) => {
  const f = upload(gpu, randn(1001, 3), [7, 143]);
  const u = upload(gpu, new Uint32Array([1, 2, 3]));
  const i = upload(gpu, new Int32Array([-1]));
  await fill(f, 0.5); // recorded work is flushed before the copies
  const before = gpu.recorder.submitCount;
  const [a, b, c] = await readAll(f, u, i);
  assertEquals(a, new Float32Array(1001).fill(0.5));
  assertEquals(b, new Uint32Array([1, 2, 3]));
  assertEquals(c, new Int32Array([-1]));
  assertEquals(gpu.recorder.submitCount - before, 1, "one submission for all three");
  assertEquals(gpu.recorder.unwaited, false, "the readback leaves the GPU known idle");
  await gpu.sync(); // nothing to wait for
  assertEquals(gpu.recorder.submitCount - before, 1);
});

gpuTest("a BindGroupCache reuses bind groups across submissions and never shares params within one", async (gpu) => {
  using a = zeros(gpu, [5], "f32", "a");
  using b = zeros(gpu, [5], "f32", "b");
  using cache = new BindGroupCache();
  const fillWith = (x: typeof a, value: number) => launch(gpu, "fill", { x }, { grid: [1], params: { n: 5, value } });
  // one submission: a ← 1, b ← 2, a ← 3 (same buffers as the first, other params: a fresh bind group), a += …
  await gpu.recorder.withBindGroupCache(cache, async () => {
    await fillWith(a, 1);
    await fillWith(b, 2);
    await fillWith(a, 3);
  });
  assertEquals([...(await a.read())], [3, 3, 3, 3, 3]);
  assertEquals([...(await b.read())], [2, 2, 2, 2, 2]);
  assertEquals([cache.hits, cache.misses], [0, 2]);
  // later submissions reuse both bind groups, rewriting a's params when they change
  await gpu.recorder.withBindGroupCache(cache, () => fillWith(a, 4));
  assertEquals([...(await a.read())], [4, 4, 4, 4, 4]);
  await gpu.recorder.withBindGroupCache(cache, async () => {
    await fillWith(b, 5);
    await fillWith(a, 4);
  });
  const [av, bv] = await readAll(a, b);
  assertEquals([...av, ...bv], [4, 4, 4, 4, 4, 5, 5, 5, 5, 5]);
  assertEquals([cache.hits, cache.misses], [3, 2]);
});
