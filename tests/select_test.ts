/**
 * Selection kernels against the plain-TS reference (a stable sort by (score, index)): masks must
 * match exactly — same count, same elements, ties broken by the lower index.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { empty, type Gpu, type Tensor, upload } from "../thanos/gpu/mod.ts";
import { mat, type MatrixView } from "../thanos/linalg/view.ts";
import {
  chunkItems,
  kSmallestMask,
  maxWorkgroups,
  nmMask,
  rowKSmallestMask,
  SelectBracket,
  singleWorkgroupSize,
} from "../thanos/linalg/select.ts";
import * as ref from "./reference/select.ts";
import { gpuTest, randn, rng, withBindingLimit } from "./util.ts";
import { storageBindingsFor } from "../thanos/gpu/launch.ts";

/** Sentinel written around windows: scores that would be selected first if a kernel read them. */
const OUTSIDE_SCORE = -Infinity;
/** Sentinel mask value around windows: must survive every kernel. */
const OUTSIDE_MASK = 7;

interface Case {
  scores: MatrixView;
  mask: MatrixView;
  /** The mask window, row-major; throws if anything outside the window was written. */
  readMask(): Promise<Uint32Array>;
  release(): void;
}

/**
 * Uploads `data` (rows x cols, row-major) as the scores and allocates a mask of the same shape:
 * whole tensors, or (windowed) the window [1:1+rows, 2:2+cols] of tensors with 3 more rows and
 * 5 more columns, so that ld > cols and the view starts at an offset — or ("vec4") the window
 * [1:1+rows, 4:4+cols] of tensors with 8 more columns, whose offset and ld are multiples of 4.
 */
function setup(gpu: Gpu, data: Float32Array, rows: number, cols: number, windowed: boolean | "vec4" = false): Case {
  const [R, C, r0, c0] = windowed === "vec4"
    ? [rows + 3, cols + 8, 1, 4]
    : windowed
    ? [rows + 3, cols + 5, 1, 2]
    : [rows, cols, 0, 0];
  const full = new Float32Array(R * C).fill(OUTSIDE_SCORE);
  for (let i = 0; i < rows; i++) full.set(data.subarray(i * cols, (i + 1) * cols), (r0 + i) * C + c0);
  const s = upload(gpu, full, [R, C], "scores");
  const m = upload(gpu, new Uint32Array(R * C).fill(OUTSIDE_MASK), [R, C], "mask");
  const view = (t: Tensor): MatrixView => ({ tensor: t, offset: r0 * C + c0, rows, cols, ld: C });
  return {
    scores: view(s),
    mask: view(m),
    async readMask() {
      const all = await m.read();
      const out = new Uint32Array(rows * cols);
      for (let i = 0; i < R; i++) {
        for (let j = 0; j < C; j++) {
          const inside = i >= r0 && i < r0 + rows && j >= c0 && j < c0 + cols;
          if (inside) out[(i - r0) * cols + (j - c0)] = all[i * C + j];
          else if (all[i * C + j] !== OUTSIDE_MASK) {
            throw new Error(`mask element (${i}, ${j}) outside the window was overwritten with ${all[i * C + j]}`);
          }
        }
      }
      return out;
    },
    release() {
      s.release();
      m.release();
    },
  };
}

