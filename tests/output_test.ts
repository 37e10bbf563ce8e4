/**
 * cli/output.ts, the output mechanism of every command that writes: checks before any work, the
 * lock, leftovers of killed runs, the atomic claim against a destination that appears during the
 * run, signals, and disk faults (a full and a read-only tmpfs, where this process may mount one).
 * A stand-in writer (tests/output_probe.ts) plays the command in subprocesses.
 */
import { UsageError } from "../cli/common.ts";
import { openOutput } from "../cli/output.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { mountTmpfs, withTempDir } from "./cli_util.ts";

const PROBE = new URL("./output_probe.ts", import.meta.url).pathname;

/** Names in `dir`, sorted (hidden ones included). */
async function ls(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** A running probe: its process, its stderr so far, and a promise of the next "writing" line. */
function probe(out: string, kind: "directory" | "file", force = false) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE, out, kind, ...(force ? ["force"] : [])],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const lines = child.stderr.pipeThrough(new TextDecoderStream());
  const reader = lines.getReader();
  const writing = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return false;
      stderr += value;
      if (stderr.includes("writing")) return true;
    }
  })();
  const rest = async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return stderr;
      stderr += value;
    }
  };
  const stdout = new Response(child.stdout).text();
  return {
    child,
    writing,
    /** lets the probe finish its file and commit */
    async go() {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode("go\n"));
      await w.close();
    },
    async done() {
      const status = await child.status;
      await child.stdin.close().catch(() => {});
      return { code: status.code, signal: status.signal, stderr: await rest(), stdout: await stdout };
    },
  };
}

Deno.test("openOutput refuses a bad destination before any work and creates nothing", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    await Deno.mkdir(`${dir}/full`);
    await Deno.writeTextFile(`${dir}/full/keep`, "keep");
    const cases: [string, "directory" | "file", string][] = [
      [`${dir}/file`, "directory", "exists and is not a directory"],
      [`${dir}/full`, "directory", "exists and is not empty; pass --force"],
      [`${dir}/full`, "file", "is a directory; expected a file path"],
      [`${dir}/file`, "file", "exists; pass --force to replace it"],
      [`${dir}/file/sub/out`, "directory", `${dir}/file is not a directory`],
      [`${dir}/file/out.json`, "file", `${dir}/file is not a directory`],
      ["", "file", "Expected --out to be a path"],
    ];
    for (const [out, kind, message] of cases) {
      const err = await assertRejects(() => openOutput(out, { kind }), UsageError);
      assert(err.message.includes(message), `${out} (${kind}): ${err.message}`);
      assert(!err.message.includes("\n"), "one line");
    }
    assertEquals(await ls(dir), ["file", "full"]);
    assertEquals(await ls(`${dir}/full`), ["keep"]);
  });
});

Deno.test("a committed output appears whole; missing parents are created; nothing else is left", async () => {
  await withTempDir(async (dir) => {
    {
      await using output = await openOutput(`${dir}/a/b/model`, { kind: "directory" });
      assert(output.path.startsWith(`${dir}/a/b/.model.staging-`), output.path);
      assertEquals(await ls(`${dir}/a/b`), [".model.lock", `.model.staging-${Deno.pid}`]);
      await output.write(async (path) => {
        await Deno.mkdir(path);
        await Deno.writeTextFile(`${path}/x`, "1");
      });
      await output.commit();
    }
    assertEquals(await ls(`${dir}/a/b`), ["model"]);
    assertEquals(await Deno.readTextFile(`${dir}/a/b/model/x`), "1");
    // an existing empty directory is taken; an existing file only with force
    await Deno.mkdir(`${dir}/empty`);
    await Deno.writeTextFile(`${dir}/t.json`, "old");
    for (const [out, kind, force] of [[`${dir}/empty`, "directory", false], [`${dir}/t.json`, "file", true]] as const) {
      await using output = await openOutput(out, { kind, force });
      await output.write((path) => kind === "file" ? Deno.writeTextFile(path, "new") : Deno.mkdir(path));
      await output.commit();
    }
    assertEquals(await Deno.readTextFile(`${dir}/t.json`), "new");
    assertEquals(await ls(dir), ["a", "empty", "t.json"]);
  });
});

