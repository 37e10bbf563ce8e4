/**
 * `deno task compress --model <dir|hf:ORG/NAME> --out <dir> [--to compressed|dense]
 *   [--dtype source|F32|F16|BF16] [--force]`
 *
 * Rewrites a checkpoint with its sparse linear weights in the compressed-tensors layout
 * (`sparse-24-bitmask` when every compressed layer is 2:4, else `sparse-bitmask`; a layer that would
 * not get smaller stays dense and is listed in `ignore`), or, with `--to dense`, a compressed
 * checkpoint back to plain dense weights. Per-layer choices and bytes before/after go to report.json
 * beside the weights and to stderr; the last stdout line is a JSON summary.
 *
 * Bad input (a missing or malformed checkpoint, a compressed one whose parts disagree) fails before
 * anything is written, with one line on stderr and exit code 2. Output goes to a staging directory
 * renamed at the end; an existing non-empty --out is refused unless --force.
 *
 * @module
 */

import { openCheckpoint, storageDtype, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import type { TensorInput } from "../thanos/model/safetensors.ts";
import { asInput, helpGiven, log, main, parse, requireFlags, UsageError } from "./common.ts";
import { openOutput } from "./output.ts";

const USAGE = "usage: deno task compress --model <dir|hf:ORG/NAME> --out <dir> [--to compressed|dense] " +
  "[--dtype source|F32|F16|BF16] [--force]";

async function run(): Promise<unknown> {
  const { values } = parse(Deno.args, {
    model: { type: "string" },
    out: { type: "string" },
    to: { type: "string", default: "compressed" },
    dtype: { type: "string", default: "source" },
    force: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  });
  if (helpGiven(values, USAGE)) return undefined;
  const started = performance.now();
  requireFlags(values, "model", "out");
  const to = values.to!;
  if (to !== "compressed" && to !== "dense") {
    throw new UsageError(`Unknown --to "${to}": expected compressed or dense`);
  }
  const dtypeFlag = values.dtype!.toUpperCase();
  if (!["SOURCE", "F32", "F16", "BF16"].includes(dtypeFlag)) {
    throw new UsageError(`Unknown --dtype "${values.dtype}": expected source, F32, F16 or BF16`);
  }
  const checkpoint = await asInput(() => openCheckpoint(values.model!)); // checks every compressed part
  const dtype = dtypeFlag === "SOURCE" ? storageDtype(checkpoint) : dtypeFlag as "F32" | "F16" | "BF16";
  const output = await openOutput(values.out, { kind: "directory", force: values.force });
  try {
    const tensors = new Map<string, TensorInput>();
    for (const { name, shape } of checkpoint.layout.tensors) {
      tensors.set(name, { dtype: "F32", shape, data: async () => (await checkpoint.readFloat32(name)).data });
    }
    log(
      `compress: ${checkpoint.dir} (${checkpoint.compression?.format ?? "dense"}) -> ${values.out} (${to}, ${dtype})`,
    );
    const { compression, filesBefore, filesAfter, report } = await output.write(async (dir) => {
      const { compression } = await writeCheckpoint(dir, {
        config: { ...checkpoint.config.raw },
        tensors,
        dtype,
        tokenizer: checkpoint.tokenizerPath,
        format: to,
      });
      for (const l of compression?.layers ?? []) {
        if (l.stored === "dense") log(`compress: ${l.name} stays dense (${l.reason})`);
      }
      const filesBefore = await sizeOf(checkpoint.files);
      const filesAfter = await safetensorsBytes(dir);
      const report = {
        model: values.model,
        to,
        dtype,
        format: compression?.format ?? "dense",
        sparsity_config: compression?.config?.sparsity_config ?? null,
        bytes: compression?.bytes ?? null,
        files: { before: filesBefore, after: filesAfter },
        layers: compression?.layers ?? [],
      };
      await Deno.writeTextFile(`${dir}/report.json`, JSON.stringify(report, null, 2) + "\n");
      return { compression, filesBefore, filesAfter, report };
    });
    await output.commit();
    const compressed = compression?.layers.filter((l) => l.stored !== "dense").length ?? 0;
    if (to === "compressed") {
      log(
        `compress: ${compressed}/${compression?.layers.length ?? 0} linear weights compressed` +
          (compression?.format ? ` as ${compression.format}` : " (none gains: written dense)") +
          `; safetensors ${filesBefore} -> ${filesAfter} bytes (${(filesAfter / filesBefore).toFixed(3)}x)`,
      );
    }
    return {
      model: values.model,
      out: values.out,
      to,
      format: report.format,
      dtype,
      layers_compressed: compressed,
      layers_dense: (compression?.layers.length ?? 0) - compressed,
      bytes: report.bytes,
      files: report.files,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await output.discard(); // no-op after commit
  }
}

async function sizeOf(files: string[]): Promise<number> {
  let total = 0;
  for (const f of files) total += (await Deno.stat(f)).size;
  return total;
}

/** Bytes of the safetensors files (and index) in a directory. */
async function safetensorsBytes(dir: string): Promise<number> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.startsWith("model") && /\.safetensors(\.index\.json)?$/.test(e.name)) {
      files.push(`${dir}/${e.name}`);
    }
  }
  return sizeOf(files);
}

if (import.meta.main) await main(run);