/** Exact mask comparison that reports the first difference and both selection counts. */
function assertMask(got: Uint32Array, want: Uint32Array, cols: number, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} mask entries, expected ${want.length}`);
  const count = (m: Uint32Array) => m.reduce((s, v) => s + v, 0);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) {
      throw new Error(
        `${what}: first difference at flat index ${i} (row ${Math.floor(i / cols)}, col ${i % cols}): ` +
          `got ${got[i]}, expected ${want[i]}; ${count(got)} selected, expected ${count(want)}`,
      );
    }
  }
}

/** `n` values drawn from `values` (many ties). */
function drawn(n: number, values: readonly number[], seed: number): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => values[Math.floor(u() * values.length)]);
}

// ---------------------------------------------------------------------------------------------
// kSmallestMask

const GLOBAL_SHAPES: [number, number][] = [[1, 1], [7, 7], [129, 129], [513, 7], [1000, 1000]];

for (const [rows, cols] of GLOBAL_SHAPES) {
  gpuTest(
    `kSmallestMask matches the reference on ${rows}x${cols} for k at 0, 1, size−1, size and in between`,
    async (gpu) => {
      const size = rows * cols;
      const data = randn(size, rows * 31 + cols);
      const order = ref.selectionOrder(data);
      const c = setup(gpu, data, rows, cols);
      const u = rng(size);
      const ks = [...new Set([0, 1, size - 1, size, Math.floor(size / 2), Math.floor(u() * size)])];
      for (const k of ks) {
        await kSmallestMask(c.scores, k, c.mask);
        assertMask(await c.readMask(), ref.firstK(order, k), cols, `${rows}x${cols}, k=${k}`);
      }
      c.release();
    },
  );
}

gpuTest("kSmallestMask on a 1-D array of 2^20 + 3 elements", async (gpu) => {
  const size = (1 << 20) + 3;
  const data = randn(size, 5);
  const order = ref.selectionOrder(data);
  const c = setup(gpu, data, 1, size);
  for (const k of [1, 333_333, size - 1]) {
    await kSmallestMask(c.scores, k, c.mask);
    assertMask(await c.readMask(), ref.firstK(order, k), size, `1x${size}, k=${k}`);
  }
  c.release();
});

gpuTest("kSmallestMask breaks many ties by flat index (a handful of values, −0 and +0, negatives)", async (gpu) => {
  const values = [-2.5, -0, 0, 0.75, 3];
  for (const [rows, cols, seed] of [[1000, 1000, 1], [1, (1 << 20) + 3, 2], [129, 7, 3]]) {
    const data = drawn(rows * cols, values, seed);
    const order = ref.selectionOrder(data);
    const c = setup(gpu, data, rows, cols);
    const size = rows * cols;
    // k inside the run of −2.5, inside the ±0 run (which spans many chunks), at a run boundary
    const zerosStart = data.filter((x) => x < 0).length;
    for (const k of [Math.floor(size * 0.1), zerosStart + Math.floor(size * 0.3), zerosStart, size - 1]) {
      await kSmallestMask(c.scores, k, c.mask);
      assertMask(await c.readMask(), ref.firstK(order, k), cols, `${rows}x${cols} ties, k=${k}`);
    }
    c.release();
  }
});

gpuTest("kSmallestMask with all scores equal takes the first k in row-major order", async (gpu) => {
  const [rows, cols] = [513, 7];
  const c = setup(gpu, new Float32Array(rows * cols).fill(1.5), rows, cols, true);
  for (const k of [0, 1, 1000, rows * cols - 1, rows * cols]) {
    await kSmallestMask(c.scores, k, c.mask);
    const want = new Uint32Array(rows * cols);
    want.fill(1, 0, k);
    assertMask(await c.readMask(), want, cols, `all equal, k=${k}`);
  }
  c.release();
});

gpuTest("kSmallestMask orders −Infinity, negatives, −0 = +0, +Infinity, then NaN", async (gpu) => {
  const data = new Float32Array([NaN, 0, Infinity, -0, -1e-40, 2, -Infinity, NaN, -0, 1e-40, -3]);
  const c = setup(gpu, data, 1, data.length);
  const order = ref.selectionOrder(data);
  // −Inf(6) −3(10) −1e-40(4) 0(1) −0(3) −0(8) 1e-40(9) 2(5) Inf(2) NaN(0) NaN(7)
  assertEquals(order, [6, 10, 4, 1, 3, 8, 9, 5, 2, 0, 7]);
  for (let k = 0; k <= data.length; k++) {
    await kSmallestMask(c.scores, k, c.mask);
    assertMask(await c.readMask(), ref.firstK(order, k), data.length, `special values, k=${k}`);
  }
  c.release();
});

gpuTest("kSmallestMask on windows with ld > cols reads and writes only the window", async (gpu) => {
  for (const [rows, cols] of [[1, 1], [7, 7], [129, 129], [300, 513]]) {
    const data = randn(rows * cols, rows + cols);
    const order = ref.selectionOrder(data);
    const c = setup(gpu, data, rows, cols, true);
    for (const k of [1, Math.floor(rows * cols / 3), rows * cols]) {
      await kSmallestMask(c.scores, k, c.mask);
      assertMask(await c.readMask(), ref.firstK(order, k), cols, `window ${rows}x${cols}, k=${k}`);
    }
    c.release();
  }
});

gpuTest("kSmallestMask reads rows of whole vec4s four at a time and gives the same masks", async (gpu) => {
  // ties spanning chunks, −0 and +0, infinities and NaN; offsets and ld multiples of 4 (the vec4
  // kernels), the scores aligned but the mask not (vec4 reads, scalar mask), and k on the GPU
  const values = [-Infinity, -2.5, -0, 0, 0.75, 3, Infinity, NaN];
  // the last shape: chunkItems gives 17 elements an invocation, rounded up to 20 for the vec4 kernels
  const rounded = 17 * 256 * maxWorkgroups(gpu) / 512;
  assertEquals(chunkItems(rounded * 512, maxWorkgroups(gpu), 4), 20);
  for (const [rows, cols, seed] of [[1, 4, 1], [37, 44, 2], [129, 132, 3], [300, 512, 4], [rounded, 512, 5]]) {
    const size = rows * cols;
    for (const data of [randn(size, seed), drawn(size, values, seed)]) {
      const order = ref.selectionOrder(data);
      const c = setup(gpu, data, rows, cols, "vec4");
      const ks = [...new Set([0, 1, Math.floor(size / 3), size - 1, size])];
      for (const k of ks) {
        await kSmallestMask(c.scores, k, c.mask);
        assertMask(await c.readMask(), ref.firstK(order, k), cols, `vec4 window ${rows}x${cols}, k=${k}`);
      }
      using kt = upload(gpu, new Uint32Array([Math.floor(size / 2)]), [1], "k");
      await kSmallestMask(c.scores, kt, c.mask);
      assertMask(await c.readMask(), ref.firstK(order, Math.floor(size / 2)), cols, `vec4 ${rows}x${cols}, GPU k`);
      using odd = upload(gpu, new Uint32Array(size + 1).fill(OUTSIDE_MASK), [size + 1], "mask");
      await kSmallestMask(c.scores, Math.floor(size / 3), { tensor: odd, offset: 1, rows, cols, ld: cols });
      const got = (await odd.read()).subarray(1);
      assertMask(got, ref.firstK(order, Math.floor(size / 3)), cols, `vec4 reads, mask at offset 1, ${rows}x${cols}`);
      c.release();
    }
  }
});

gpuTest(
  "kSmallestMask with writeCols writes only the mask's first columns, selecting over the whole view",
  async (gpu) => {
    // random scores (no ties to rank: the later columns are skipped) and a handful of values (ties
    // ranked across the skipped columns); scalar and vec4 kernels; GPU k
    for (
      const [rows, cols, windowed] of [[37, 44, "vec4"], [29, 23, true], [300, 513, true], [300, 512, false]] as const
    ) {
      const size = rows * cols;
      for (const data of [randn(size, rows), drawn(size, [-1, 0, 0.5, 2], cols)]) {
        const order = ref.selectionOrder(data);
        for (const writeCols of [0, 4, cols - (cols % 4 === 0 ? 4 : 3), cols]) {
          for (const k of [1, Math.floor(size / 2), size]) {
            const c = setup(gpu, data, rows, cols, windowed);
            await kSmallestMask(c.scores, k, c.mask, { writeCols });
            const got = await c.readMask(), want = ref.firstK(order, k);
            for (let i = 0; i < size; i++) {
              const expected = i % cols < writeCols ? want[i] : OUTSIDE_MASK;
              if (got[i] !== expected) {
                throw new Error(
                  `${rows}x${cols}, writeCols ${writeCols}, k=${k}: mask[${i}] = ${got[i]}, expected ${expected}`,
                );
              }
            }
            c.release();
          }
        }
      }
    }
  },
);

/** The bracket's copy of the last selection's state: [MODE, WIDTH] (shaders/lib/select_state.wgsl). */
async function bracketMode(b: SelectBracket): Promise<[number, number]> {
  const st = await b.state.read();
  return [st[6], st[9]];
}
const MODE_FULL = 0, MODE_CANDIDATES = 1;

gpuTest(
  "kSmallestMask with a SelectBracket gives the same masks, reading only the bracket when the threshold stays near",
  async (gpu) => {
    // a sequence of selections as Thanos makes them (the scores drift, k moves a little): the bracket
    // must hit after the first, and every mask equal the reference; then a far jump (miss: the
    // passes read everything, the width doubles), ties at the threshold inside the bracket (ranked by
    // the full tie count), more keys in the bracket than it can hold (all equal), k = 0, k = size,
    // and a selection after k = 0 (no threshold to bracket); scalar and vec4 kernels; GPU k
    for (const [rows, cols, windowed] of [[300, 512, "vec4"], [129, 133, true]] as const) {
      const size = rows * cols;
      const base = randn(size, rows + cols);
      const c = setup(gpu, base, rows, cols, windowed);
      using bracket = new SelectBracket(gpu, "bracket");
      const check = async (data: Float32Array, k: number | Tensor<"u32">, kValue: number, what: string) => {
        c.scores.tensor.write(placed(data, c, rows, cols));
        await kSmallestMask(c.scores, k, c.mask, { bracket });
        assertMask(await c.readMask(), ref.firstK(ref.selectionOrder(data), kValue), cols, `${rows}x${cols} ${what}`);
        return await bracketMode(bracket);
      };
      const drift = (t: number) => base.map((x, i) => Math.abs(x) * (1 + 0.002 * t) + 1e-4 * Math.sin(i + t));
      let k = Math.floor(size / 2);
      assertEquals((await check(drift(0), k, k, "first selection"))[0], MODE_FULL);
      for (let t = 1; t <= 3; t++) {
        k -= 7 * t;
        const [mode] = await check(drift(t), k, k, `drift ${t}`);
        assertEquals(mode, MODE_CANDIDATES, `drift ${t}: the k-th score lies in the bracket`);
      }
      const [, width] = await bracketMode(bracket);
      assert(width < 1 << 18, `after hits the bracket narrows towards n / 256 keys (width ${width})`);
      const [farMode, farWidth] = await check(drift(3).map((x) => x * 100), k, k, "far jump");
      assertEquals([farMode, farWidth], [MODE_FULL, 2 * width]);
      // ties: 200 copies of the threshold of a selection (the bracket's centre), k inside their run
      // (after the misses the bracket is wide: too many keys fall inside, and it halves until they fit)
      const tied = drift(4);
      let recentred = 0;
      while ((await check(tied, k, k, `re-centre ${recentred}`))[0] !== MODE_CANDIDATES) {
        assert(++recentred < 6, "the bracket narrows until the keys inside fit");
      }
      const value = tied[ref.selectionOrder(tied)[k - 1]];
      for (let i = 0; i < 200; i++) tied[(i * 7919) % size] = value;
      const order = ref.selectionOrder(tied);
      const kTie = order.findIndex((j) => tied[j] === value) + 100;
      const [tieMode] = await check(tied, kTie, kTie, "ties inside the bracket");
      assertEquals(tieMode, MODE_CANDIDATES);
      const equal = new Float32Array(size).fill(value);
      assertEquals((await check(equal, kTie, kTie, "all equal: the bracket overflows"))[0], MODE_FULL);
      await check(equal, 0, 0, "k = 0");
      await check(drift(5), size, size, "after k = 0 (nothing to bracket)");
      using kt = upload(gpu, new Uint32Array([size - 3]), [1], "k");
      await check(drift(5), kt, size - 3, "GPU k");
      c.release();
    }
  },
);

gpuTest(
  "kSmallestMask gives the same masks with a GPU's launch shapes (4096 workgroups, 256-wide single-workgroup steps)",
  async (gpu) => {
    // on llvmpipe the selection launches a few workgroups and 64-wide single-workgroup steps
    // (maxWorkgroups, singleWorkgroupSize); here the shapes a GPU gets, on whatever adapter runs this
    const info = gpu.info;
    const gpuShapes = { ...info, isFallback: false };
    (gpu as { info: typeof info }).info = gpuShapes;
    try {
      assertEquals([maxWorkgroups(gpu), singleWorkgroupSize(gpu)], [4096, 256]);
      for (const [rows, cols, windowed] of [[129, 129, false], [300, 512, "vec4"], [1000, 1000, true]] as const) {
        const size = rows * cols;
        const base = randn(size, rows * 7 + cols);
        const c = setup(gpu, base, rows, cols, windowed);
        using bracket = new SelectBracket(gpu, "bracket");
        for (let t = 0; t < 3; t++) {
          const data = base.map((x, i) => Math.abs(x) * (1 + 0.002 * t) + 1e-4 * Math.sin(i + t));
          c.scores.tensor.write(placed(data, c, rows, cols));
          for (const k of [0, Math.floor(size / 2) - 7 * t, size]) {
            await kSmallestMask(c.scores, k, c.mask, k === 0 || k === size ? {} : { bracket });
            assertMask(
              await c.readMask(),
              ref.firstK(ref.selectionOrder(data), k),
              cols,
              `${rows}x${cols} t=${t} k=${k}`,
            );
          }
        }
        assertEquals(
          (await bracketMode(bracket))[0],
          MODE_CANDIDATES,
          `${rows}x${cols}: the last selections bracketed`,
        );
        c.release();
      }
    } finally {
      (gpu as { info: typeof info }).info = info;
    }
  },
);

gpuTest(
  "kSmallestMask with `wanda` writes the Wanda scores itself, from the weights on demand when bracketing: the same masks and scores",
  async (gpu) => {
    // Thanos's dynamic mask: a drifting sequence over W[:, i1:] of a vec4 window with a bracket (the
    // walk computes the scores from the weights; they are written only for the mask's columns unless
    // the bracket misses or ties must be ranked), against the reference over f32 Wanda scores; then
    // a far jump (a miss: every score written) and ties at the threshold (ranked: every score written)
    const rows = 61, cols = 136, layerCols = 144, colOffset = 8;
    const norms = new Float32Array(layerCols).map((_, j) => 0.5 + ((j * 37) % 11) / 7);
    using normsT = upload(gpu, norms, [layerCols], "norms");
    const base = randn(rows * cols, 11);
    const c = setup(gpu, new Float32Array(rows * cols), rows, cols, "vec4"); //  scores (written by the call)
    const w = setup(gpu, base, rows, cols, "vec4"); //                            the weights, same window
    using bracket = new SelectBracket(gpu, "bracket");
    const wandaOf = (data: Float32Array) =>
      data.map((x, i) => Math.fround(Math.abs(x) * Math.fround(Math.sqrt(norms[colOffset + (i % cols)]))));
    const check = async (data: Float32Array, k: number, writeCols: number, what: string) => {
      w.scores.tensor.write(placed(data, w, rows, cols));
      c.scores.tensor.write(placed(new Float32Array(rows * cols).fill(-1), c, rows, cols)); // stale scores
      const wanda = { weight: w.scores, norms: normsT, colOffset };
      await kSmallestMask(c.scores, k, c.mask, { bracket, writeCols, wanda });
      const scores = wandaOf(data);
      const want = ref.firstK(ref.selectionOrder(scores), k);
      const got = await c.readMask();
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < writeCols; j++) {
          if (got[i * cols + j] !== want[i * cols + j]) throw new Error(`${what}: mask (${i}, ${j}) differs`);
        }
      }
      const [mode] = await bracketMode(bracket);
      const all = await c.scores.tensor.read();
      let written = 0;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const v = all[c.scores.offset + i * c.scores.ld + j];
          if (v !== -1) {
            assertEquals(v, scores[i * cols + j], `${what}: score (${i}, ${j})`);
            written++;
          }
        }
      }
      return { mode, written };
    };
    const drift = (t: number) => base.map((x, i) => x * (1 + 0.002 * t) + 1e-4 * Math.sin(i + t));
    let k = Math.floor(rows * cols / 2);
    assertEquals((await check(drift(0), k, 16, "first (no bracket yet)")).written, rows * cols);
    for (let t = 1; t <= 3; t++) {
      k -= 5 * t;
      const { mode, written } = await check(drift(t), k, 16, `drift ${t}`);
      assertEquals([mode, written], [MODE_CANDIDATES, rows * 16], `drift ${t}: bracketed, the mask's columns written`);
    }
    const far = await check(drift(3).map((x) => x * 100), k, 16, "far jump");
    assertEquals([far.mode, far.written], [MODE_FULL, rows * cols], "a miss writes every score");
    let settle = 0;
    while ((await check(drift(4), k, 16, `re-centre ${settle}`)).mode !== MODE_CANDIDATES) {
      assert(++settle < 6, "the bracket narrows until the keys inside fit");
    }
    // ties: copies of the weight whose score is the k-th, in the same column (the same norm)
    const tied = drift(4);
    const order = ref.selectionOrder(wandaOf(tied));
    const at = order[k - 1];
    for (let r = 0; r < rows; r += 3) tied[r * cols + (at % cols)] = tied[at];
    const kTie = ref.selectionOrder(wandaOf(tied)).findIndex((j) => wandaOf(tied)[j] === wandaOf(tied)[at]) + 5;
    const ties = await check(tied, kTie, 16, "ties at the threshold");
    assertEquals([ties.mode, ties.written], [MODE_CANDIDATES, rows * cols], "ranked ties: every score written");
    assertEquals((await check(drift(5), k, cols, "every column written")).written, rows * cols);
    c.release();
    w.release();
  },
);

