/**
 * `deno task bench:gpu [--out DIR] [--small] [--only step,step]`
 *
 * The prepared run for a machine with a real GPU, unattended and in one go (GPU time comes in short
 * windows): on this machine's adapter, one step after another, each in its own process with a time
 * limit so that one slow step cannot eat the others' time —
 * 1. `correctness`: the kernel tests (matmul in every variant — the shared-memory ones have only run on
 *    llvmpipe before —, Gram, Cholesky and solves, selection, masks, the pruning updates, forward,
 *    decode and sparse ops, half-precision weights, the zero-shot kernel), pass/fail counts;
 * 2. `kernels`: `bench:kernels` (throughput, and ÷ numpy where numpy is installed);
 * 3. `layer`: `bench:layer` (every method x pattern on the paper's small layer shapes);
 * 4. `generate`: `bench:generate`, prefill and decode tokens/s of the fixture models and of a random
 *    model with TinyLlama-1.1B's widths (dense, and 2:4 compressed);
 * 5. `scale`: `bench:scale`, a Llama-2-7B-width block written as F16 and pruned with Thanos (2:4 and
 *    unstructured) by `deno task prune --streaming`, with wall time per stage and peak RSS.
 * With `--small` (for a software adapter such as llvmpipe) every step runs at a smaller size and with
 * longer time limits. Each step's stdout and stderr go to `DIR/<step>.log`; after every step
 * `DIR/bench-gpu.json` is rewritten (atomically) with the adapter's name and limits and every figure
 * so far, so a run cut short still leaves what it measured. The last stdout line is that JSON.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { getGpu } from "../thanos/gpu/device.ts";
import { KERNEL_TESTS } from "./gpu_tests.ts";
import { runDeno } from "./child.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "bench-gpu-results" },
    small: { type: "boolean", default: false },
    only: { type: "string" },
  },
  strict: true,
});
const small = values.small!;

interface Step {
  name: string;
  args: string[];
  /** seconds on a real GPU; ×10 with --small */
  limit: number;
  env?: Record<string, string>;
}

const root = new URL("../", import.meta.url).pathname;
const exists = (p: string) => {
  try {
    Deno.statSync(join(root, p));
    return true;
  } catch {
    return false;
  }
};
const STEPS: Step[] = [
  {
    name: "correctness",
    args: ["test", "-A", ...KERNEL_TESTS.map((t) => `tests/${t}.ts`).filter(exists)],
    limit: 100,
    env: { THANOS_POISON_EMPTY: "1" },
  },
  { name: "kernels", args: ["run", "-A", "bench/kernels.ts", ...(small ? ["matmul"] : [])], limit: 75 },
  {
    name: "layer",
    args: ["run", "-A", "bench/layer.ts", "--reps", "1", ...(small ? ["--shapes", "256x256", "--n", "512"] : [])],
    limit: 75,
  },
  {
    name: "generate",
    args: [
      "run",
      "-A",
      "bench/generate.ts",
      ...(small
        ? [
          "--model",
          join(root, "models/tiny-llama"),
          "--no-wide",
          "--prompt-tokens",
          "16",
          "--new-tokens",
          "8",
          "--repeats",
          "1",
        ]
        : ["--wide-prompt-tokens", "128", "--wide-new-tokens", "32", "--repeats", "2"]),
    ],
    limit: 75,
  },
  {
    name: "scale",
    args: [
      "run",
      "-A",
      "bench/scale.ts",
      ...(small
        ? ["--preset", "small", "--nsamples", "4", "--seqlen", "128", "--max-windows", "1", "--patterns", "2:4"]
        : ["--preset", "llama-2-7b", "--layers", "1", "--nsamples", "16", "--seqlen", "512"]),
    ],
    limit: 150,
  },
];

const only = values.only?.split(",");
if (only) {
  const unknown = only.filter((n) => !STEPS.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(
      `bench:gpu: --only ${unknown.join(",")}: unknown; expected some of ${STEPS.map((s) => s.name).join(",")}`,
    );
    Deno.exit(2);
  }
}

const out = values.out!;
await Deno.mkdir(out, { recursive: true });
const gpu = await getGpu();
const LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;
const result: Record<string, unknown> = {
  adapter: gpu.info,
  limits: Object.fromEntries(LIMITS.map((k) => [k, gpu.limits[k]])),
  small,
  started: new Date().toISOString(),
  steps: {} as Record<string, unknown>,
};
console.error(`bench:gpu on ${gpu.info.description}${small ? " (--small)" : ""}; results in ${out}`);

/** Rewrites DIR/bench-gpu.json atomically (a reader never sees half a file). */
async function save(): Promise<void> {
  const path = join(out, "bench-gpu.json");
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(result, null, 2) + "\n");
  await Deno.rename(`${path}.tmp`, path);
}

/** Runs one step in a child process with a time limit; its output goes to DIR/<name>.log. */
async function runStep(step: Step): Promise<Record<string, unknown>> {
  const limit = step.limit * (small ? 10 : 1);
  const { code, seconds, timedOut, stdout, stderr, json } = await runDeno(step.args, {
    env: step.env,
    limitSeconds: limit,
  });
  await Deno.writeTextFile(
    join(out, `${step.name}.log`),
    `$ deno ${step.args.join(" ")}\n${stdout}\n--- stderr ---\n${stderr}`,
  );
  const record: Record<string, unknown> = { exitCode: code, seconds, limitSeconds: limit, timedOut, data: json };
  if (step.name === "correctness") {
    // deno test's summary: "ok | 81 passed | 0 failed (12s)" (colours stripped)
    // deno-lint-ignore no-control-regex
    const plain = (stdout + stderr).replace(/\x1b\[[0-9;]*m/g, "");
    const m = plain.match(/(\d+) passed[^\n]*?(\d+) failed/);
    record.data = m ? { passed: Number(m[1]), failed: Number(m[2]) } : null;
    record.failures = [...plain.matchAll(/^(.+) \.\.\. FAILED/gm)].map((x) => x[1]).slice(0, 50);
  }
  return record;
}

const steps = result.steps as Record<string, unknown>;
for (const step of STEPS) {
  if (only && !only.includes(step.name)) continue;
  console.error(`bench:gpu: ${step.name}…`);
  const record = await runStep(step);
  steps[step.name] = record;
  console.error(
    `bench:gpu: ${step.name}: exit ${record.exitCode}${record.timedOut ? " (time limit)" : ""}, ` +
      `${(record.seconds as number).toFixed(1)} s`,
  );
  await save();
}
result.finished = new Date().toISOString();
await save();
console.log(JSON.stringify(result));
