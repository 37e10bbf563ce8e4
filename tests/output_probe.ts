/**
 * A stand-in writer for tests/output_test.ts: opens `--out` with cli/output.ts, writes a partial
 * file into the staging area, prints "writing" on stderr, then waits for a line on stdin before
 * finishing the file and committing — so a test can signal, kill or race it at the writing stage.
 *
 * `deno run -A tests/output_probe.ts <out> <directory|file|crash> [force]` (crash: throws a plain Error)
 */
import { main } from "../cli/common.ts";
import { openOutput } from "../cli/output.ts";

await main(async () => {
  const [out, kind, force] = Deno.args;
  if (kind === "crash") throw new Error("a bug"); // an unexpected internal error, for main()'s report
  await using output = await openOutput(out, { kind: kind as "directory" | "file", force: force === "force" });
  await output.write(async (path) => {
    const file = kind === "directory" ? `${path}/model.safetensors` : path;
    if (kind === "directory") await Deno.mkdir(path);
    const f = await Deno.open(file, { write: true, createNew: true });
    await f.write(new Uint8Array(1024).fill(1)); // half of it
    console.error("writing");
    for await (const _ of Deno.stdin.readable) break; // the test says go on
    await f.write(new Uint8Array(1024).fill(2));
    f.close();
  });
  await output.commit();
  return { out };
});
