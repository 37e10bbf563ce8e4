/**
 * Data: tokenizers (tokenizer.json), corpora, the calibration sampler and evaluation windows.
 *
 * This module only re-exports; see the files it names.
 * @module
 */
export { loadTokenizer, type TextTokenizer } from "./tokenizer.ts";
export { CACHE_DIR_ENV, cachedCorpusTokens, tokenCacheDir } from "./token_cache.ts";
export {
  type Corpus,
  CORPUS_NAMES,
  type CorpusName,
  corpusTokens,
  loadCorpus,
  type SotuAddress,
  sotuAddresses,
  type SotuSplit,
  sotuSplitOfYear,
  wikitextRows,
} from "./corpus.ts";
export {
  type CalibrationOptions,
  evalWindows,
  sampleCalibration,
  sampleDocumentCalibration,
  type TokenWindows,
} from "./calibration.ts";
export { PythonRandom } from "./python_random.ts";
