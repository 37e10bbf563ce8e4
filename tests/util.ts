/**
 * Test helpers shared by the suites: GPU test registration, tolerance comparison that reports the
 * largest difference, and seeded random data (uniform, normal, token ids, masks). Subprocesses and
 * scratch directories: cli_util.ts.
 */

import { rng } from "../thanos/util/random.ts";

export { randn, rng } from "../thanos/util/random.ts";
import { empty, getGpu, type Gpu } from "../thanos/gpu/mod.ts";
import type { MatrixView } from "../thanos/linalg/view.ts";

/**
 * Registers a test that uses the shared GPU. Sanitizers are off because the device and its pooled
 * buffers intentionally outlive each test.
 */
export function gpuTest(name: string, fn: (gpu: Gpu) => Promise<void> | void): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => await fn(await getGpu()),
  });
}

/**
 * Runs `fn` with `gpu.poisonEmpty` on (every `empty()` tensor NaN-filled), so a kernel that reads
 * scratch it never wrote fails here whatever the pool happens to hold. `deno task test` sets
 * THANOS_POISON_EMPTY=1 for the whole suite; this keeps a regression test strict when run alone.
 */
export async function withPoisonedEmpty<T>(gpu: Gpu, fn: () => Promise<T>): Promise<T> {
  const was = gpu.poisonEmpty;
  gpu.poisonEmpty = true;
  try {
    return await fn();
  } finally {
    gpu.poisonEmpty = was;
  }
}

export interface Tolerance {
  /** relative tolerance, scaled by |expected| */
  rtol?: number;
  /** absolute tolerance */
  atol?: number;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise; on failure the message gives
 * the worst index, both values, and the largest absolute difference.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: Tolerance = {},
  what = "values",
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} differs from expected ${expected.length}`);
  }
  let worst = -1, worstExcess = 0, maxAbs = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const diff = Math.abs(a - e);
    if (!Number.isFinite(a) && !(Number.isNaN(a) && Number.isNaN(e)) && a !== e) {
      throw new Error(`${what}: non-finite ${a} at index ${i}, expected ${e}`);
    }
    if (Number.isFinite(diff)) maxAbs = Math.max(maxAbs, diff);
    const excess = diff - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: mismatch at index ${worst}: got ${actual[worst]}, expected ${expected[worst]} ` +
        `(max |diff| ${maxAbs.toExponential(3)}, rtol ${rtol}, atol ${atol}, n ${actual.length})`,
    );
  }
}

/** Largest |a − b| (for reporting in benchmarks and test names). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** `n` token ids drawn uniformly from [0, vocab) by a seeded generator. */
export function randomIds(n: number, vocab: number, seed: number): Uint32Array {
  const u = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(u() * vocab));
}

/** `n` mask entries from a seeded generator, each 1 (selected) with probability `density`, else 0. */
export function randomMask(n: number, density: number, seed: number): Uint32Array {
  const u = rng(seed);
  return Uint32Array.from({ length: n }, () => (u() < density ? 1 : 0));
}

/** Odd shapes every kernel is tested on (plus 1, the degenerate case). */
export const ODD_SIZES = [1, 7, 129, 513, 1000] as const;

/**
 * Runs `fn` with `gpu.bindingLimit` set to `bytes`, so every buffer larger than that is bound in
 * chunks (thanos/gpu/chunked.ts) — how the suite runs the chunked paths on small, odd shapes.
 */
export async function withBindingLimit<T>(gpu: Gpu, bytes: number, fn: () => Promise<T>): Promise<T> {
  const was = gpu.bindingLimit;
  gpu.bindingLimit = bytes;
  try {
    return await fn();
  } finally {
    gpu.bindingLimit = was;
  }
}

/**
 * Runs a vocabulary-chunked kernel over host `logits` [rows, vocab] in column chunks of `width` (the
 * last one narrower), the way the LM head streams them: `update` gets each chunk's view and where it is.
 */
export async function inVocabChunks(
  gpu: Gpu,
  logits: Float32Array,
  shape: { rows: number; vocab: number; width: number },
  update: (chunk: MatrixView, at: { lo: number; first: boolean; last: boolean }) => Promise<void>,
): Promise<void> {
  const { rows, vocab, width } = shape;
  using chunk = empty(gpu, [rows, width]);
  for (let lo = 0; lo < vocab; lo += width) {
    const cols = Math.min(width, vocab - lo);
    const part = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) part.set(logits.subarray(r * vocab + lo, r * vocab + lo + cols), r * width);
    chunk.write(part);
    await update({ tensor: chunk, offset: 0, rows, cols, ld: width }, {
      lo,
      first: lo === 0,
      last: lo + width >= vocab,
    });
  }
}

/**
 * Fills a fresh rgba32float texture of [height, 64] texels with `fill(view)` and reads back its
 * texels [height, width] row by row (4 floats a texel) — how the pack kernels' tests see what they
 * wrote, through a 256-byte-aligned staging buffer. The texture is not the products' scratch.
 */
export async function packedTexels(
  gpu: Gpu,
  width: number,
  height: number,
  fill: (view: GPUTextureView) => Promise<void>,
): Promise<Float32Array> {
  const texture = gpu.device.createTexture({
    size: [64, height],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
  });
  try {
    await fill(texture.createView());
    await gpu.sync();
    const readback = gpu.device.createBuffer({
      size: 1024 * height,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
    const encoder = gpu.device.createCommandEncoder();
    encoder.copyTextureToBuffer({ texture }, { buffer: readback, bytesPerRow: 1024 }, [64, height]);
    gpu.device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(readback.getMappedRange().slice(0));
    readback.destroy();
    const got = new Float32Array(width * height * 4);
    for (let y = 0; y < height; y++) got.set(all.subarray(y * 256, y * 256 + 4 * width), y * 4 * width);
    return got;
  } finally {
    texture.destroy();
  }
}