gpuTest(
  "kSmallestMask with `wanda`: where the walk cannot also bind the scores (too many chunks), a separate pass writes them; the same masks and scores",
  async (gpu) => {
    // weights, scores and mask of ~7 binding-limit chunks each: the walk would need 7 + 7 + 4 storage
    // bindings, more than llvmpipe's 16 (and WebGPU's guaranteed 8), so it leaves the scores to wandaScores
    const rows = 97, cols = 136, layerCols = 144, colOffset = 8, writeCols = 16;
    const norms = new Float32Array(layerCols).map((_, j) => 0.5 + ((j * 29) % 13) / 5);
    using normsT = upload(gpu, norms, [layerCols], "norms");
    const data = randn(rows * cols, 31);
    const run = async (limit: number | null) => {
      const c = setup(gpu, new Float32Array(rows * cols), rows, cols, "vec4");
      const w = setup(gpu, data, rows, cols, "vec4");
      c.scores.tensor.write(placed(new Float32Array(rows * cols).fill(-1), c, rows, cols));
      using bracket = new SelectBracket(gpu, "bracket");
      const wanda = { weight: w.scores, norms: normsT, colOffset };
      const k = Math.floor(rows * cols * 0.45);
      const go = async () => {
        await kSmallestMask(c.scores, k, c.mask, { bracket, writeCols, wanda }); // full: sets the bracket
        c.scores.tensor.write(placed(new Float32Array(rows * cols).fill(-1), c, rows, cols));
        await kSmallestMask(c.scores, k - 40, c.mask, { bracket, writeCols, wanda }); // bracketed, on demand
      };
      if (limit === null) await go();
      else {
        const sizes = [w.scores.tensor, c.scores.tensor].map((t) => t.buffer.size);
        await withBindingLimit(gpu, limit, async () => {
          assertEquals(storageBindingsFor(gpu, sizes) + 4 > gpu.limits.maxStorageBuffersPerShaderStage, true);
          await go();
        });
      }
      const [mode] = await bracketMode(bracket);
      const out = { mask: Array.from(await c.readMask()), scores: Array.from(await c.scores.tensor.read()), mode };
      c.release();
      w.release();
      return out;
    };
    const whole = await run(null);
    const bytes = setup(gpu, new Float32Array(rows * cols), rows, cols, "vec4");
    const limit = Math.ceil(bytes.scores.tensor.buffer.size / 6.5 / 256) * 256; // 7 chunks a tensor
    bytes.release();
    const split = await run(limit);
    assertEquals(whole.mode, MODE_CANDIDATES);
    assertEquals(split, whole);
    const want = ref.firstK(
      ref.selectionOrder(
        data.map((x, i) => Math.fround(Math.abs(x) * Math.fround(Math.sqrt(norms[colOffset + (i % cols)])))),
      ),
      Math.floor(rows * cols * 0.45) - 40,
    );
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < writeCols; j++) {
        if (whole.mask[i * cols + j] !== want[i * cols + j]) {
          throw new Error(`mask (${i}, ${j}) differs from the reference`);
        }
      }
    }
  },
);

