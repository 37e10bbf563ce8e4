/**
 * The paper's own experimental settings, as its official code runs them (vectozavr/thanos:
 * `construct_tables.py`, `lib/prune.py`, `lib/data.py`, `lib/eval.py`), for `deno task table --paper`:
 *
 * - calibration: `nsamples = 128` windows of C4 (`construct_tables.py`), drawn by `get_c4` from the train
 *   shard `en/c4-train.00000-of-01024.json.gz`: `random.seed(seed)`; per window, documents drawn with
 *   `random.randint(0, len(traindata) - 1)` until one encodes to more than `seqlen` tokens, then
 *   `i = random.randint(0, len - seqlen - 1)` inside it (`sampleDocumentCalibration`);
 * - `seqlen = min(2048, model.seqlen)` with `model.seqlen = config.max_position_embeddings`
 *   (`get_llm`, `get_c4`, `eval_ppl_wikitext`);
 * - evaluation: WikiText-2 raw **test** perplexity (`eval_ppl` → `get_wikitext2`): the test rows joined with
 *   "\n\n", tokenized in one call, cut into `numel // seqlen` windows, every window evaluated;
 * - tokenization: `tokenizer(text)` with its default `add_special_tokens=True` (a BOS for LLaMA and OPT,
 *   none for GPT-2), for every C4 document and for the WikiText-2 stream;
 * - methods: Thanos `blocksize=512` (`v_blocksize=256`, a row batch that does not change the result) with
 *   `perc_outliers` 0 and 0.1, SparseGPT `blocksize=128`, both `percdamp=0.01`; sparsity 0.5 for
 *   unstructured and n:m, 0.3 structured (`construct_tables.py`).
 *
 * @module
 */

import type { Checkpoint } from "./model/checkpoint.ts";
import { loadCorpus } from "./data/corpus.ts";
import { evalWindows, sampleDocumentCalibration } from "./data/calibration.ts";
import { loadTokenizer } from "./data/tokenizer.ts";
import { defaultSeqlen, type ExperimentData } from "./experiment.ts";
import { isFile } from "./util/fs.ts";

/** The settings of `construct_tables.py` this module applies. */
export const PAPER_SETTINGS = {
  nsamples: 128,
  seed: 0,
  maxSeqlen: 2048,
  thanosBlocksize: 512,
  sparsegptBlocksize: 128,
  percdamp: 0.01,
} as const;

/** Where the paper's corpora are on disk. */
export interface PaperCorpora {
  /** the C4 train shard `en/c4-train.00000-of-01024.json.gz` (one JSON document a line) */
  c4: string;
  /** WikiText-2 raw test: the dataset's `test` parquet file or `wiki.test.raw` */
  wikitext2: string;
  /** seed of the calibration sampler (the paper: 0) */
  seed?: number;
}

/**
 * Checks the corpus paths before any work: each must be an existing file of a kind the loaders read.
 * @throws RangeError naming the flag, the path and what was expected
 */
export async function checkPaperCorpora(corpora: PaperCorpora): Promise<void> {
  const c4 = corpora.c4.toLowerCase(), wiki = corpora.wikitext2.toLowerCase();
  if (!(await isFile(corpora.c4))) {
    throw new RangeError(
      `--c4 ${corpora.c4} is not a file; expected the C4 train shard c4-train.00000-of-01024.json.gz`,
    );
  }
  if (!c4.endsWith(".json.gz") && !c4.endsWith(".jsonl.gz") && !c4.endsWith(".jsonl")) {
    throw new RangeError(`--c4 ${corpora.c4}: expected a .json.gz / .jsonl(.gz) C4 shard (one JSON document a line)`);
  }
  if (!(await isFile(corpora.wikitext2))) {
    throw new RangeError(
      `--wikitext2 ${corpora.wikitext2} is not a file; expected WikiText-2 raw test as the dataset's test parquet ` +
        `file or wiki.test.raw`,
    );
  }
  if (!wiki.endsWith(".parquet") && !wiki.endsWith(".raw")) {
    throw new RangeError(`--wikitext2 ${corpora.wikitext2}: expected a .parquet file or wiki.test.raw`);
  }
}

/**
 * Calibration and evaluation windows exactly as the paper's code cuts them (see the module doc).
 * @param checkpoint the model (its tokenizer and context)
 * @param corpora the C4 train shard and WikiText-2 test file
 * @returns the windows; `spec` records the settings (maxWindows 0: every window)
 * @throws RangeError for a missing tokenizer, unreadable corpora, a C4 shard without a document longer than
 *   seqlen, or a WikiText-2 stream shorter than one window
 * @example
 * ```ts
 * const data = await preparePaperData(ckpt, { c4: "c4-train.00000-of-01024.json.gz", wikitext2: "test.parquet" });
 * ```
 */
export async function preparePaperData(checkpoint: Checkpoint, corpora: PaperCorpora): Promise<ExperimentData> {
  await checkPaperCorpora(corpora);
  if (!checkpoint.tokenizerPath) {
    throw new RangeError(`${checkpoint.dir} has no tokenizer.json (or vocab.json + merges.txt); corpora need one`);
  }
  const tokenizer = await loadTokenizer(checkpoint.tokenizerPath);
  const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: true }); // tokenizer(text)
  const seqlen = defaultSeqlen(checkpoint.config.maxPositions); // min(2048, max_position_embeddings)
  const seed = corpora.seed ?? PAPER_SETTINGS.seed;
  const c4 = await loadCorpus(corpora.c4);
  const calibration = sampleDocumentCalibration(c4.documents, encode, {
    nsamples: PAPER_SETTINGS.nsamples,
    seqlen,
    seed,
  });
  const wiki = await loadCorpus(corpora.wikitext2);
  const tokens = Uint32Array.from(encode(wiki.text)); // tokenizer("\n\n".join(testdata['text']))
  if (tokens.length < seqlen) {
    throw new RangeError(
      `--wikitext2 ${corpora.wikitext2} has ${tokens.length} tokens, fewer than one window of ${seqlen}`,
    );
  }
  return {
    calibration,
    evaluation: evalWindows(tokens, seqlen),
    spec: {
      calibration: corpora.c4,
      nsamples: PAPER_SETTINGS.nsamples,
      seqlen,
      seed,
      eval: corpora.wikitext2,
      maxWindows: 0,
    },
  };
}
