/**
 * The memory plan of a whole-model prune, computed from the checkpoint's layout and the run's options
 * before any GPU work: the peak bytes the project's buffer pool will hold live on the GPU (and the
 * largest single buffer), and the host bytes, stage by stage — so a run that cannot fit is refused
 * in seconds instead of failing an hour in.
 *
 * The stages follow `deno task prune`: dense evaluation, then per block (a) calibration forward
 * with the statistics H = (2/n)·XᵀX of every distinct linear input, (b) pruning each linear layer
 * (the method's scratch), (c) the forward through the pruned block, then the pruned evaluation.
 * Each stage's live set mirrors what the code allocates (weights, calibration activations, the
 * block's forward intermediates, the method's working tensors); small buffers (counters, per-row
 * vectors) are left out, which `tests/memory_plan_test.ts` bounds by comparing the plan with the
 * buffer pool's measured peak (`BufferPool.peakLiveBytes`) on the fixture models.
 *
 * WebGPU reports no total memory for an adapter; only its per-buffer limits are checked against
 * the largest buffer. On a software adapter (llvmpipe) GPU buffers live in host memory, so the GPU
 * total is added to the host total and checked against the machine's available memory.
 *
 * @module
 */

import type { ModelConfig } from "./model/config.ts";
import type { LinearLayer, ModelLayout } from "./model/layout.ts";
import type { PruneOptions } from "./prune/options.ts";
import { paddedWidth } from "./linalg/view.ts";

/** What the plan needs to know about a run (the CLI's flags, resolved). */
export interface PlanOptions {
  /** calibration windows */
  nsamples: number;
  /** tokens per window (calibration and evaluation) */
  seqlen: number;
  /** evaluation windows (0: none evaluated) */
  evalWindows: number;
  /** at most one block's weights on the GPU */
  streaming: boolean;
  prune: PruneOptions;
}

/** The adapter and machine limits a plan is checked against. */
export interface PlanLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** bytes of host memory available (`Deno.systemMemoryInfo().available`) */
  hostAvailable: number;
  /** GPU buffers live in host memory (software adapter) */
  unifiedMemory: boolean;
}

/** One stage's live GPU bytes and what makes them up. */
export interface PlanStage {
  stage: string;
  bytes: number;
  parts: Record<string, number>;
}

export interface MemoryPlan {
  gpu: {
    /** the largest live total over all stages */
    peakBytes: number;
    peakStage: string;
    /** the largest single buffer and what it holds */
    largestBuffer: { bytes: number; what: string };
    /** linear weights, embeddings and norms as they sit on the GPU */
    weightBytes: number;
    stages: PlanStage[];
  };
  host: { bytes: number; parts: Record<string, number> };
  /** windows per forward batch in calibration/propagation and in evaluation */
  batch: { calibration: number; evaluation: number };
}

/** Bytes of an f32 / u32 element. */
const F = 4;
/** The activation budget of one forward batch (`defaultBatchSize` in eval.ts). */
const ACTIVATION_BUDGET_BYTES = 64 * 1024 * 1024;
const MAX_BATCH = 16;
/** The LM head's logits buffer budget (forward.ts). */
const LOGITS_BUDGET_BYTES = 64 * 1024 * 1024;
/** gatheredSolve's scratch budget and its words per row (solve.ts). */
const SOLVE_SCRATCH_BYTES = 64 * 1024 * 1024;
const CHOLESKY_BLOCK = 64;
const OUTER_BLOCKS = 4;
/** A Deno process with the project's modules, the tokenizer and a corpus loaded (measured: ~0.3 GB). */
const HOST_BASELINE_BYTES = 400 * 2 ** 20;

/**
 * Windows per forward pass at `seqlen`: as many as keep the widest activation under 64 MiB and the
 * binding limit, at most 16 (the rule of `defaultBatchSize`, which calls this).
 */
export function batchSizeFor(config: ModelConfig, seqlen: number, maxBinding: number): number {
  const widest = Math.max(3 * config.hiddenSize, config.intermediateSize, config.numHeads * config.headDim);
  const budget = Math.min(ACTIVATION_BUDGET_BYTES, maxBinding);
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(budget / (seqlen * widest * 4))));
}

const align = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);

