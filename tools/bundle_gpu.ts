/**
 * `deno task bundle:gpu [--out dist/gpu-bundle] [--force] [--no-loader]`
 *
 * Packs everything `deno task bench:gpu` needs into one folder (under 64 MiB) that runs on a bare,
 * offline x86-64 Linux machine with a GPU: no Deno, no network, maybe no Vulkan loader.
 * - `deno.xz`: this Deno binary, xz-compressed;
 * - `app.tar.xz`: the project's code (thanos/, shaders/, cli/, bench/, tools/random_model.ts, the
 *   kernel tests and their references), the three bundled fixture models (stored as F16 to halve
 *   their bytes; widened to f32 on load, as any F16 checkpoint) and the tokenizer, and the npm packages the
 *   benchmarks import, installed into the bundle's own `node_modules` (`deno install --entrypoint`;
 *   the global cache copy is dropped: `deno run --cached-only` reads node_modules), so nothing
 *   comes from outside;
 * - `debs/`: Debian's Vulkan loader (`libvulkan1`), unpacked into the work folder and put on
 *   `LD_LIBRARY_PATH` only when the machine has none (`ldconfig -p`);
 * - `run.sh OUTDIR [bench:gpu flags…]`: unpacks into a temporary work folder and runs `bench:gpu`,
 *   writing `OUTDIR/bench-gpu.json` and one log per step.
 *
 * The folder is built beside `--out` and renamed into place at the end, so a failed build leaves
 * nothing at `--out`.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { KERNEL_TESTS } from "../bench/gpu_tests.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "dist/gpu-bundle" },
    force: { type: "boolean", default: false },
    "no-loader": { type: "boolean", default: false },
  },
  strict: true,
});

const ROOT = new URL("../", import.meta.url).pathname;
const LIMIT = 64 * 1024 * 1024;
/** Paths of the repository the bundle carries (folders copied whole). */
const CARRY = [
  "deno.json",
  "deno.lock",
  "thanos",
  "shaders",
  "cli",
  "bench",
  "tools/random_model.ts",
  "tests",
  "models/tokenizer.json",
  "models/tokenizer_config.json",
];
/** The bundled models, carried as F16 (half their bytes; widened to f32 on load like any F16 checkpoint). */
const FIXTURES = ["tiny-llama", "tiny-opt", "tiny-gpt2"];
/** Test files the bundle leaves out: all but the kernel tests (helpers, references and fixtures stay). */
const skipTest = (name: string) => name.endsWith("_test.ts") && !KERNEL_TESTS.includes(name.slice(0, -3));
/** npm imports only the notebooks, the docs and the browser tests use: left out of the bundle. */
const NOT_CARRIED = ["plotly.js-dist-min/", "playwright-core", "katex/", "hyparquet-writer"];

function fail(message: string): never {
  console.error(`bundle:gpu: ${message}`);
  Deno.exit(2);
}