gpuTest(
  "SelectBracket.seed: a sample's quantile places the first bracket, and the first selection brackets",
  async (gpu) => {
    // every 16th row of 600x512 scores (19,456 samples): the whole's k-th smallest lies in the bracket
    // around the sample's, so the first selection reads only the scores near it; the mask is exact
    // either way, and a far-off sample (a miss) gives the same mask
    const rows = 600, cols = 512, every = 16, sampleRows = Math.ceil(rows / every);
    const data = randn(rows * cols, 21);
    const c = setup(gpu, data, rows, cols, "vec4");
    const strided = (v: MatrixView): MatrixView => ({ ...v, rows: sampleRows, ld: v.ld * every });
    const k = Math.floor(rows * cols * 0.4);
    const want = ref.firstK(ref.selectionOrder(data), k);
    for (const shift of [0, 50]) {
      using bracket = new SelectBracket(gpu, "bracket");
      if (shift) {
        c.scores.tensor.write(
          placed(data.map((x, i) => Math.floor(i / cols) % every === 0 ? x + shift : x), c, rows, cols),
        );
      }
      await bracket.seed(strided(c.scores), Math.round(k * sampleRows / rows), strided(c.mask));
      assertEquals(bracket.used, true);
      c.scores.tensor.write(placed(data, c, rows, cols));
      await kSmallestMask(c.scores, k, c.mask, { bracket });
      assertMask(await c.readMask(), want, cols, `seeded (sample shifted by ${shift})`);
      assertEquals((await bracketMode(bracket))[0], shift ? MODE_FULL : MODE_CANDIDATES, `shift ${shift}`);
      await assertRejects(
        () => bracket.seed(strided(c.scores), 1, strided(c.mask)),
        Error,
        "has seen a selection already",
      );
    }
    c.release();
  },
);