/**
 * The memory plan of pruning (and evaluating) `config`/`layout` with `options`.
 * @param config the checkpoint's normalised config
 * @param layout its layout (tensor names and shapes)
 * @param options sizes and method
 * @param maxBinding the adapter's maxStorageBufferBindingSize (it sets the batch sizes and chunking)
 * @example
 * ```ts
 * const plan = memoryPlan(ck.config, ck.layout, { nsamples: 128, seqlen: 256, evalWindows: 64, streaming: false, prune }, 2 ** 27);
 * console.log(plan.gpu.peakBytes, plan.gpu.largestBuffer);
 * ```
 */
export function memoryPlan(
  config: ModelConfig,
  layout: ModelLayout,
  options: PlanOptions,
  maxBinding: number,
): MemoryPlan {
  const { nsamples, seqlen, streaming } = options;
  const d = config.hiddenSize;
  let largest = { bytes: 0, what: "" };
  const buffer = (bytes: number, what: string) => {
    const b = align(bytes);
    if (b > largest.bytes) largest = { bytes: b, what };
    return b;
  };

  const chunkRows = Math.max(1, Math.floor(maxBinding / (F * layout.tokenEmbedding.shape[1])));
  const { globals, maxBlock, allBlocks } = weightBytes(layout, d, chunkRows, buffer);
  const weights = globals + (streaming ? maxBlock : allBlocks);

  // ---- forward passes
  const calibBatch = Math.min(nsamples, batchSizeFor(config, seqlen, maxBinding));
  const evalBatch = Math.max(1, Math.min(options.evalWindows || 1, batchSizeFor(config, seqlen, maxBinding)));
  const blockForward = (tokens: number) => forwardBytes(config, layout, tokens, buffer);
  const rope = config.family === "llama" ? 2 * align(seqlen * (config.headDim / 2) * F) : 0;
  const hidden = (windows: number, what: string) => buffer(windows * seqlen * d * F, what);

  const stages: PlanStage[] = [];
  const stage = (name: string, parts: Record<string, number>) => {
    stages.push({ stage: name, bytes: Object.values(parts).reduce((a, b) => a + b, 0), parts });
  };

  if (options.evalWindows > 0) {
    stage("evaluate", {
      weights: globals + (streaming ? maxBlock : allBlocks),
      "hidden states": hidden(evalBatch, "hidden states of an evaluation batch"),
      "block forward": Math.max(
        blockForward(evalBatch * seqlen),
        headBytes(layout, chunkRows, maxBinding, evalBatch * (seqlen - 1), buffer),
      ) + rope,
    });
  }

  const stats = statisticsBytes(layout, buffer);
  const activations = Math.ceil(nsamples / calibBatch) * hidden(calibBatch, "calibration activations of a batch");

  stage("calibrate", {
    weights,
    "calibration activations": activations,
    statistics: stats, // gramAccumulate works in place on H
    "block forward": blockForward(calibBatch * seqlen) + rope,
  });
  const worst = largestPruneScratch(layout, options.prune, buffer);
  stage("prune", {
    weights,
    "calibration activations": activations,
    statistics: stats,
    [`pruning scratch (${worst.name})`]: worst.bytes,
  });
  stage("propagate", {
    weights,
    "calibration activations (in and out)": 2 * activations,
    "block forward": blockForward(calibBatch * seqlen) + rope,
  });

  const peak = stages.reduce((a, b) => (b.bytes > a.bytes ? b : a));

  const host = hostBytes(layout, options);

  return {
    gpu: {
      peakBytes: peak.bytes,
      peakStage: peak.stage,
      largestBuffer: largest,
      weightBytes: globals + allBlocks,
      stages,
    },
    host: { bytes: Object.values(host).reduce((a, b) => a + b, 0), parts: host },
    batch: { calibration: calibBatch, evaluation: evalBatch },
  };
}

/**
 * GPU bytes of the LM head over `m` rows: the picked rows, the final norm's output, one block of
 * logits (capped like the model's) and the NLL state.
 */
function headBytes(
  layout: ModelLayout,
  chunkRows: number,
  maxBinding: number,
  m: number,
  buffer: (bytes: number, what: string) => number,
): number {
  const embed = layout.tokenEmbedding.shape;
  const headRows = Math.max(
    ...(layout.lmHead.tied ? [embed[0]] : [layout.lmHead.shape[0]]).map((r) => Math.min(r, chunkRows)),
  );
  const width = Math.max(1, Math.min(headRows, Math.floor(Math.min(LOGITS_BUDGET_BYTES, maxBinding) / (F * m))));
  return buffer(m * embed[1] * F, "final rows") * 2 + buffer(m * width * F, "logits") + align(m * 3 * F) + align(m * F);
}

