/**
 * NaN/Inf checks of a model on the GPU:
 *
 * - **Weights, when loaded.** Every tensor uploaded from the checkpoint is checked with one
 *   reduction (shaders/first_nonfinite.wgsl) and one readback per load (the resident weights at
 *   `init`, each block's weights when it is loaded): {@link checkGlobalWeights},
 *   {@link checkBlockWeights}. The error names the tensor and the first bad index in the
 *   checkpoint's own layout (a Conv1D weight's [in, out] included).
 * - **Activations, at block boundaries.** {@link ActivationWatch} keeps a flag for each block's
 *   output and for every linear group's input, with no readback: either the same reduction
 *   records it ({@link ActivationWatch.record}), or the kernel that writes the activation does in
 *   its own pass, given the slot ({@link ActivationWatch.slot}: LLaMA's RMSNorm, attention, SwiGLU
 *   and residual add; where LLaMA's residual is a product accumulated onto the stream, the
 *   reduction runs after it). The flags are read with the forward pass's own NLL readback (or by
 *   `checkActivations`), and the first bad one names the block and the layer that read (or the
 *   block that produced) it.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { type Tensor, zeros } from "../gpu/tensor.ts";
import {
  checkFinite,
  decodeFirstNonFinite,
  type FiniteCheckItem,
  matrixIndex,
  NonFiniteError,
  recordFirstNonFinite,
} from "../linalg/finite.ts";
import type { LinearGroup } from "./forward.ts";
import type { BlockWeights, GlobalWeights, LinearWeights, NormWeights } from "./weights.ts";
import type { BlockLayout, LinearLayer, ModelLayout, NormLayer } from "./layout.ts";
import type { FiniteSlot, RowChunks } from "./ops.ts";

function linearItems(layer: LinearLayer, w: LinearWeights): FiniteCheckItem[] {
  const { outFeatures: out, inFeatures: inF } = layer;
  // a weight kept in halves was checked on its stored bits when loaded (weights.ts); one held
  // compressed has only its values to check (the index or mask is bits)
  const items: FiniteCheckItem[] = w.weight
    ? [{
      name: layer.weight,
      tensor: w.weight,
      // uploaded as [out, in]; a Conv1D checkpoint stores [in, out]
      where: layer.transposed ? (i) => `[${i % inF}, ${Math.floor(i / inF)}]` : matrixIndex(inF),
    }]
    : w.sparse
    ? [{ name: layer.weight, tensor: w.sparse.values, where: (i) => `(non-zero value ${i} in row order)` }]
    : [];
  if (layer.bias && w.bias) items.push({ name: layer.bias, tensor: w.bias });
  void out;
  return items;
}

function normItems(layer: NormLayer, w: NormWeights): FiniteCheckItem[] {
  const items: FiniteCheckItem[] = [];
  if (layer.weight) items.push({ name: layer.weight, tensor: w.weight }); // not the generated ones
  if (layer.bias && w.bias) items.push({ name: layer.bias, tensor: w.bias });
  return items;
}

function chunkItems(name: string, chunks: RowChunks): FiniteCheckItem[] {
  return chunks.chunks.map(({ lo, tensor }) => ({ name, tensor, where: matrixIndex(chunks.cols, lo) }));
}

/**
 * Checks the resident weights (embeddings, positions, projections, final norm, LM head).
 * @throws NonFiniteError naming the tensor and its first NaN/Inf
 */
export async function checkGlobalWeights(gpu: Gpu, layout: ModelLayout, g: GlobalWeights, what: string): Promise<void> {
  const items = [
    ...chunkItems(layout.tokenEmbedding.name, g.tokenEmbedding),
    ...(layout.positionEmbedding && g.positionEmbedding
      ? chunkItems(layout.positionEmbedding.name, g.positionEmbedding)
      : []),
    ...(layout.projectIn && g.projectIn ? linearItems(layout.projectIn, g.projectIn) : []),
    ...(layout.projectOut && g.projectOut ? linearItems(layout.projectOut, g.projectOut) : []),
    ...(layout.finalNorm && g.finalNorm ? normItems(layout.finalNorm, g.finalNorm) : []),
    ...(layout.lmHead.tied ? [] : chunkItems(layout.lmHead.weight, g.lmHead)),
  ];
  await checkFinite(gpu, items, what);
}

