/**
 * One call that sets a notebook up: the checkpoint, its tokenizer, the calibration and evaluation
 * windows and the loaded model (with its GPU), for the notebook's settings — with the small
 * settings of quick mode (`THANOS_QUICK=1`, the notebook tests) applied inside, so a notebook states
 * both once and never branches on the mode itself.
 *
 * @module
 */

import {
  type Checkpoint,
  type DataSpec,
  type ExperimentData,
  type Gpu,
  loadModel,
  loadTokenizer,
  openCheckpoint,
  prepareData,
  type TextTokenizer,
} from "../thanos/mod.ts";
import type { CausalLM } from "../thanos/model/forward.ts";
import { $display, type MimeBundle } from "./display.ts";
import { quickMode } from "./env.ts";
import { table } from "./table.ts";

/** What a notebook runs on: a model and the data of {@link prepareData} (its defaults apply). */
export interface NotebookSettings extends DataSpec {
  /** a checkpoint directory (relative to notebooks/) or `hf:ORG/NAME` */
  model: string;
  /** load the model onto the GPU (default true; false when every run loads its own copy) */
  load?: boolean;
}

/** What {@link setupNotebook} returns; shown as a cell's last expression, it is a table of the settings. */
export interface NotebookSetup {
  /** whether quick mode's settings were applied */
  quick: boolean;
  /** the settings in effect (quick mode's merged over the notebook's) */
  settings: NotebookSettings;
  checkpoint: Checkpoint;
  tokenizer: TextTokenizer;
  /** `data.calibration` and `data.evaluation` windows, `data.spec` the full data settings */
  data: ExperimentData;
  /** the loaded model (throws when the settings said `load: false`) */
  model: CausalLM;
  /** the WebGPU device the model lives on */
  gpu: Gpu;
  /** releases the model's GPU memory */
  release(): void;
  [$display](): MimeBundle;
}

/**
 * Opens the checkpoint, tokenizes the corpora, samples the windows and loads the model; every
 * setting is validated first (a bad path or size fails here with the CLI's message).
 *
 * @param settings the notebook's settings
 * @param quick what quick mode (`THANOS_QUICK=1`) changes, merged over `settings`
 * @returns the model, data and GPU; its display is a table of what was set up
 * @example
 * ```ts
 * const nb = await setupNotebook({ model: "../models/tiny-llama", nsamples: 32, seqlen: 256 }, { nsamples: 8 });
 * const cap = await captureLayer(nb.model, nb.data.calibration, 1, "mlp.down_proj");
 * ```
 */
export async function setupNotebook(
  settings: NotebookSettings,
  quick: Partial<NotebookSettings> = {},
): Promise<NotebookSetup> {
  const isQuick = quickMode();
  const s: NotebookSettings = isQuick ? { ...settings, ...quick } : { ...settings };
  const checkpoint = await openCheckpoint(s.model);
  if (!checkpoint.tokenizerPath) throw new RangeError(`${checkpoint.dir} has no tokenizer; the notebooks need one`);
  const data = await prepareData(checkpoint, s);
  const tokenizer = await loadTokenizer(checkpoint.tokenizerPath);
  const model = s.load === false ? null : await loadModel(checkpoint);
  const c = checkpoint.config;
  const summary = table([{
    model: s.model,
    family: c.family,
    blocks: c.numLayers,
    hidden: c.hiddenSize,
    calibration: `${data.calibration.count} x ${data.spec.seqlen} tokens of ${data.spec.calibration}`,
    evaluation: `${data.evaluation.count} windows of ${data.spec.eval}`,
    "quick mode": isQuick,
  }], { title: "setupNotebook" });
  const loaded = (): CausalLM => {
    if (!model) throw new Error("setupNotebook: the model was not loaded (settings had load: false)");
    return model;
  };
  return {
    quick: isQuick,
    settings: s,
    checkpoint,
    tokenizer,
    data,
    get model() {
      return loaded();
    },
    get gpu() {
      return loaded().gpu;
    },
    release: () => model?.release(),
    [$display]: () => summary[$display](),
  };
}