/** GPU bytes of the statistics of every distinct linear input of a block: H [in, in] and ‖X_j‖² [in]. */
function statisticsBytes(layout: ModelLayout, buffer: (bytes: number, what: string) => number): number {
  const inputs = new Map<string, number>();
  for (const l of layout.blocks[0]?.linears ?? []) inputs.set(l.input, l.inFeatures);
  let stats = 0;
  for (const [name, cols] of inputs) stats += buffer(cols * cols * F, `H of ${name}`) + align(cols * F);
  return stats;
}

/** The linear layer of a block whose pruning needs the most scratch, and how much. */
function largestPruneScratch(
  layout: ModelLayout,
  prune: PlanOptions["prune"],
  buffer: (bytes: number, what: string) => number,
): { bytes: number; name: string } {
  let worst = { bytes: 0, name: "" };
  for (const l of layout.blocks[0]?.linears ?? []) {
    const bytes = pruneScratch(l.outFeatures, l.inFeatures, prune, buffer);
    if (bytes > worst.bytes) worst = { bytes, name: l.name };
  }
  return worst;
}

/**
 * GPU bytes of the weights: the resident ones (embedding tables and LM head in chunks of
 * `chunkRows` rows, projections, final norm), the largest block and all blocks together.
 */
function weightBytes(
  layout: ModelLayout,
  d: number,
  chunkRows: number,
  buffer: (bytes: number, what: string) => number,
): { globals: number; maxBlock: number; allBlocks: number } {
  let globals = 0;
  const embed = layout.tokenEmbedding.shape;
  const table = (rows: number, cols: number, what: string) => {
    let sum = 0;
    for (let lo = 0; lo < rows; lo += chunkRows) sum += buffer(Math.min(chunkRows, rows - lo) * cols * F, what);
    return sum;
  };
  globals += table(embed[0], embed[1], `${layout.tokenEmbedding.name} (a chunk)`);
  if (layout.positionEmbedding) globals += table(...layout.positionEmbedding.shape, layout.positionEmbedding.name);
  for (const p of [layout.projectIn, layout.projectOut]) if (p) globals += linearBytes(p, buffer);
  if (layout.finalNorm) globals += normBytes(layout.finalNorm.kind, layout.finalNorm.size);
  if (!layout.lmHead.tied) globals += table(...layout.lmHead.shape, `${layout.lmHead.weight} (a chunk)`);
  const blockBytes = layout.blocks.map((b) =>
    b.linears.reduce((s, l) => s + linearBytes(l, buffer), 0) + normBytes(b.attentionNorm.kind, d) +
    normBytes(b.mlpNorm.kind, d)
  );
  return {
    globals,
    maxBlock: Math.max(0, ...blockBytes),
    allBlocks: blockBytes.reduce((a, b) => a + b, 0),
  };
}

/** Host bytes by part: the runtime, one tensor being read, the token windows, evicted pruned weights. */
function hostBytes(layout: ModelLayout, options: PlanOptions): Record<string, number> {
  const { nsamples, seqlen, streaming } = options;
  let largestTensor = 0, linearTotal = 0;
  for (const t of layout.tensors) largestTensor = Math.max(largestTensor, t.shape.reduce((a, b) => a * b, 1) * F);
  for (const b of layout.blocks) for (const l of b.linears) linearTotal += l.outFeatures * l.inFeatures * F;
  const host: Record<string, number> = {
    "runtime, tokenizer and corpora": HOST_BASELINE_BYTES,
    "one tensor read, widened and transposed": 3 * largestTensor,
    "token windows": (nsamples + options.evalWindows) * seqlen * 4,
  };
  // a streaming run keeps every pruned linear weight on the host once its block is evicted
  if (streaming) host["pruned weights of evicted blocks"] = linearTotal;
  return host;
}

function linearBytes(l: LinearLayer, buffer: (b: number, what: string) => number): number {
  return buffer(l.outFeatures * l.inFeatures * F, `${l.weight}`) + (l.bias ? align(l.outFeatures * F) : 0);
}

function normBytes(kind: "rmsnorm" | "layernorm", size: number): number {
  return align(size * F) * (kind === "layernorm" ? 2 : 1);
}

