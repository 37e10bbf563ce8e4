/**
 * `loadModel`: a checkpoint directory or `hf:` id → the {@link CausalLM} of its family.
 *
 * @module
 */

import { getGpu, type Gpu } from "../gpu/device.ts";
import { type Checkpoint, openCheckpoint } from "./checkpoint.ts";
import type { ModelFamily } from "./config.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { CausalLM, DecoderModel, ModelOptions } from "./forward.ts";
import { Gpt2Model } from "./gpt2.ts";
import type { HubOptions } from "./hub.ts";
import { LlamaModel } from "./llama.ts";
import { OptModel } from "./opt.ts";

/** The one table of model families: `model_type` → implementation. */
const FAMILIES: Record<ModelFamily, new (checkpoint: Checkpoint, gpu: Gpu, options: ModelOptions) => DecoderModel> = {
  llama: LlamaModel,
  opt: OptModel,
  gpt2: Gpt2Model,
};

/** Options of {@link loadModel}. */
export interface LoadModelOptions extends ModelOptions {
  /** the GPU to load onto (default: the shared one) */
  gpu?: Gpu;
  /** cache, token, timeout and offline settings for `hf:` ids */
  hub?: HubOptions;
}

/**
 * Opens a checkpoint (validating config and tensor shapes), uploads the embeddings, final norm and
 * LM head, and returns its model. Decoder blocks load lazily, on first use.
 *
 * @param source a Hugging Face checkpoint directory, `hf:ORG/NAME[@REV]`, or an opened {@link Checkpoint}
 * @param options `streaming` (one block on the GPU at a time), chunk sizes, GPU, hub settings
 * @returns the model; call `release()` when done
 * @throws Error for a missing config.json or weights, an unsupported model_type (listing the
 *   supported ones), or a tensor missing or of the wrong shape
 * @example
 * ```ts
 * const model = await loadModel("models/tiny-llama");
 * const ids = new Uint32Array(256);                      // one window of 256 tokens
 * let x = await model.embed(ids, 1, 256);
 * for (let b = 0; b < model.numBlocks; b++) {
 *   const next = await model.runBlock(b, x, 1, 256);
 *   x.release();
 *   x = next;
 * }
 * const nll = await model.nll(x, ids, 1, 256);         // 255 values
 * ```
 */
export async function loadModel(source: string | Checkpoint, options: LoadModelOptions = {}): Promise<CausalLM> {
  const checkpoint = typeof source === "string" ? await openCheckpoint(source, options.hub) : source;
  const gpu = options.gpu ?? await getGpu();
  const model = new FAMILIES[checkpoint.config.family](checkpoint, gpu, options);
  try {
    await model.init();
  } catch (err) {
    model.release();
    throw err;
  }
  return model;
}

/**
 * Embeds `ids`, runs every block and returns the next-token NLL of each window — the whole
 * forward pass, for evaluation and tests.
 *
 * @param model the model
 * @param ids [batch·seqLen] token ids, window-major
 * @returns [batch·(seqLen−1)] NLL values (nats)
 * @example
 * ```ts
 * const nll = await forwardNll(model, windows.tokens, windows.count, windows.seqlen);
 * ```
 */
export async function forwardNll(
  model: CausalLM,
  ids: Uint32Array,
  batch: number,
  seqLen: number,
): Promise<Float32Array> {
  const x = await forwardHidden(model, ids, batch, seqLen);
  try {
    return await model.nll(x, ids, batch, seqLen);
  } finally {
    x.release();
  }
}

/**
 * Embeds `ids` and runs every block: the hidden states entering the final norm.
 * @param model the model
 * @param ids [batch·seqLen] token ids, window-major
 * @returns f32 [batch·seqLen, hiddenSize]; release it when done
 * @example
 * ```ts
 * const x = await forwardHidden(model, ids, 1, ids.length);
 * const logits = await model.logits(x, [ids.length - 1]); // next-token logits
 * x.release();
 * ```
 */
export async function forwardHidden(model: CausalLM, ids: Uint32Array, batch: number, seqLen: number): Promise<Tensor> {
  let x = await model.embed(ids, batch, seqLen);
  for (let b = 0; b < model.numBlocks; b++) {
    try {
      const next = await model.runBlock(b, x, batch, seqLen);
      x.release();
      x = next;
    } catch (err) {
      x.release();
      throw err;
    }
  }
  return x;
}
