/**
 * Pruning options: method names, sparsity patterns, and their validation where they enter (CLI,
 * notebooks, the pipeline). Validation happens once, before any GPU work, with messages that say what
 * was expected and what was found.
 *
 * @module
 */

import { z } from "zod";
import { MAX_GATHERED } from "../linalg/solve.ts";
import { sweepChunks } from "./ops.ts";

/** The four methods of the paper's comparison, in the order of its tables. */
export const METHOD_NAMES = ["magnitude", "wanda", "sparsegpt", "thanos"] as const;
export type MethodName = typeof METHOD_NAMES[number];

/**
 * Sparsity pattern: `unstructured` (any weights), `nm` (n of every m consecutive weights in a row),
 * `structured` (whole input columns).
 */
export type Pattern =
  | { readonly kind: "unstructured" }
  | { readonly kind: "nm"; readonly n: number; readonly m: number }
  | { readonly kind: "structured" };

/**
 * Parses "unstructured", "structured" or "n:m" (e.g. "2:4").
 * @example
 * ```ts
 * parsePattern("2:4"); // { kind: "nm", n: 2, m: 4 }
 * ```
 */
export function parsePattern(text: string): Pattern {
  const t = text.trim().toLowerCase();
  if (t === "unstructured") return { kind: "unstructured" };
  if (t === "structured") return { kind: "structured" };
  const nm = /^(\d+):(\d+)$/.exec(t);
  if (nm) {
    const n = Number(nm[1]), m = Number(nm[2]);
    if (m < 1 || n < 1 || n >= m) {
      throw new RangeError(`Invalid pattern "${text}": expected n:m with 1 <= n < m, e.g. 2:4 or 4:8`);
    }
    return { kind: "nm", n, m };
  }
  throw new RangeError(`Unknown pattern "${text}": expected unstructured, structured, or n:m such as 2:4 or 4:8`);
}

/** "unstructured", "structured" or "n:m". */
export function patternName(p: Pattern): string {
  return p.kind === "nm" ? `${p.n}:${p.m}` : p.kind;
}

/** Options every method accepts (methods ignore what does not apply to them, see each field). */
export interface PruneOptions {
  method: MethodName;
  /** fraction of the layer's weights to remove, in [0, 1); for n:m it is n/m */
  sparsity: number;
  pattern: Pattern;
  /** sparsegpt, thanos: columns per block (default 128) */
  blocksize: number;
  /** sparsegpt, thanos: damping λ = percdamp·mean(diag H) (default 0.01) */
  percdamp: number;
  /** thanos with n:m or structured: fraction of outlier rows kept dense (default 0) */
  alpha: number;
  /** thanos: rows per batched solve, bounding scratch memory (default: all rows at once) */
  rowBatch: number;
}

/** What callers may pass: everything but the method is optional; the pattern may be a string. */
export type PruneOptionsInput = {
  method: string;
  sparsity?: number;
  pattern?: Pattern | string;
  blocksize?: number;
  percdamp?: number;
  alpha?: number;
  rowBatch?: number;
};

/** Largest Thanos block: the per-row removal sets are solved by `gatheredSolve` (maxQ ≤ 512). */
export const MAX_THANOS_BLOCKSIZE = MAX_GATHERED;

export const DEFAULTS = {
  sparsity: 0.5,
  pattern: { kind: "unstructured" } as Pattern,
  blocksize: 128,
  percdamp: 0.01,
  alpha: 0,
} as const;

const finite = (name: string) =>
  z.number({ error: (i) => `Expected ${name} to be a number but found ${JSON.stringify(i.input)}` })
    .refine(Number.isFinite, { error: (i) => `Expected ${name} to be finite but found ${i.input}` });

/** zod schema of {@link PruneOptionsInput}; {@link resolvePruneOptions} adds the cross-field rules. */
export const PruneOptionsSchema = z.object({
  method: z.string().refine((m) => (METHOD_NAMES as readonly string[]).includes(m), {
    error: (i) => `Unknown method "${i.input}": expected one of ${METHOD_NAMES.join(", ")}`,
  }),
  sparsity: finite("sparsity").refine((s) => s >= 0 && s < 1, {
    error: (i) => `Expected sparsity in [0, 1) but found ${i.input}`,
  }).optional(),
  pattern: z.union([z.string(), z.custom<Pattern>((p) => typeof p === "object" && p !== null && "kind" in p)])
    .optional(),
  blocksize: finite("blocksize").refine((b) => Number.isInteger(b) && b >= 1, {
    error: (i) => `Expected blocksize to be a positive integer but found ${i.input}`,
  }).optional(),
  percdamp: finite("percdamp").refine((p) => p >= 0, {
    error: (i) => `Expected percdamp >= 0 but found ${i.input}`,
  }).optional(),
  alpha: finite("alpha").refine((a) => a >= 0 && a < 1, {
    error: (i) => `Expected alpha in [0, 1) but found ${i.input}`,
  }).optional(),
  rowBatch: finite("rowBatch").refine((r) => Number.isInteger(r) && r >= 1, {
    error: (i) => `Expected rowBatch to be a positive integer but found ${i.input}`,
  }).optional(),
}).strict();