/** `data` (the view's rows x cols) placed in a copy of the case's whole scores tensor (sentinels around it). */
function placed(data: Float32Array, c: Case, rows: number, cols: number): Float32Array {
  const { offset, ld } = c.scores;
  const full = new Float32Array(c.scores.tensor.size).fill(OUTSIDE_SCORE);
  for (let i = 0; i < rows; i++) full.set(data.subarray(i * cols, (i + 1) * cols), offset + i * ld);
  return full;
}

gpuTest("kSmallestMask reads k from a GPU tensor, clamping k > size to everything", async (gpu) => {
  const [rows, cols] = [129, 129];
  const data = drawn(rows * cols, [-1, 0, 1, 2], 9);
  const order = ref.selectionOrder(data);
  const c = setup(gpu, data, rows, cols, true);
  const k = empty(gpu, [1], "u32", "k");
  for (const value of [0, 1, 4000, rows * cols, rows * cols + 5, 0xffffffff]) {
    k.write(new Uint32Array([value]));
    await kSmallestMask(c.scores, k, c.mask);
    assertMask(await c.readMask(), ref.firstK(order, Math.min(value, rows * cols)), cols, `GPU k=${value}`);
  }
  // several selections recorded back to back, each reading its own k, with no readback between
  const ks = [17, 5000, 9].map((v) => upload(gpu, new Uint32Array([v]), [1], "k"));
  const masks = ks.map(() => empty(gpu, [rows, cols], "u32", "mask"));
  const scores = upload(gpu, data, [rows, cols], "scores");
  for (let i = 0; i < ks.length; i++) await kSmallestMask(mat(scores), ks[i], mat(masks[i]));
  for (let i = 0; i < ks.length; i++) {
    assertMask(await masks[i].read(), ref.firstK(order, [17, 5000, 9][i]), cols, `chained GPU k #${i}`);
  }
  for (const t of [k, scores, ...ks, ...masks]) t.release();
  c.release();
});

