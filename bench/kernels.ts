/**
 * `deno task bench:kernels [filter…]`: the GPU kernels' throughput on this machine's adapter.
 *
 * Discovers every module in bench/kernels/ (except row.ts, the shared row type), runs its
 * `bench(gpu)` and prints one table: kernel, size, seconds (best GPU wall time: record, submit and
 * wait), rate, and the rate as a fraction of numpy/OpenBLAS on the same operation, measured in the
 * same run, where numpy has one (matmul, Gram, Cholesky, inverse). Give module names (e.g. `matmul`)
 * to run only those. The plain-TS oracles in tests/reference/ are not timed: they are written to be
 * read, not to be fast, and bench/ imports nothing from tests/.
 *
 * @module
 */

import { getGpu } from "../thanos/gpu/device.ts";
import type { BenchRow } from "./kernels/row.ts";

type BenchModule = { bench: (gpu: Awaited<ReturnType<typeof getGpu>>) => Promise<BenchRow[]> };

const dir = new URL("./kernels/", import.meta.url);
const filters = Deno.args;
const names = [...Deno.readDirSync(dir)]
  .filter((e) => e.isFile && e.name.endsWith(".ts") && e.name !== "row.ts")
  .map((e) => e.name.replace(/\.ts$/, ""))
  .filter((name) => filters.length === 0 || filters.includes(name))
  .sort();
if (names.length === 0) {
  console.error(`No benchmark modules in ${dir.pathname} match ${JSON.stringify(filters)}`);
  Deno.exit(1);
}

const gpu = await getGpu();
console.log(`# bench:kernels on ${gpu.info.description}${gpu.info.isFallback ? " (fallback adapter)" : ""}`);
console.log(
  `# vendor ${gpu.info.vendor || "?"}, architecture ${gpu.info.architecture || "?"}; modules: ${names.join(", ")}`,
);
// other processes on the machine slow a CPU-emulated adapter down; say how busy it was
const load = () => Deno.loadavg()[0].toFixed(1);
console.log(`# load average ${load()} on ${navigator.hardwareConcurrency} CPUs at the start`);

const rows: BenchRow[] = [];
const failed: string[] = [];
for (const name of names) {
  const t0 = performance.now();
  try {
    const module = await import(new URL(`${name}.ts`, dir).href) as BenchModule;
    if (typeof module.bench !== "function") throw new Error(`bench/kernels/${name}.ts does not export bench(gpu)`);
    rows.push(...await module.bench(gpu));
    console.error(`# ${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed.push(name);
    console.error(`# ${name}: FAILED: ${(err as Error).stack ?? err}`);
  }
}

console.log(`# load average ${load()} at the end`);
const table = [
  ["kernel", "size", "seconds", "rate", "÷ numpy"],
  ...rows.map((r) => [
    r.kernel,
    r.size,
    r.seconds < 0.01 ? r.seconds.toExponential(2) : r.seconds.toFixed(3),
    `${r.rate.toPrecision(3)} ${r.unit}`,
    r.numpySeconds === undefined ? "" : (r.numpySeconds / r.seconds).toFixed(3),
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((line) => line[c].length)));
const format = (line: string[]) =>
  `| ${line.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(" | ")} |`;
console.log(format(table[0]));
console.log(`|${widths.map((w, c) => (c >= 2 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`);
for (const line of table.slice(1)) console.log(format(line));
console.log(JSON.stringify({ adapter: gpu.info.description, rows, failed })); // for bench:gpu
if (failed.length > 0) {
  console.error(`# failed: ${failed.join(", ")}`);
  Deno.exit(1);
}
