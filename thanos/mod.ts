/**
 * Thanos on WebGPU: block-wise pruning of LLM linear layers (Ilin & Richtárik, arXiv 2504.05346),
 * with the magnitude, Wanda and SparseGPT baselines.
 *
 * This module only re-exports; see the files it names.
 * @module
 */
export * from "./gpu/mod.ts";
export * from "./linalg/mod.ts";
export * from "./prune/mod.ts";
export * from "./model/mod.ts";
export * from "./data/mod.ts";
export * from "./decode/mod.ts";
export * from "./eval.ts";
export * from "./pipeline.ts";
export * from "./experiment.ts";
export * from "./inspect.ts";
export * from "./block_trace.ts";
export * from "./zeroshot/mod.ts";