/**
 * Live intermediates of one block's forward on `n` tokens, the block's input excluded: the widest
 * moment of the attention half (normed input, q, k, v, attention output, residual) and of the MLP
 * half (its input, normed, hidden layer(s), output).
 */
function forwardBytes(
  config: ModelConfig,
  layout: ModelLayout,
  n: number,
  buffer: (b: number, what: string) => number,
): number {
  const d = config.hiddenSize, f = config.intermediateSize;
  const qw = config.numHeads * config.headDim, kvw = config.numKvHeads * config.headDim;
  const t = (w: number, what: string) => buffer(n * w * F, what);
  const gated = layout.blocks[0]?.linears.some((l) => l.name.endsWith("gate_proj")) ?? false;
  const attention = t(d, "normed hidden") + t(qw, "q") + 2 * t(kvw, "k/v") + t(qw, "attention") + t(d, "block output");
  // gated: gate and up (one [n, 2f] product) and act(gate)·up written row-padded (llama.ts)
  const hiddenLayers = gated ? t(2 * f, "MLP gate/up") + t(paddedWidth(f), "MLP hidden") : t(f, "MLP hidden");
  const mlp = t(d, "attention residual") + t(d, "normed hidden") + hiddenLayers + t(d, "block output");
  return Math.max(attention, mlp);
}

/**
 * The largest live scratch of pruning one [rows, cols] layer with `o` (beside the model's own
 * weights and the statistics): the working copy and mask, the damped H, its inverse factor and the
 * factorisation's workspace, the method's block buffers, and the error measurement's ΔW and ΔW·H.
 */
export function pruneScratch(
  rows: number,
  cols: number,
  o: PruneOptions,
  buffer: (b: number, what: string) => number = align,
): number {
  const w = buffer(rows * cols * F, "pruned working copy"), mask = buffer(rows * cols * F, "mask");
  const after = w + mask + 2 * buffer(rows * cols * F, "ΔW / ΔW·H"); //      the error measurement
  const before = buffer(rows * cols * F, "W·H"); //                          tr(W·H·Wᵀ) before the method
  if (o.method === "magnitude" || o.method === "wanda") {
    return Math.max(before, w + mask + buffer(rows * cols * F, "scores"), after);
  }
  const B = Math.min(o.blocksize, cols);
  const h = buffer(cols * cols * F, "damped H");
  const u = buffer(cols * cols * F, "inverse factor U");
  const nb = Math.min(CHOLESKY_BLOCK, cols), outer = Math.min(nb * OUTER_BLOCKS, cols);
  const r4 = (x: number) => Math.ceil(x / 4) * 4;
  const workspace = align(cols * nb * F) +
    align(Math.max(1, Math.max(nb * r4(cols - nb), outer * r4(cols - outer))) * F) +
    buffer(cols * Math.max(4, r4(cols)) * F, "factor scratch");
  const factor = w + h + u + workspace;
  if (o.method === "sparsegpt") {
    const block = w + h + u + mask + 2 * buffer(rows * B * F, "block scores/errors");
    return Math.max(before, factor, block, after);
  }
  // thanos
  if (o.pattern.kind === "structured") {
    const k = Math.min(cols, Math.ceil(o.sparsity * cols / (1 - o.alpha)));
    const solve = w + mask + h + 2 * buffer(k * k * F, "H⁻¹[P, P] and its inverse") +
      buffer(k * cols * F, "H⁻¹[P, :]") + 2 * buffer(rows * k * F, "W[:, P] / Λ") + buffer(cols * cols * F, "H⁻¹");
    return Math.max(before, solve, after);
  }
  const rowBatch = Math.min(o.rowBatch, rows);
  const cap = o.pattern.kind === "nm" ? Math.min(B, Math.ceil(B / o.pattern.m) * o.pattern.n) : B; // largest set
  const mq = Math.ceil(cap / 4);
  const words = 2 * mq * (mq + 1) + mq;
  const group = 16 * words * 32; //                                  whole groups of 32 slots, as solve.ts
  const slots = Math.min(rowBatch, Math.max(1, Math.floor(SOLVE_SCRATCH_BYTES / group)) * 32);
  const block = w + mask + h + u + buffer(B * cols * F, "H⁻¹ rows of a block") +
    buffer((o.pattern.kind === "nm" ? rows * B : rows * cols) * F, "scores") + 4 * align(rowBatch * B * F) + // idx, rhs, Λ, slack
    (o.pattern.kind === "nm"
      ? 0
      : buffer(Math.max(1024, Math.ceil(rows * cols / 16)) * 4, "bracketed selection's keys")) +
    buffer(4 * words * Math.ceil(slots / 32) * 32 * F, "gathered factors"); // whole groups of 32 slots
  return Math.max(before, factor + mask, block, after);
}

