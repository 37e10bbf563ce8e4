/**
 * Structured pruning made physical: dropping the MLP channels whose down-projection column is zero in
 * every row gives a smaller dense model with the zero-column model's perplexity (within 1e-5), for
 * every family (LLaMA gate/up, OPT fc1 with bias, GPT-2 Conv1D c_fc/c_proj); nothing is dropped when a
 * block has no all-zero column (Thanos structured with alpha > 0).
 */
import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { gpuTest } from "./util.ts";
import { TINY_CONFIGS, writeTinyCheckpoint } from "./tiny_models.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { forwardNll, loadModel } from "../thanos/model/load.ts";
import type { TensorInput } from "../thanos/model/safetensors.ts";
import { shrinkStructured } from "../thanos/model/shrink.ts";

/** Every tensor of a checkpoint, read into memory, with `zero` columns of each down-projection set to 0. */
async function zeroColumnModel(dir: string, zero: (block: number) => number[]): Promise<Map<string, TensorInput>> {
  const ckpt = await openCheckpoint(dir);
  const tensors = new Map<string, TensorInput>();
  for (const { name, shape } of ckpt.layout.tensors) {
    tensors.set(name, { dtype: "F32", shape, data: (await ckpt.readFloat32(name)).data });
  }
  for (const block of ckpt.layout.blocks) {
    const down = block.linears.find((l) => l.input === "mlp_hidden")!;
    const w = tensors.get(down.weight)!.data as Float32Array;
    for (const j of zero(block.index)) {
      for (let r = 0; r < down.outFeatures; r++) {
        w[down.transposed ? j * down.outFeatures + r : r * down.inFeatures + j] = 0;
      }
    }
  }
  return tensors;
}

async function perplexityOf(dir: string, ids: Uint32Array, batch: number, seqLen: number): Promise<number> {
  const model = await loadModel(dir);
  try {
    const nll = await forwardNll(model, ids, batch, seqLen);
    return Math.exp(nll.reduce((a, b) => a + b, 0) / nll.length);
  } finally {
    model.release();
  }
}

const WIDTH = { llama: "intermediate_size", opt: "ffn_dim", gpt2: "n_inner" } as const;

for (const variant of ["llama-gqa", "opt-pre-ln", "gpt2"]) {
  gpuTest(
    `shrinkStructured drops the zero MLP channels; perplexity equals the zero-column model's (${variant})`,
    async () => {
      const root = await Deno.makeTempDir({ prefix: "thanos-shrink-" });
      try {
        const { dir } = await writeTinyCheckpoint(root, variant);
        // block 0 loses 5 channels, block 1 has 6 zero columns: 5 are dropped from each
        const tensors = await zeroColumnModel(dir, (b) => b === 0 ? [0, 3, 4, 9, 17] : [1, 2, 5, 8, 13, 20]);
        const ckpt = await openCheckpoint(dir);
        const width = ckpt.config.intermediateSize;
        const shrunk = await shrinkStructured(ckpt.config, ckpt.layout, tensors);
        assertEquals(shrunk.zeroColumns, [5, 6]);
        assertEquals(shrunk.dropped, 5);
        assertEquals(shrunk.width, { before: width, after: width - 5 });
        assertEquals(shrunk.config[WIDTH[ckpt.config.family]], width - 5);
        await writeCheckpoint(join(root, "zero"), { config: { ...ckpt.config.raw }, tensors });
        await writeCheckpoint(join(root, "small"), { config: shrunk.config, tensors: shrunk.tensors });
        const small = await openCheckpoint(join(root, "small"));
        assertEquals(small.config.intermediateSize, width - 5);
        const down = small.layout.blocks[1].linears.find((l) => l.input === "mlp_hidden")!;
        const w = (await small.readFloat32(down.weight)).data;
        let zeroCols = 0; //                                block 1 keeps its sixth zero column
        for (let j = 0; j < down.inFeatures; j++) {
          let all = true;
          for (let r = 0; r < down.outFeatures; r++) {
            if (w[down.transposed ? j * down.outFeatures + r : r * down.inFeatures + j] !== 0) all = false;
          }
          if (all) zeroCols++;
        }
        assertEquals(zeroCols, 1);
        const vocab = TINY_CONFIGS[variant].vocab_size as number;
        const batch = 2, seqLen = 12;
        const ids = Uint32Array.from({ length: batch * seqLen }, (_, i) => (i * 7919 + 13) % vocab);
        const a = await perplexityOf(join(root, "zero"), ids, batch, seqLen);
        const b = await perplexityOf(join(root, "small"), ids, batch, seqLen);
        assert(Math.abs(a - b) <= 1e-5 * a, `perplexity ${a} (zero columns) vs ${b} (dropped)`);
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  );
}

Deno.test("shrinkStructured drops nothing when a block has no all-zero column (alpha > 0 keeps outlier rows dense)", async () => {
  const root = await Deno.makeTempDir({ prefix: "thanos-shrink-" });
  try {
    const { dir } = await writeTinyCheckpoint(root, "llama-gqa");
    const ckpt = await openCheckpoint(dir);
    // block 0: every column zero except in one outlier row; block 1: 4 zero columns
    const tensors = await zeroColumnModel(dir, (b) => b === 1 ? [0, 1, 2, 3] : []);
    const down = ckpt.layout.blocks[0].linears.find((l) => l.input === "mlp_hidden")!;
    const w = tensors.get(down.weight)!.data as Float32Array;
    for (let r = 1; r < down.outFeatures; r++) w.fill(0, r * down.inFeatures, (r + 1) * down.inFeatures);
    const shrunk = await shrinkStructured(ckpt.config, ckpt.layout, tensors);
    assertEquals(shrunk.dropped, 0);
    assertEquals(shrunk.zeroColumns, [0, 4]);
    assert(shrunk.tensors === tensors);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