Deno.test("a run that fails after opening its output leaves nothing, not even the parents it created", async () => {
  await withTempDir(async (dir) => {
    await assertRejects(
      async () => {
        await using output = await openOutput(`${dir}/new/deeper/out`, { kind: "directory" });
        await output.write((path) => Deno.mkdir(path));
        throw new Error("the work failed");
      },
      Error,
      "the work failed",
    );
    assertEquals(await ls(dir), []);
  });
});

Deno.test("a destination that appears or changes during the run is refused and left untouched", async () => {
  await withTempDir(async (dir) => {
    const stage = async (out: string, kind: "directory" | "file", force = false) => {
      const output = await openOutput(out, { kind, force });
      await output.write(async (path) => {
        if (kind === "directory") {
          await Deno.mkdir(path);
          await Deno.writeTextFile(`${path}/result`, "ours");
        } else await Deno.writeTextFile(path, "ours");
      });
      return output;
    };
    // appeared: a directory with a file, a file
    const d = await stage(`${dir}/d`, "directory");
    await Deno.mkdir(`${dir}/d`);
    await Deno.writeTextFile(`${dir}/d/theirs`, "theirs");
    let err = await assertRejects(() => d.commit(), UsageError);
    assert(err.message.includes("appeared during the run"), err.message);
    assertEquals(await ls(`${dir}/d`), ["theirs"]);
    const f = await stage(`${dir}/f.json`, "file");
    await Deno.writeTextFile(`${dir}/f.json`, "theirs");
    err = await assertRejects(() => f.commit(), UsageError);
    assert(err.message.includes("appeared during the run"), err.message);
    assertEquals(await Deno.readTextFile(`${dir}/f.json`), "theirs");
    // changed: an empty directory that gained a file
    await Deno.mkdir(`${dir}/e`);
    const e = await stage(`${dir}/e`, "directory");
    await Deno.writeTextFile(`${dir}/e/theirs`, "theirs");
    err = await assertRejects(() => e.commit(), UsageError);
    assert(err.message.includes("gained files during the run"), err.message);
    assertEquals(await ls(`${dir}/e`), ["theirs"]);
    assertEquals(await ls(dir), ["d", "e", "f.json"]); // no staging, no lock
    // with force, the run replaces what appeared
    const g = await stage(`${dir}/d`, "directory", true);
    await Deno.writeTextFile(`${dir}/d/more`, "theirs");
    await g.commit();
    assertEquals(await ls(`${dir}/d`), ["result"]);
    assertEquals(await ls(dir), ["d", "e", "f.json"]);
  });
});