/**
 * Checks one block's weights as loaded, except the linear weights in `skip` (modified weights
 * restored from the CPU after an eviction: checked when first loaded).
 * @throws NonFiniteError naming the tensor and its first NaN/Inf
 */
export async function checkBlockWeights(
  gpu: Gpu,
  layout: BlockLayout,
  w: BlockWeights,
  what: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<void> {
  const items = [
    ...normItems(layout.attentionNorm, w.attentionNorm),
    ...normItems(layout.mlpNorm, w.mlpNorm),
    ...layout.linears.filter((l) => !skip.has(l.weight)).flatMap((l) => linearItems(l, w.linears.get(l.name)!)),
  ];
  await checkFinite(gpu, items, what);
}

/**
 * Watches a model's activations for NaN/Inf at block boundaries: slot (block, group) for the input
 * of each linear group, slot (block, groups) for the block's output. Recording costs one
 * reduction over the activation (a read of it; no readback); {@link check} reads all slots.
 */
export class ActivationWatch implements Disposable {
  readonly flags: Tensor<"u32">;
  #dirty = false;

  /**
   * @param hiddenSize columns of a block's output
   */
  constructor(
    gpu: Gpu,
    readonly numBlocks: number,
    readonly groups: readonly LinearGroup[],
    readonly hiddenSize: number,
  ) {
    this.flags = zeros(gpu, [numBlocks * (groups.length + 1)], "u32", "activation checks");
  }

  /** Records the input of `group` (or, with group null, the output) of block `b`. */
  async record(b: number, group: LinearGroup | null, x: Tensor): Promise<void> {
    await recordFirstNonFinite(x, this.flags, this.#slot(b, group));
    this.#dirty = true;
  }

  /**
   * The slot of the input of `group` (or, with group null, the output) of block `b`, for a kernel
   * that checks what it writes itself (e.g. `gatedActivationRows`) instead of {@link record}; the
   * flags count as recorded from now on.
   */
  slot(b: number, group: LinearGroup | null): FiniteSlot {
    this.#dirty = true;
    return { flags: this.flags, slot: this.#slot(b, group) };
  }

  #slot(b: number, group: LinearGroup | null): number {
    return b * (this.groups.length + 1) + (group === null ? this.groups.length : this.groups.indexOf(group));
  }

  /** Reads and checks the flags (one readback; none when nothing was recorded since the last). */
  async check(batchInfo?: { seqLen: number }): Promise<void> {
    if (!this.#dirty) return;
    this.verify(await this.flags.read(), batchInfo);
  }

  /**
   * Checks flags already read (e.g. with the NLL values, in one round trip); clears them.
   * @param values what `flags.read()` returned
   * @param shape the window length, to name the window and position of a bad row
   * @throws NonFiniteError naming the first block (and layer) whose activation holds a NaN/Inf
   */
  verify(values: Uint32Array, shape?: { seqLen: number }): void {
    this.#dirty = false;
    const bad = values.findIndex((v) => v !== 0);
    if (bad < 0) return;
    this.flags.gpu.recorder.clear(this.flags.buffer, this.flags.byteLength);
    const per = this.groups.length + 1;
    const b = Math.floor(bad / per), g = bad % per;
    const group = g < this.groups.length ? this.groups[g] : null;
    const i = decodeFirstNonFinite(values[bad]);
    const cols = group ? group.inFeatures : this.hiddenSize;
    const where = shape
      ? `window ${Math.floor(Math.floor(i / cols) / shape.seqLen)}, position ${
        Math.floor(i / cols) % shape.seqLen
      }, feature ${i % cols}`
      : `row ${Math.floor(i / cols)}, feature ${i % cols}`;
    const what = group
      ? `the input of ${group.names.join(", ")} (${group.input}), computed by the layers before it`
      : "its output";
    throw new NonFiniteError(
      `activations became non-finite in block ${b}: ${what} holds a NaN or infinite value at ${where}`,
    );
  }

  [Symbol.dispose](): void {
    this.flags.release();
  }
}
