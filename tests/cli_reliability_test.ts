/**
 * The commands' reliability promises, end to end on the tiny bundled models (README, "Reliability"):
 * a destination that appears during a run, signals at every stage (driven by the run's own
 * progress lines), SIGKILL leftovers, two concurrent runs, a full disk (a small tmpfs, where this
 * process may mount one), output paths checked before any work, NaN weights, negative numbers,
 * and one-line errors with the stack only behind THANOS_DEBUG=1.
 */
import { assert, assertEquals } from "./assert.ts";
import { cliTest, editedCheckpoint, lastJson, mountTmpfs, runCli, withTempDir } from "./cli_util.ts";

const SMALL = [
  "--model",
  "models/tiny-gpt2",
  "--method",
  "wanda",
  "--nsamples",
  "2",
  "--seqlen",
  "32",
  "--max-windows",
  "2",
];
const ROOT = new URL("../", import.meta.url).pathname;

/** Names in `dir`, sorted (hidden ones included). */
function ls(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/**
 * Runs a CLI, calling `onLine` with each stderr line as it arrives (to act at a stage of the run).
 * @returns exit code, signal, stdout and stderr
 */
async function watchCli(
  script: string,
  args: string[],
  onLine: (line: string, child: Deno.ChildProcess) => void | Promise<void>,
  env: Record<string, string> = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}${script}`, ...args],
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const stdout = new Response(child.stdout).text();
  let stderr = "", pending = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    stderr += chunk;
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      await onLine(line, child);
    }
  }
  const status = await child.status;
  return { code: status.code, signal: status.signal, stdout: await stdout, stderr };
}

cliTest(
  "prune: a destination created while the run is in progress is refused, exit 2, its contents untouched",
  async (dir) => {
    const out = `${dir}/out`;
    let created = false;
    const run = await watchCli("cli/prune.ts", [...SMALL, "--out", out], async (line) => {
      if (!created && line.includes("dense perplexity")) {
        created = true;
        await Deno.mkdir(out);
        await Deno.writeTextFile(`${out}/theirs.txt`, "keep me");
      }
    });
    assert(created, run.stderr);
    assertEquals(run.code, 2, run.stderr);
    assert(run.stderr.includes(`error: --out ${out} appeared during the run; it was left untouched`), run.stderr);
    assertEquals(ls(dir), ["out"]);
    assertEquals(ls(out), ["theirs.txt"]);
    assertEquals(await Deno.readTextFile(`${out}/theirs.txt`), "keep me");
  },
);

// Each signal at each stage of the run; the writing stage pauses between tensors
// (THANOS_TEST_WRITE_PAUSE_MS) so the signal lands with a partial safetensors file on disk.
const STAGES: [string, RegExp][] = [
  ["calibration", /calibration forward/],
  ["dense evaluation", /dense perplexity \d+\/\d+ windows/],
  ["pruning", /pruning /],
  ["writing", /writing .*\[1\/\d+ tensors\]/],
];
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  for (const [stage, pattern] of STAGES) {
    if (signal === "SIGTERM" && stage !== "writing") continue; // one handler for both: SIGINT covers the stages
    Deno.test({
      name: `prune: ${signal} during ${stage} exits ${code} and leaves nothing, not even the parent it created`,
      sanitizeResources: false,
      fn: () =>
        withTempDir(async (dir) => {
          const out = `${dir}/new/out`;
          let sent = false;
          const run = await watchCli("cli/prune.ts", [...SMALL, "--out", out], (line, child) => {
            if (!sent && pattern.test(line)) {
              sent = true;
              if (stage === "writing") assert(ls(`${dir}/new`).length === 2, "lock and staging exist");
              child.kill(signal);
            }
          }, { THANOS_TEST_WRITE_PAUSE_MS: "300" });
          assert(sent, `never reached ${stage}: ${run.stderr}`);
          assertEquals(run.code, code, run.stderr);
          assert(run.stderr.includes(`interrupted (${signal}): nothing was written to ${out}`), run.stderr);
          assertEquals(ls(dir), []);
        }),
    });
  }
}

cliTest(
  "prune: SIGKILL while writing leaves a lock and staging files that the next run recognises and removes",
  async (dir) => {
    const out = `${dir}/out`;
    let pid = 0;
    const killed = await watchCli("cli/prune.ts", [...SMALL, "--out", out], (line, child) => {
      if (!pid && /writing .*\[1\/\d+ tensors\]/.test(line)) {
        pid = child.pid;
        child.kill("SIGKILL");
      }
    }, { THANOS_TEST_WRITE_PAUSE_MS: "300" });
    assertEquals(killed.signal, "SIGKILL");
    assertEquals(ls(dir), [".out.lock", `.out.staging-${pid}`]);
    const again = await runCli("cli/prune.ts", [...SMALL, "--out", out]);
    assertEquals(again.code, 0, again.stderr);
    assert(
      again.stderr.includes(`removed the stale lock of process ${pid}, which is no longer running`),
      again.stderr,
    );
    assert(again.stderr.includes(`removed ${dir}/.out.staging-${pid}, left by an interrupted run`), again.stderr);
    assertEquals(ls(dir), ["out"]);
    assert(ls(out).includes("model.safetensors"));
  },
);

cliTest("prune: of two concurrent runs to one --out, the second fails at once naming the first", async (dir) => {
  const out = `${dir}/out`;
  let second: Promise<{ code: number; stderr: string }> | null = null;
  const first = await watchCli("cli/prune.ts", [...SMALL, "--out", out], (line) => {
    if (!second && line.includes("calibration forward")) second = runCli("cli/prune.ts", [...SMALL, "--out", out]);
  });
  assertEquals(first.code, 0, first.stderr);
  const s = await second!;
  assertEquals(s.code, 2, s.stderr);
  assert(
    /error: --out .*\/out is being written by another run \(pid \d+, lock .*\.out\.lock\)/.test(s.stderr),
    s.stderr,
  );
  assertEquals(s.stderr.trim().split("\n").length, 1, s.stderr);
  assertEquals(ls(dir), ["out"]);
  assertEquals(lastJson(first.stdout).out, out);
});

cliTest(
  "prune: a full disk is one line naming --out and the cause, exit 2, nothing left (1 MiB tmpfs)",
  async (dir) => {
    const why = await mountTmpfs(dir, "size=1m");
    if (why) {
      console.warn(`skipped: cannot mount a small tmpfs (${why}); CI runs as root, where it can`);
      return;
    }
    try {
      const run = await runCli("cli/prune.ts", [...SMALL, "--out", `${dir}/out`]);
      assertEquals(run.code, 2, run.stderr);
      const last = run.stderr.trim().split("\n").pop()!;
      assertEquals(last, `error: --out ${dir}/out: writing failed: No space left on device (os error 28)`);
      assert(!run.stderr.includes("    at "), "no stack trace");
      assertEquals(ls(dir), []);
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
    }
  },
);

cliTest("output paths are checked before any work: one line, exit 2, no progress, nothing created", async (dir) => {
  await Deno.writeTextFile(`${dir}/file`, "x");
  await Deno.mkdir(`${dir}/full`);
  await Deno.writeTextFile(`${dir}/full/keep`, "x");
  const cases: [string, string[], string][] = [
    [
      "cli/prune.ts",
      [...SMALL, "--out", `${dir}/file/sub/out`],
      `--out ${dir}/file/sub/out: ${dir}/file is not a directory`,
    ],
    ["cli/prune.ts", [...SMALL, "--out", `${dir}/full`], `--out ${dir}/full exists and is not empty; pass --force`],
    ["cli/prune.ts", [...SMALL, "--out", `${dir}/file`], `--out ${dir}/file exists and is not a directory`],
    ["cli/table.ts", ["--model", "models/tiny-gpt2", "--out", `${dir}/full`], `--out ${dir}/full is a directory`],
    [
      "cli/table.ts",
      ["--model", "models/tiny-gpt2", "--out", `${dir}/file`],
      `--out ${dir}/file exists; pass --force`,
    ],
  ];
  for (const [script, args, message] of cases) {
    const run = await runCli(script, args);
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert(run.stderr.startsWith(`error: ${message}`), `${args.join(" ")}: ${run.stderr}`);
    assertEquals(run.stderr.trim().split("\n").length, 1, `one line, no progress: ${run.stderr}`);
  }
  assertEquals(ls(dir), ["file", "full"]);
  assertEquals(ls(`${dir}/full`), ["keep"]);
  // a read-only location, where a tmpfs can be mounted (root) — else a chmod'ed directory (not root)
  const ro = `${dir}/ro`;
  await Deno.mkdir(ro);
  const why = await mountTmpfs(ro, "ro,size=64k");
  if (why !== null && Deno.uid() === 0) return console.warn(`skipped the read-only case: ${why}`);
  if (why !== null) await Deno.chmod(ro, 0o555);
  try {
    const run = await runCli("cli/prune.ts", [...SMALL, "--out", `${ro}/a/out`]);
    assertEquals(run.code, 2, run.stderr);
    assert(
      run.stderr.startsWith(`error: --out ${ro}/a/out: cannot create ${ro}/a: `) &&
        /Read-only file system|Permission denied/.test(run.stderr),
      run.stderr,
    );
    assertEquals(run.stderr.trim().split("\n").length, 1, run.stderr);
  } finally {
    if (why === null) await new Deno.Command("umount", { args: [ro] }).output();
    else await Deno.chmod(ro, 0o755);
  }
});

cliTest(
  "NaN weights: prune and eval exit 2 naming the tensor and index before any result; nothing written",
  async (dir) => {
    await editedCheckpoint("models/tiny-gpt2", `${dir}/norm`, "transformer.h.1.ln_2.weight", (d) => (d[5] = NaN));
    await editedCheckpoint(
      "models/tiny-gpt2",
      `${dir}/linear`,
      "transformer.h.0.attn.c_attn.weight",
      (d) => (d[384 * 2 + 7] = Infinity),
    );
    const args = SMALL.slice(2);
    const prune = await runCli("cli/prune.ts", ["--model", `${dir}/norm`, ...args, "--out", `${dir}/out`]);
    assertEquals(prune.code, 2, prune.stderr);
    assert(
      prune.stderr.includes(
        `error: ${dir}/norm: tensor transformer.h.1.ln_2.weight holds NaN at [5]; expected finite values`,
      ),
      prune.stderr,
    );
    assert(!prune.stderr.includes("dense perplexity 1/") && !prune.stderr.includes("pruning"), prune.stderr);
    const ev = await runCli("cli/eval.ts", [
      "--model",
      `${dir}/linear`,
      "--data",
      "sotu-eval",
      "--seqlen",
      "32",
      "--max-windows",
      "2",
    ]);
    assertEquals(ev.code, 2, ev.stderr);
    assert(
      ev.stderr.includes(
        `tensor transformer.h.0.attn.c_attn.weight holds Infinity at [2, 7]; expected finite values`,
      ),
      ev.stderr,
    );
    assert(!ev.stderr.includes("eval: 1/"), ev.stderr);
    assertEquals(ls(dir), ["linear", "norm"]);
  },
);

Deno.test({
  name: "negative numbers as separate arguments get the same one-line range message as --flag=value",
  sanitizeResources: false,
  fn: async () => {
    const cases: [string, string, string, string][] = [
      ["cli/prune.ts", "sparsity", "-0.1", "Expected sparsity in [0, 1) but found -0.1"],
      ["cli/prune.ts", "nsamples", "-5", "Expected --nsamples >= 1 but found -5"],
      ["cli/prune.ts", "percdamp", "-1", "Expected percdamp >= 0 but found -1"],
      ["cli/prune.ts", "max-windows", "-1", "Expected --max-windows >= 0 (0 = all) but found -1"],
      ["cli/table.ts", "nsamples", "-1", "Expected --nsamples >= 1 but found -1"],
      ["cli/eval.ts", "max-windows", "-1", "Expected --max-windows >= 1 but found -1"],
    ];
    for (const [script, flag, value, message] of cases) {
      const extra = script === "cli/eval.ts" ? ["--model", "models/tiny-gpt2", "--data", "sotu-eval"] : [];
      for (const form of [[`--${flag}`, value], [`--${flag}=${value}`]]) {
        const run = await runCli(script, [...extra, ...form]);
        assertEquals(run.code, 2, `${script} ${form.join(" ")}: ${run.stderr}`);
        assertEquals(run.stderr.trim(), `error: ${message}`, `${script} ${form.join(" ")}`);
      }
    }
    const help = await runCli("cli/prune_layer.ts", ["--help"]);
    assertEquals(help.code, 0);
    assert(help.stdout.startsWith("usage: deno task prune-layer"), help.stdout);
    const missing = await runCli("cli/prune_layer.ts", ["x.safetensors"]);
    assertEquals(missing.stderr.trim(), "error: Missing --method (see --help)", "no usage text without --help");
  },
});

Deno.test({
  name: "an internal error is one line saying how to see its stack; THANOS_DEBUG=1 shows it",
  sanitizeResources: false,
  fn: async () => {
    const plain = await runCli("tests/output_probe.ts", ["crash", "crash"]);
    assertEquals(plain.code, 1);
    assertEquals(plain.stderr.trim(), "error: a bug (internal error; THANOS_DEBUG=1 shows the stack trace)");
    const debug = await runCli("tests/output_probe.ts", ["crash", "crash"], { THANOS_DEBUG: "1" });
    assertEquals(debug.code, 1);
    assert(debug.stderr.includes("error: a bug (internal error)") && debug.stderr.includes("    at "), debug.stderr);
  },
});