gpuTest("kSmallestMask with a budget selects max(0, target − spent) on the GPU", async (gpu) => {
  const [rows, cols] = [65, 67];
  const data = drawn(rows * cols, [-1, 0, 1, 2], 13);
  const order = ref.selectionOrder(data);
  const c = setup(gpu, data, rows, cols, false);
  using spent = empty(gpu, [1], "u32", "spent");
  const n = rows * cols;
  for (const [target, used] of [[100, 0], [100, 37], [37, 100], [n, 0], [n + 9, 4], [0xffffffff, 1], [5, 0xffffffff]]) {
    spent.write(new Uint32Array([used]));
    await kSmallestMask(c.scores, { target, spent }, c.mask);
    const k = Math.min(Math.max(0, target - used), n);
    assertMask(await c.readMask(), ref.firstK(order, k), cols, `target ${target}, spent ${used}`);
  }
  await assertRejects(
    () => kSmallestMask(c.scores, { target: -1, spent }, c.mask),
    RangeError,
    "kSmallestMask: budget target = -1; expected an integer in [0, 4294967295]",
  );
  c.release();
});

gpuTest("kSmallestMask rejects bad arguments with messages that name them", async (gpu) => {
  const s = empty(gpu, [2, 3], "f32", "s");
  const m = empty(gpu, [2, 3], "u32", "m");
  await assertRejects(
    () => kSmallestMask(mat(s), 7, mat(m)),
    RangeError,
    'kSmallestMask: k = 7 is outside [0, 6] for scores "s"[0:2, 0:3] (2x3)',
  );
  await assertRejects(() => kSmallestMask(mat(s), -1, mat(m)), RangeError, "kSmallestMask: k = -1 is outside [0, 6]");
  await assertRejects(() => kSmallestMask(mat(s), 1.5, mat(m)), RangeError, "kSmallestMask: k = 1.5 is outside [0, 6]");
  await assertRejects(() => kSmallestMask(mat(s), NaN, mat(m)), RangeError, "kSmallestMask: k = NaN is outside [0, 6]");
  await assertRejects(
    () => kSmallestMask(mat(s), 1, mat(m), { writeCols: 4 }),
    RangeError,
    "kSmallestMask: writeCols = 4 is outside [0, 3] (the columns of the view)",
  );
  const m2 = empty(gpu, [3, 2], "u32", "m2");
  await assertRejects(
    () => kSmallestMask(mat(s), 1, mat(m2)),
    RangeError,
    "kSmallestMask: scores is 2x3 but mask is 3x2; expected the same shape",
  );
  await assertRejects(
    () => kSmallestMask(mat(m), 1, mat(m)),
    TypeError,
    'kSmallestMask: scores "m"[0:2, 0:3] (2x3) is u32; expected f32',
  );
  await assertRejects(
    () => kSmallestMask(mat(s), 1, mat(s)),
    TypeError,
    'kSmallestMask: mask "s"[0:2, 0:3] (2x3) is f32; expected u32',
  );
  const kf = empty(gpu, [1], "f32", "kf");
  await assertRejects(
    () => kSmallestMask(mat(s), kf as never, mat(m)),
    TypeError,
    'kSmallestMask: k "kf" is f32; expected u32',
  );
  const bad = { tensor: s, offset: 1, rows: 2, cols: 3, ld: 3 };
  await assertRejects(
    () => kSmallestMask(bad, 1, mat(m)),
    RangeError,
    'kSmallestMask: scores (offset 1, 2x3, ld 3) ends at element 7 but "s" has only 6',
  );
  for (const t of [s, m, m2, kf]) t.release();
});