Deno.test("a second run to the same destination fails at once naming the first; a dead run's lock and leftovers are removed", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/model`;
    const first = probe(out, "directory");
    assert(await first.writing);
    const err = await assertRejects(() => openOutput(out, { kind: "directory" }), UsageError);
    assert(err.message.includes(`being written by another run (pid ${first.child.pid}`), err.message);
    // SIGKILL at the writing stage: the lock and the partial file stay behind …
    first.child.kill("SIGKILL");
    const killed = await first.done();
    assertEquals(killed.signal, "SIGKILL");
    assertEquals(await ls(dir), [".model.lock", `.model.staging-${first.child.pid}`]);
    // … with the leftover names of the earlier writer too
    await Deno.mkdir(`${dir}/..model.staging-abcd1234.ef567890.tmp`);
    // … and the next run recognises and removes them
    const notices: string[] = [];
    {
      await using output = await openOutput(out, { kind: "directory", notice: (m) => notices.push(m) });
      assertEquals(await ls(dir), [".model.lock", `.model.staging-${Deno.pid}`]);
      await output.write((path) => Deno.mkdir(path));
      await output.commit();
    }
    assertEquals(await ls(dir), ["model"]);
    assertEquals(notices.length, 3, notices.join("\n"));
    assert(notices[0].includes(`removed the stale lock of process ${first.child.pid}, which is no longer running`));
  });
});

Deno.test("two concurrent runs to one destination: one writes, the other fails naming it, nothing is mixed", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/table.json`;
    const [a, b] = [probe(out, "file"), probe(out, "file")];
    // both start at once; the one that got the lock waits at its writing stage, the other exits
    const reached = await Promise.all([a.writing, b.writing]);
    assertEquals(reached.filter(Boolean).length, 1, "exactly one run got to write");
    await (reached[0] ? a : b).go();
    const results = await Promise.all([a.done(), b.done()]);
    const codes = results.map((r) => r.code).sort();
    assertEquals(codes, [0, 2], results.map((r) => r.stderr).join("\n"));
    const loser = results.find((r) => r.code === 2)!;
    assert(/being written by another run \(pid \d+/.test(loser.stderr), loser.stderr);
    assertEquals(await ls(dir), ["table.json"]);
    const bytes = await Deno.readFile(out);
    assertEquals(bytes.length, 2048);
  });
});

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} at the writing stage exits ${code} and removes every staging artefact`, async () => {
    await withTempDir(async (dir) => {
      const p = probe(`${dir}/new/model`, "directory");
      assert(await p.writing, "the probe reached its writing stage");
      assertEquals((await ls(`${dir}/new`)).length, 2, "lock and staging exist while writing");
      p.child.kill(signal);
      const r = await p.done();
      assertEquals(r.code, code, r.stderr);
      assert(r.stderr.includes(`interrupted (${signal}): nothing was written to ${dir}/new/model`), r.stderr);
      assertEquals(await ls(dir), [], "not even the parent it created");
    });
  });
}

async function umount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
}

Deno.test("disk full while writing: one line naming --out and the cause, exit-2 error, nothing left", async (t) => {
  await withTempDir(async (dir) => {
    const why = await mountTmpfs(dir, "size=64k");
    if (why) {
      console.warn(`skipped: cannot mount a small tmpfs here (${why}); CI runs as root, where it can`);
      return t.step({ name: "skipped: no tmpfs", ignore: true, fn: () => {} });
    }
    try {
      const output = await openOutput(`${dir}/sub/model`, { kind: "directory" });
      const err = await assertRejects(() =>
        output.write(async (path) => {
          await Deno.mkdir(path);
          await Deno.writeFile(`${path}/model.safetensors`, new Uint8Array(1 << 20));
        }), UsageError);
      await output.discard();
      assert(err.message.startsWith(`--out ${dir}/sub/model: writing failed: No space left on device`), err.message);
      assert(!err.message.includes("\n"));
      assertEquals(await ls(dir), []);
    } finally {
      await umount(dir);
    }
  });
});

Deno.test("a read-only or unwritable location is refused before any work, naming it", async () => {
  await withTempDir(async (dir) => {
    const why = await mountTmpfs(dir, "ro,size=64k");
    if (why === null) {
      try {
        const err = await assertRejects(() => openOutput(`${dir}/a/out.json`, { kind: "file" }), UsageError);
        assert(
          err.message.startsWith(`--out ${dir}/a/out.json: cannot create ${dir}/a: Read-only file system`),
          err.message,
        );
      } finally {
        await umount(dir);
      }
    } else if (Deno.uid() !== 0) {
      await Deno.chmod(dir, 0o555);
      const err = await assertRejects(() => openOutput(`${dir}/out.json`, { kind: "file" }), UsageError);
      assert(err.message.startsWith(`--out ${dir}/out.json: cannot write in ${dir}: Permission denied`), err.message);
      await Deno.chmod(dir, 0o755);
    } else {
      console.warn(`skipped: root without mount (${why}) can write anywhere`);
    }
    assertEquals(await ls(dir), []);
  });
});