/** Options {@link resolvePruneOptions} produced: validated once, frozen, passed on as they are. */
const VALIDATED = new WeakSet<object>();

function isValidated(o: PruneOptionsInput | PruneOptions): o is PruneOptions {
  return VALIDATED.has(o);
}

/**
 * Validates options and fills in defaults. Throws a RangeError with the first problem found.
 * Options it returned come back unchanged (they are frozen and already valid), so the library's
 * entry points (pruneModel, pruneLayer, pruneAndEvaluate) all call it and validation happens once,
 * where the options enter.
 * Rules beyond each field's range: n:m fixes the sparsity at n/m (a different explicit value is an
 * error); `structured` is a Thanos pattern (as in the paper), and needs sparsity < 1 − alpha; `alpha`
 * applies to Thanos with n:m or structured patterns only.
 * @example
 * ```ts
 * resolvePruneOptions({ method: "thanos", pattern: "2:4" }); // sparsity 0.5, blocksize 128, …
 * ```
 */
export function resolvePruneOptions(input: PruneOptionsInput | PruneOptions): PruneOptions {
  if (isValidated(input)) return input;
  const parsed = PruneOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.code === "unrecognized_keys"
      ? `Unknown option ${issue.keys.map((k) => `"${k}"`).join(", ")}: expected ${
        Object.keys(PruneOptionsSchema.shape).join(", ")
      }`
      : issue.message;
    throw new RangeError(where);
  }
  const o = parsed.data;
  const method = o.method as MethodName;
  const pattern = typeof o.pattern === "string" ? parsePattern(o.pattern) : o.pattern ?? DEFAULTS.pattern;
  let sparsity = o.sparsity ?? DEFAULTS.sparsity;
  if (pattern.kind === "nm") {
    const implied = pattern.n / pattern.m;
    if (o.sparsity !== undefined && Math.abs(o.sparsity - implied) > 1e-12) {
      throw new RangeError(
        `Pattern ${pattern.n}:${pattern.m} prunes ${implied} of the weights, but sparsity ${o.sparsity} was requested; ` +
          `omit sparsity or pass ${implied}`,
      );
    }
    sparsity = implied;
  }
  const alpha = o.alpha ?? DEFAULTS.alpha;
  if (pattern.kind === "structured" && method !== "thanos") {
    throw new RangeError(`The structured pattern is implemented for thanos only (as in the paper), not ${method}`);
  }
  if (alpha !== 0 && (method !== "thanos" || pattern.kind === "unstructured")) {
    throw new RangeError(
      `alpha (dense outlier rows) applies to thanos with n:m or structured patterns only, not ${method} ${
        patternName(pattern)
      }`,
    );
  }
  if (pattern.kind === "structured" && sparsity >= 1 - alpha) {
    throw new RangeError(`Structured sparsity ${sparsity} with alpha ${alpha} needs sparsity < 1 - alpha`);
  }
  const blocksize = o.blocksize ?? DEFAULTS.blocksize;
  if (method === "thanos" && pattern.kind !== "structured" && blocksize > MAX_THANOS_BLOCKSIZE) {
    throw new RangeError(
      `thanos blocksize ${blocksize} is too large: a row removes up to blocksize weights at once and the ` +
        `batched per-row solve handles at most ${MAX_THANOS_BLOCKSIZE}`,
    );
  }
  if (pattern.kind === "nm" && (method === "thanos" || method === "sparsegpt") && blocksize % pattern.m !== 0) {
    throw new RangeError(
      `blocksize ${blocksize} must be a multiple of m = ${pattern.m} for the ${patternName(pattern)} pattern`,
    );
  }
  // SparseGPT ranks each n:m group inside its sweep kernel, (m + 1)² loop iterations at once: groups
  // past llvmpipe's loop budget (m ≳ 240) are rejected here, before any work
  if (pattern.kind === "nm" && method === "sparsegpt") sweepChunks(blocksize, pattern.m);
  const resolved: PruneOptions = Object.freeze({
    method,
    sparsity,
    pattern: Object.freeze({ ...pattern }),
    blocksize,
    percdamp: o.percdamp ?? DEFAULTS.percdamp,
    alpha,
    rowBatch: o.rowBatch ?? Number.MAX_SAFE_INTEGER,
  });
  VALIDATED.add(resolved);
  return resolved;
}

/**
 * Checks that a layer of shape [rows, cols] can take the pattern (n:m needs cols divisible by m).
 * @param layer name used in the message
 */
export function checkLayerFits(layer: string, rows: number, cols: number, options: PruneOptions): void {
  if (options.pattern.kind === "nm" && cols % options.pattern.m !== 0) {
    throw new RangeError(
      `Layer "${layer}" has ${cols} input columns, which is not divisible by m = ${options.pattern.m} ` +
        `of the ${patternName(options.pattern)} pattern`,
    );
  }
  if (rows < 1 || cols < 1) throw new RangeError(`Layer "${layer}" has an empty weight [${rows}, ${cols}]`);
}
