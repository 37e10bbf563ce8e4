/**
 * Calibration windows and evaluation windows, exactly as the reference code (SparseGPT / Wanda /
 * Thanos `get_loaders` and `eval_ppl`) cuts them.
 *
 * @module
 */

import { PythonRandom } from "./python_random.ts";

/** Token windows, row-major: window w is `tokens[w·seqlen, (w+1)·seqlen)`. */
export interface TokenWindows {
  /** [count, seqlen] token ids */
  tokens: Uint32Array;
  count: number;
  seqlen: number;
  /** where each window starts in the source stream (or, for documents, in its document) */
  starts: number[];
  /** for document sampling: the document each window came from */
  documents?: number[];
}

/** Options of the calibration samplers. */
export interface CalibrationOptions {
  /** number of windows (the papers use 128) */
  nsamples: number;
  /** tokens per window (the model's context, e.g. 2048) */
  seqlen: number;
  /** seed of Python's `random.seed` (the reference uses 0) */
  seed: number;
}

function checkOptions(op: string, { nsamples, seqlen, seed }: CalibrationOptions): void {
  if (!Number.isInteger(nsamples) || nsamples < 1) {
    throw new RangeError(`${op}: nsamples is ${nsamples}; expected an integer >= 1`);
  }
  if (!Number.isInteger(seqlen) || seqlen < 1) {
    throw new RangeError(`${op}: seqlen is ${seqlen}; expected an integer >= 1`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${op}: seed is ${seed}; expected an integer`);
}

/**
 * Samples calibration windows from one token stream, as the reference does:
 * `random.seed(seed)`; per sample `i = random.randint(0, len(tokens) - seqlen - 1)`, window
 * `tokens[i : i + seqlen]`. Identical to the reference for the same tokens and seed.
 *
 * @param tokens the corpus's token stream
 * @param options nsamples, seqlen, seed
 * @returns `nsamples` windows of `seqlen` tokens (windows may overlap, as in the reference)
 * @throws RangeError when the stream has fewer than seqlen + 1 tokens, or for bad options
 * @example
 * ```ts
 * const calib = sampleCalibration(tokens, { nsamples: 128, seqlen: 2048, seed: 0 });
 * calib.tokens; // Uint32Array of 128·2048 ids
 * ```
 */
export function sampleCalibration(tokens: ArrayLike<number>, options: CalibrationOptions): TokenWindows {
  checkOptions("sampleCalibration", options);
  const { nsamples, seqlen, seed } = options;
  if (tokens.length < seqlen + 1) {
    throw new RangeError(
      `sampleCalibration: the corpus has ${tokens.length} tokens but a window of seqlen ${seqlen} needs at least ` +
        `${seqlen + 1} (randint(0, len - seqlen - 1) must have a non-empty range)`,
    );
  }
  const random = new PythonRandom(seed);
  const out = new Uint32Array(nsamples * seqlen);
  const starts: number[] = [];
  for (let s = 0; s < nsamples; s++) {
    const i = random.randint(0, tokens.length - seqlen - 1);
    starts.push(i);
    for (let t = 0; t < seqlen; t++) out[s * seqlen + t] = tokens[i + t];
  }
  return { tokens: out, count: nsamples, seqlen, starts };
}

/**
 * Samples calibration windows from separate documents, as the reference's C4 loader does:
 * `random.seed(seed)`; per sample, draw documents with `randint(0, len(docs) - 1)` until one
 * encodes to more than `seqlen` tokens, then `i = randint(0, len - seqlen - 1)` inside it.
 *
 * @param documents the corpus's documents
 * @param encode text → ids (the reference calls the tokenizer with its default special tokens)
 * @param options nsamples, seqlen, seed
 * @returns the windows, with the document of each
 * @throws RangeError when no document has more than `seqlen` tokens (the reference would loop forever)
 * @example
 * ```ts
 * const c4 = await loadCorpus("c4-train.00000-of-01024.json.gz");
 * const calib = sampleDocumentCalibration(c4.documents, (t) => tok.encode(t), { nsamples: 128, seqlen: 2048, seed: 0 });
 * ```
 */
export function sampleDocumentCalibration(
  documents: readonly string[],
  encode: (text: string) => ArrayLike<number>,
  options: CalibrationOptions,
): TokenWindows {
  checkOptions("sampleDocumentCalibration", options);
  const { nsamples, seqlen, seed } = options;
  if (documents.length === 0) throw new RangeError("sampleDocumentCalibration: no documents");
  const random = new PythonRandom(seed);
  const encoded = new Map<number, ArrayLike<number>>();
  const tooShort = new Set<number>();
  const out = new Uint32Array(nsamples * seqlen);
  const starts: number[] = [], docs: number[] = [];
  for (let s = 0; s < nsamples; s++) {
    let ids: ArrayLike<number>, d: number;
    for (;;) {
      d = random.randint(0, documents.length - 1);
      ids = encoded.get(d) ?? encode(documents[d]);
      encoded.set(d, ids);
      if (ids.length > seqlen) break;
      tooShort.add(d);
      if (tooShort.size === documents.length) {
        throw new RangeError(
          `sampleDocumentCalibration: none of the ${documents.length} documents has more than seqlen ${seqlen} tokens`,
        );
      }
    }
    const i = random.randint(0, ids.length - seqlen - 1);
    starts.push(i);
    docs.push(d);
    for (let t = 0; t < seqlen; t++) out[s * seqlen + t] = ids[i + t];
  }
  return { tokens: out, count: nsamples, seqlen, starts, documents: docs };
}

/**
 * Cuts a token stream into non-overlapping evaluation windows, dropping the remainder, as the
 * reference `eval_ppl` does (`nsamples = numel // seqlen`, window i = `[i·seqlen, (i+1)·seqlen)`).
 *
 * @param tokens the evaluation corpus's token stream
 * @param seqlen tokens per window
 * @param maxWindows keep only the first windows (the reference caps C4 at 256)
 * @returns the windows
 * @throws RangeError when the stream holds less than one window, or for bad arguments
 * @example
 * ```ts
 * const windows = evalWindows(tokens, 2048); // windows.count = floor(tokens.length / 2048)
 * ```
 */
export function evalWindows(tokens: ArrayLike<number>, seqlen: number, maxWindows?: number): TokenWindows {
  if (!Number.isInteger(seqlen) || seqlen < 1) {
    throw new RangeError(`evalWindows: seqlen is ${seqlen}; expected an integer >= 1`);
  }
  if (maxWindows !== undefined && (!Number.isInteger(maxWindows) || maxWindows < 1)) {
    throw new RangeError(`evalWindows: maxWindows is ${maxWindows}; expected an integer >= 1`);
  }
  const available = Math.floor(tokens.length / seqlen);
  if (available === 0) {
    throw new RangeError(
      `evalWindows: the corpus has ${tokens.length} tokens, fewer than one window of seqlen ${seqlen}`,
    );
  }
  const count = Math.min(available, maxWindows ?? available);
  const out = new Uint32Array(count * seqlen);
  for (let i = 0; i < count * seqlen; i++) out[i] = tokens[i];
  return { tokens: out, count, seqlen, starts: Array.from({ length: count }, (_, i) => i * seqlen) };
}