// ---------------------------------------------------------------------------------------------
// rowKSmallestMask

const ROW_SHAPES: [number, number][] = [[1, 1], [7, 7], [129, 129], [513, 7], [1000, 1000], [3, 4099]];

for (const [rows, cols] of ROW_SHAPES) {
  gpuTest(`rowKSmallestMask matches the reference on ${rows}x${cols}`, async (gpu) => {
    const data = randn(rows * cols, 7 * rows + cols);
    const c = setup(gpu, data, rows, cols);
    for (const k of new Set([0, 1, cols - 1, cols, Math.floor(cols / 2)])) {
      await rowKSmallestMask(c.scores, k, c.mask);
      assertMask(await c.readMask(), ref.rowKSmallestMask(data, rows, cols, k), cols, `${rows}x${cols}, k=${k}`);
    }
    c.release();
  });
}

gpuTest("rowKSmallestMask breaks ties by column, on windows, with −0, NaN and infinities", async (gpu) => {
  const cases: [number, number, readonly number[]][] = [
    [129, 129, [-1, -0, 0, 2]],
    [300, 1000, [0.5, 1.5]],
    [64, 33, [NaN, Infinity, -Infinity, -0, 0, 1]],
    [5, 40, [4]],
  ];
  for (const [rows, cols, values] of cases) {
    const data = drawn(rows * cols, values, rows * cols);
    const c = setup(gpu, data, rows, cols, true);
    for (const k of [1, Math.floor(cols / 3), Math.floor(cols / 2), cols - 1]) {
      await rowKSmallestMask(c.scores, k, c.mask);
      assertMask(await c.readMask(), ref.rowKSmallestMask(data, rows, cols, k), cols, `${rows}x${cols} ties, k=${k}`);
    }
    c.release();
  }
});