async function sh(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = await new Deno.Command(cmd, { args, ...options, stdout: "piped", stderr: "piped" }).output();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr).trim().split("\n").at(-1)}`);
  }
  return new TextDecoder().decode(r.stdout);
}

async function copyTree(from: string, to: string, skip?: (name: string) => boolean): Promise<void> {
  const info = await Deno.stat(from);
  if (info.isFile) {
    await Deno.mkdir(dirname(to), { recursive: true });
    await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (skip?.(e.name)) continue;
    await copyTree(join(from, e.name), join(to, e.name));
  }
}

async function sizeOf(path: string): Promise<number> {
  const info = await Deno.stat(path);
  if (info.isFile) return info.size;
  let n = 0;
  for await (const e of Deno.readDir(path)) n += await sizeOf(join(path, e.name));
  return n;
}

const RUN_SH = `#!/bin/sh
# Runs the prepared GPU benchmark offline: ./run.sh OUTDIR [bench:gpu flags, e.g. --small]
# Unpacks Deno and the project into a temporary work folder (THANOS_WORK to choose it), adds the
# bundled Vulkan loader when the system has none, and writes OUTDIR/bench-gpu.json and a log per step.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=\${1:?usage: run.sh OUTDIR [bench:gpu flags]}
shift
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=\${THANOS_WORK:-$(mktemp -d)}
mkdir -p "$WORK"
command -v xz >/dev/null || { echo "run.sh: xz is needed to unpack the bundle" >&2; exit 2; }
xz -dc "$HERE/deno.xz" > "$WORK/deno"
chmod +x "$WORK/deno"
tar -C "$WORK" -xJf "$HERE/app.tar.xz"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\\.so\\.1'; then
  for f in "$HERE"/debs/*.deb; do
    [ -e "$f" ] || continue
    mkdir -p "$WORK/sysroot"
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$f" "$WORK/sysroot"
    else (cd "$WORK/sysroot" && ar x "$f" data.tar.xz && tar -xJf data.tar.xz && rm data.tar.xz); fi
  done
  export LD_LIBRARY_PATH="$WORK/sysroot/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
NV=/usr/local/nvidia/share
if [ -z "\${VK_DRIVER_FILES:-}" ] && [ -f "$NV/vulkan/icd.d/nvidia_icd.json" ]; then
  export VK_DRIVER_FILES="$NV/vulkan/icd.d/nvidia_icd.json"
fi
if [ -z "\${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f "$NV/glvnd/egl_vendor.d/10_nvidia.json" ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES="$NV/glvnd/egl_vendor.d/10_nvidia.json"
fi
export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-$WORK/xdg}"
mkdir -p "$XDG_RUNTIME_DIR"
export DENO_DIR="$WORK/app/.deno" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
cd "$WORK/app"
"$WORK/deno" --version | head -1 > "$OUT/deno-version.txt"
exec "$WORK/deno" run -A --cached-only bench/gpu.ts --out "$OUT" "$@"
`;

const out = resolve(values.out!);
if (!values.force) {
  try {
    await Deno.lstat(out);
    fail(`${values.out} already exists; pass --force to replace it`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
  fail(`the bundle carries this Deno binary, which is ${Deno.build.os}/${Deno.build.arch}; expected linux/x86_64`);
}
await Deno.mkdir(dirname(out), { recursive: true });
const staging = await Deno.makeTempDir({ dir: dirname(out), prefix: `.${basename(out)}.staging-` });
try {
  const app = join(staging, "work", "app");
  console.error("bundle:gpu: copying the project…");
  for (const p of CARRY) {
    await copyTree(join(ROOT, p), join(app, p), p === "tests" ? skipTest : undefined);
  }
  for (const name of FIXTURES) {
    const fixture = await openCheckpoint(join(ROOT, "models", name));
    await writeCheckpoint(join(app, "models", name), {
      config: { ...fixture.config.raw },
      tensors: new Map(fixture.layout.tensors.map(({ name, shape }) => [name, {
        dtype: "F32" as const,
        shape,
        data: async () => (await fixture.readFloat32(name)).data,
      }])),
      tokenizer: fixture.tokenizerPath,
      dtype: "F16",
    });
  }
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  for (const name of NOT_CARRIED) delete config.imports[name];
  await Deno.writeTextFile(join(app, "deno.json"), JSON.stringify(config, null, 2) + "\n");
  console.error("bundle:gpu: installing the npm packages the benchmarks import…");
  const entries = [
    "bench/gpu.ts",
    "bench/kernels.ts",
    "bench/layer.ts",
    "bench/generate.ts",
    "bench/scale.ts",
    "tools/random_model.ts",
  ];
  for await (const e of Deno.readDir(join(app, "bench", "kernels"))) entries.push(`bench/kernels/${e.name}`);
  for await (const e of Deno.readDir(join(app, "tests"))) {
    if (e.name.endsWith("_test.ts")) entries.push(`tests/${e.name}`);
  }
  await sh(Deno.execPath(), ["install", "--entrypoint", ...entries, "cli/prune.ts"], {
    cwd: app,
    env: { DENO_DIR: join(app, ".deno") },
  });
  await Deno.remove(join(app, ".deno"), { recursive: true });
  console.error("bundle:gpu: compressing…");
  await sh("tar", ["-C", join(staging, "work"), "-cJf", join(staging, "app.tar.xz"), "app"], {
    env: { XZ_OPT: "-6 -T0" },
  });
  await Deno.remove(join(staging, "work"), { recursive: true });
  const deno = await Deno.open(join(staging, "deno.xz"), { write: true, create: true });
  const xz = new Deno.Command("xz", { args: ["-6", "-T0", "-c", Deno.execPath()], stdout: "piped" }).spawn();
  await xz.stdout.pipeTo(deno.writable);
  if (!(await xz.status).success) throw new Error("xz of the Deno binary failed");
  if (!values["no-loader"]) {
    console.error("bundle:gpu: downloading Debian's Vulkan loader (libvulkan1)…");
    await Deno.mkdir(join(staging, "debs"));
    await sh("apt-get", ["download", "libvulkan1"], { cwd: join(staging, "debs") });
  }
  await Deno.writeTextFile(join(staging, "run.sh"), RUN_SH, { mode: 0o755 });
  const bytes = await sizeOf(staging);
  if (bytes > LIMIT) throw new Error(`the bundle is ${(bytes / 2 ** 20).toFixed(1)} MiB; the limit is 64 MiB`);
  if (values.force) await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.rename(staging, out);
  console.error(
    `bundle:gpu: ${values.out}: ${(bytes / 2 ** 20).toFixed(1)} MiB; run it with ${values.out}/run.sh OUTDIR`,
  );
  console.log(JSON.stringify({ out: values.out, bytes }));
} catch (e) {
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  console.error(`bundle:gpu: ${(e as Error).message}`);
  Deno.exit(1);
}
