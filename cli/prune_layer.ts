/**
 * `deno task prune-layer <input.safetensors> --method thanos|sparsegpt|wanda|magnitude
 *   [--sparsity 0.5] [--pattern unstructured|2:4|4:8|structured] [--blocksize 128] [--alpha 0]
 *   [--percdamp 0.01] --out <output.safetensors> [--force]`
 *
 * Prunes one linear layer. The input holds `weight` (F32 [rows, cols]) and `inputs` (F32 [n, cols],
 * calibration activations, one row per token); the output holds the pruned `weight` (F32) and `mask`
 * (U8, 1 = pruned). The last stdout line is {method, pattern, sparsity, relative_error, seconds}.
 * The output file goes through cli/output.ts: checked before any work, an existing file replaced
 * only with --force, never half-written.
 *
 * @module
 */

import { getGpu, readAll, upload } from "../thanos/gpu/mod.ts";
import { openSafetensors, writeSafetensors } from "../thanos/model/safetensors.ts";
import { CalibrationStats, checkLayerFits, pruneLayer, resolvePruneOptions } from "../thanos/prune/mod.ts";
import { asInput, helpGiven, intFlag, log, main, numberFlag, parse, requireFlags, UsageError } from "./common.ts";
import { openOutput } from "./output.ts";

const USAGE = "usage: deno task prune-layer <input.safetensors> --method thanos|sparsegpt|wanda|magnitude " +
  "[--sparsity 0.5] [--pattern unstructured|2:4|4:8|structured] [--blocksize 128] [--alpha 0] " +
  "[--percdamp 0.01] --out <output.safetensors> [--force]";

/** Calibration rows folded into the statistics per GPU batch. */
const BATCH_ROWS = 4096;

async function run(): Promise<unknown> {
  const { values, positionals } = parse(Deno.args, {
    method: { type: "string" },
    sparsity: { type: "string" },
    pattern: { type: "string" },
    blocksize: { type: "string" },
    alpha: { type: "string" },
    percdamp: { type: "string" },
    out: { type: "string" },
    force: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  }, true);
  if (helpGiven(values, USAGE)) return undefined;
  if (positionals.length !== 1) {
    throw new UsageError(`Expected one input file but found ${positionals.length} (see --help)`);
  }
  requireFlags(values, "method", "out");
  const input = positionals[0], out = values.out;

  // everything is validated before any work starts
  const options = resolvePruneOptions({
    method: values.method,
    pattern: values.pattern,
    sparsity: values.sparsity === undefined ? undefined : numberFlag("sparsity", values.sparsity),
    blocksize: values.blocksize === undefined ? undefined : intFlag("blocksize", values.blocksize),
    alpha: values.alpha === undefined ? undefined : numberFlag("alpha", values.alpha),
    percdamp: values.percdamp === undefined ? undefined : numberFlag("percdamp", values.percdamp),
  });
  const file = await asInput(() => openSafetensors(input));
  const weight = await asInput(() => readMatrix(file, "weight", input));
  const inputs = await asInput(() => readMatrix(file, "inputs", input));
  if (inputs.shape[1] !== weight.shape[1]) {
    throw new UsageError(
      `${input}: "weight" is [${weight.shape}] but "inputs" is [${inputs.shape}]; expected inputs [n, ${
        weight.shape[1]
      }]`,
    );
  }
  const [rows, cols] = weight.shape, n = inputs.shape[0];
  if (n === 0) throw new UsageError(`${input}: "inputs" has no rows; expected calibration activations [n, ${cols}]`);
  checkLayerFits("weight", rows, cols, options);
  await using output = await openOutput(out, { kind: "file", force: values.force });
  log(
    `prune-layer: ${rows}x${cols} weight, ${n} calibration rows, ${options.method} ${values.pattern ?? "unstructured"}`,
  );

  const gpu = await getGpu();
  const started = performance.now();
  using stats = new CalibrationStats(gpu, cols, "layer");
  for (let t0 = 0; t0 < n; t0 += BATCH_ROWS) {
    const t1 = Math.min(n, t0 + BATCH_ROWS);
    using batch = upload(gpu, inputs.data.subarray(t0 * cols, t1 * cols), [t1 - t0, cols], "inputs");
    await stats.addBatch(batch);
  }
  using w = upload(gpu, weight.data, [rows, cols], "weight");
  const result = await pruneLayer({ name: "weight", weight: w }, stats, options);
  const [pruned, mask] = await readAll(result.weight, result.mask);
  result.weight.release();
  result.mask.release();
  await output.write((path) =>
    writeSafetensors(path, {
      weight: { dtype: "F32", shape: [rows, cols], data: pruned },
      mask: { dtype: "U8", shape: [rows, cols], data: Uint8Array.from(mask) },
    }, {
      metadata: { format: "pt", method: result.method, pattern: result.pattern, sparsity: String(result.sparsity) },
    })
  );
  await output.commit();
  log(`prune-layer: wrote ${out}`);
  return {
    method: result.method,
    pattern: result.pattern,
    sparsity: result.sparsity,
    relative_error: result.relativeError,
    seconds: result.timings.method,
    rows,
    cols,
    samples: n,
    total_seconds: (performance.now() - started) / 1000,
  };
}

/** A float32 matrix [a, b] named `name`, checked for dtype, rank and finiteness. */
async function readMatrix(file: Awaited<ReturnType<typeof openSafetensors>>, name: string, path: string) {
  if (!file.has(name)) {
    throw new UsageError(`${path}: missing tensor "${name}" (found: ${file.names().join(", ") || "none"})`);
  }
  const entry = file.entry(name);
  if (entry.dtype !== "F32") throw new UsageError(`${path}: "${name}" has dtype ${entry.dtype}; expected F32`);
  if (entry.shape.length !== 2) {
    throw new UsageError(`${path}: "${name}" has shape [${entry.shape}]; expected a matrix (rank 2)`);
  }
  const { shape, data } = await file.readFloat32(name);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new UsageError(
      `${path}: "${name}" contains ${data[bad]} at [${Math.floor(bad / shape[1])}, ${
        bad % shape[1]
      }]; expected finite values`,
    );
  }
  return { shape: shape as [number, number], data };
}

if (import.meta.main) await main(run);
