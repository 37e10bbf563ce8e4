/**
 * Pruning one linear layer: calibration statistics, the four methods (one table, one signature),
 * options and their validation.
 * @module
 */
export { CalibrationStats, type LayerStats } from "./stats.ts";
export {
  type BlockStep,
  type LayerWeight,
  type MethodObserver,
  type MethodOutput,
  type PruneMethod,
} from "./method.ts";
export {
  checkLayerFits,
  DEFAULTS,
  METHOD_NAMES,
  type MethodName,
  parsePattern,
  type Pattern,
  patternName,
  type PruneOptions,
  type PruneOptionsInput,
  PruneOptionsSchema,
  resolvePruneOptions,
} from "./options.ts";
export { METHODS, outputEnergy, pruneLayer, type PruneResult, reconstructionError } from "./prune.ts";
