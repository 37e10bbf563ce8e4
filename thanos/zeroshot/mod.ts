/**
 * Zero-shot accuracy with lm-evaluation-harness v0.4.7 semantics: the paper's seven tasks as data,
 * loglikelihood requests scored on the GPU, lm-eval's metrics and file shapes.
 *
 * @module
 */

export * from "./tasks.ts";
export * from "./loglikelihood.ts";
export * from "./metrics.ts";
export * from "./evaluate.ts";
export * from "./data.ts";
export * from "./hub.ts";
export * from "./results.ts";
export { PyFloat, pyFloatRepr, pyJsonDumps } from "./python.ts";