/** "1.23 GiB" / "45.6 MiB" */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Why `plan` cannot run within `limits`, or null when it fits: the numbers (needed vs available)
 * of the first limit it exceeds.
 */
export function planProblem(plan: MemoryPlan, limits: PlanLimits): string | null {
  // a buffer larger than one storage binding is bound in chunks (gpu/chunked.ts); one larger than
  // maxBufferSize cannot exist
  const big = plan.gpu.largestBuffer;
  if (big.bytes > limits.maxBufferSize) {
    return `its largest GPU buffer (${big.what}) needs ${big.bytes} bytes (${formatBytes(big.bytes)}) but the ` +
      `adapter's maxBufferSize is ${limits.maxBufferSize} bytes (${formatBytes(limits.maxBufferSize)})`;
  }
  const host = plan.host.bytes + (limits.unifiedMemory ? plan.gpu.peakBytes : 0);
  if (host > limits.hostAvailable) {
    return `it needs ${formatBytes(host)} of host memory (${formatBytes(plan.host.bytes)} host` +
      (limits.unifiedMemory
        ? ` + ${formatBytes(plan.gpu.peakBytes)} GPU at ${plan.gpu.peakStage}, in host memory on this software adapter`
        : "") +
      `) but ${formatBytes(limits.hostAvailable)} is available`;
  }
  return null;
}

/**
 * What would make `options` fit `limits`, or null if nothing tried does: `--streaming`, then the
 * largest `--nsamples` that fits, then the largest power-of-two-halved `--seqlen`.
 */
export function fitSuggestion(
  config: ModelConfig,
  layout: ModelLayout,
  options: PlanOptions,
  limits: PlanLimits,
): string | null {
  const fits = (o: PlanOptions) =>
    planProblem(memoryPlan(config, layout, o, limits.maxStorageBufferBindingSize), limits) === null;
  const tries: string[] = [];
  if (!options.streaming && fits({ ...options, streaming: true })) {
    return "pass --streaming (one block's weights on the GPU at a time)";
  }
  // streaming only where the smallest run needs it too
  const base = fits({ ...options, nsamples: 1 }) ? options : { ...options, streaming: true };
  const flag = base.streaming && !options.streaming ? "--streaming and " : "";
  if (fits({ ...base, nsamples: 1 })) {
    let lo = 1, hi = options.nsamples; //                            fits(lo), not fits(hi)
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits({ ...base, nsamples: mid })) lo = mid;
      else hi = mid;
    }
    tries.push(`${flag}--nsamples ${lo} or fewer`);
  }
  for (let seqlen = Math.floor(options.seqlen / 2); seqlen >= 2; seqlen = Math.floor(seqlen / 2)) {
    if (fits({ ...base, seqlen })) {
      tries.push(`${flag}--seqlen ${seqlen}`);
      break;
    }
  }
  return tries.length ? `use ${tries.join(", or ")}` : null;
}

/** The plan as lines for a terminal (`deno task prune --dry-run`). */
export function describePlan(plan: MemoryPlan): string[] {
  const lines = [
    `GPU peak ${formatBytes(plan.gpu.peakBytes)} (${plan.gpu.peakBytes} bytes) at ${plan.gpu.peakStage}; ` +
    `largest buffer ${formatBytes(plan.gpu.largestBuffer.bytes)} (${plan.gpu.largestBuffer.what}); ` +
    `weights ${formatBytes(plan.gpu.weightBytes)}`,
  ];
  for (const s of plan.gpu.stages) {
    const parts = Object.entries(s.parts).map(([k, v]) => `${k} ${formatBytes(v)}`).join(", ");
    lines.push(`  ${s.stage}: ${formatBytes(s.bytes)} = ${parts}`);
  }
  lines.push(
    `host ${formatBytes(plan.host.bytes)} = ` +
      Object.entries(plan.host.parts).map(([k, v]) => `${k} ${formatBytes(v)}`).join(", "),
  );
  lines.push(`batches: ${plan.batch.calibration} calibration windows, ${plan.batch.evaluation} evaluation windows`);
  return lines;
}