gpuTest("rowKSmallestMask rejects bad arguments with messages that name them", async (gpu) => {
  const s = empty(gpu, [2, 3], "f32", "s");
  const m = empty(gpu, [2, 3], "u32", "m");
  await assertRejects(
    () => rowKSmallestMask(mat(s), 4, mat(m)),
    RangeError,
    'rowKSmallestMask: k = 4 is outside [0, 3] (the row length of scores "s"[0:2, 0:3] (2x3))',
  );
  await assertRejects(
    () => rowKSmallestMask(mat(s), -1, mat(m)),
    RangeError,
    "rowKSmallestMask: k = -1 is outside [0, 3]",
  );
  const m2 = empty(gpu, [2, 2], "u32", "m2");
  await assertRejects(
    () => rowKSmallestMask(mat(s), 1, mat(m2)),
    RangeError,
    "rowKSmallestMask: scores is 2x3 but mask is 2x2; expected the same shape",
  );
  for (const t of [s, m, m2]) t.release();
});

// ---------------------------------------------------------------------------------------------
// nmMask

const NM_SHAPES: [number, number][] = [[1, 24], [7, 24], [129, 48], [513, 24], [1000, 96]];
const NM_PATTERNS: [number, number][] = [[2, 4], [4, 8], [1, 3], [0, 4]];

for (const [rows, cols] of NM_SHAPES) {
  gpuTest(`nmMask 2:4, 4:8, 1:3, 0:4 match the reference on ${rows}x${cols}`, async (gpu) => {
    const data = randn(rows * cols, rows * 3 + cols);
    const c = setup(gpu, data, rows, cols);
    for (const [n, m] of NM_PATTERNS) {
      await nmMask(c.scores, n, m, c.mask);
      assertMask(await c.readMask(), ref.nmMask(data, rows, cols, n, m), cols, `${rows}x${cols} ${n}:${m}`);
    }
    c.release();
  });
}

gpuTest("nmMask breaks ties by column, on windows, with −0, NaN and infinities", async (gpu) => {
  const cases: [number, number, readonly number[]][] = [
    [129, 48, [-1, -0, 0, 2]],
    [64, 24, [NaN, Infinity, -Infinity, -0, 0, 1]],
    [7, 24, [3]],
  ];
  for (const [rows, cols, values] of cases) {
    const data = drawn(rows * cols, values, rows + cols);
    const c = setup(gpu, data, rows, cols, true);
    for (const [n, m] of NM_PATTERNS) {
      await nmMask(c.scores, n, m, c.mask);
      assertMask(await c.readMask(), ref.nmMask(data, rows, cols, n, m), cols, `${rows}x${cols} ties ${n}:${m}`);
    }
    c.release();
  }
});

gpuTest("nmMask rejects bad arguments with messages that name them", async (gpu) => {
  const s = empty(gpu, [2, 6], "f32", "s");
  const m = empty(gpu, [2, 6], "u32", "m");
  await assertRejects(
    () => nmMask(mat(s), 2, 4, mat(m)),
    RangeError,
    'nmMask: cols = 6 is not a multiple of m = 4 (scores "s"[0:2, 0:6] (2x6))',
  );
  await assertRejects(
    () => nmMask(mat(s), 3, 3, mat(m)),
    RangeError,
    "nmMask: n = 3 with m = 3; expected an integer n with 0 <= n < m",
  );
  await assertRejects(
    () => nmMask(mat(s), -1, 3, mat(m)),
    RangeError,
    "nmMask: n = -1 with m = 3; expected an integer n with 0 <= n < m",
  );
  await assertRejects(() => nmMask(mat(s), 0, 0, mat(m)), RangeError, "nmMask: m = 0; expected a positive integer");
  const m2 = empty(gpu, [2, 3], "u32", "m2");
  await assertRejects(
    () => nmMask(mat(s), 1, 3, mat(m2)),
    RangeError,
    "nmMask: scores is 2x6 but mask is 2x3; expected the same shape",
  );
  for (const t of [s, m, m2]) t.release();
});
