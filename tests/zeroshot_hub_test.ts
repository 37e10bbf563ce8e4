/**
 * Task splits from the Hub (thanos/zeroshot/hub.ts) against a fake Hub served on 127.0.0.1 (the real
 * one is not reachable from tests): the parquet conversion's API and resolve routes, real HTTP through
 * `@huggingface/hub` and fetch. Checks the huggingface_hub cache layout of a download, that a second
 * resolve is a cache hit with the server gone, the "only config" rule of `dataset_name: null`, the
 * offline and unreachable errors, and `deno task zeroshot`'s offline refusal (exit 2, before GPU work).
 */

import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { cliTest, runCli } from "./cli_util.ts";
import { loadParquetDocs, loadTaskDocs } from "../thanos/zeroshot/data.ts";
import { PARQUET_REVISION, resolveTaskData } from "../thanos/zeroshot/hub.ts";
import { getTask } from "../thanos/zeroshot/tasks.ts";
import { prepareZeroShot } from "../cli/zeroshot.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";

const COMMIT = "fedcba9876543210fedcba9876543210fedcba98";
const utf8 = (name: string) => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" });
const list = (name: string) => [
  { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  utf8("element"),
];

async function sample(task: string): Promise<Record<string, any>[]> {
  return (await loadTaskDocs("data/zeroshot-sample", getTask(task))).docs as Record<string, any>[];
}

/** ai2_arc rows as the Hub's export stores them: `choices` a struct of two string lists. */
function arcParquet(docs: Record<string, any>[]): Uint8Array {
  const column = (name: string) => ({ name, data: docs.map((d) => d[name]) });
  return new Uint8Array(parquetWriteBuffer({
    columnData: ["id", "question", "choices", "answerKey"].map(column),
    schema: [
      { name: "root", num_children: 4 },
      utf8("id"),
      utf8("question"),
      { name: "choices", repetition_type: "OPTIONAL", num_children: 2 },
      ...list("text"),
      ...list("label"),
      utf8("answerKey"),
    ] as any,
  }));
}

function piqaParquet(docs: Record<string, any>[]): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({
    columnData: [
      ...["goal", "sol1", "sol2"].map((name) => ({ name, data: docs.map((d) => d[name]), type: "STRING" as const })),
      { name: "label", data: docs.map((d) => BigInt(d.label)), type: "INT64" as const }, // ClassLabel: int64
    ],
  }));
}

interface FakeFile {
  bytes: Uint8Array;
  oid: string;
}

/** A fake Hub on 127.0.0.1: dataset info at refs/convert/parquet, tree listings, resolve with ranges. */
function serveHub(datasets: Record<string, Record<string, FakeFile>>, seen: string[]) {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    seen.push(path);
    for (const [name, files] of Object.entries(datasets)) {
      if (path === `/api/datasets/${name}/revision/${PARQUET_REVISION}`) {
        return json({ _id: "x", id: name, sha: COMMIT, lastModified: "2024-01-01T00:00:00Z" });
      }
      const tree = `/api/datasets/${name}/tree/${COMMIT}`;
      if (path === tree || path.startsWith(`${tree}/`)) {
        const dir = path.slice(tree.length + 1);
        const entries = Object.entries(files).filter(([p]) => dir === "" || p.startsWith(`${dir}/`));
        if (entries.length === 0) return json({ error: "not found" }, 404);
        if (dir === "") {
          return json([...new Set(entries.map(([p]) => p.split("/")[0]))].map((p) => ({ type: "directory", path: p })));
        }
        return json(entries.map(([p, f]) => ({ type: "file", path: p, oid: f.oid, size: f.bytes.length })));
      }
      const resolve = `/datasets/${name}/resolve/${COMMIT}/`;
      if (path.startsWith(resolve)) {
        const file = files[path.slice(resolve.length)];
        if (!file) return new Response("no", { status: 404, headers: { "X-Error-Code": "EntryNotFound" } });
        const range = /bytes=(\d+)-(\d+)/.exec(req.headers.get("range") ?? "");
        const headers = { ETag: `"${file.oid}"`, "accept-ranges": "bytes" };
        if (!range) return new Response(file.bytes.slice(), { headers });
        const [a, b] = [Number(range[1]), Math.min(Number(range[2]), file.bytes.length - 1)];
        return new Response(file.bytes.slice(a, b + 1), {
          status: 206,
          headers: { ...headers, "content-range": `bytes ${a}-${b}/${file.bytes.length}` },
        });
      }
    }
    return new Response("unexpected", { status: 500 });
  });
}

cliTest(
  "a task split downloads from the Hub's parquet conversion into the huggingface_hub cache, then hits offline",
  async (cacheDir) => {
    const arc = await sample("arc_easy"), piqa = await sample("piqa");
    const datasets = {
      "allenai/ai2_arc": {
        "ARC-Easy/test/0000.parquet": { bytes: arcParquet(arc.slice(0, 10)), oid: "a".repeat(40) },
        "ARC-Easy/test/0001.parquet": { bytes: arcParquet(arc.slice(10)), oid: "b".repeat(40) },
        "ARC-Easy/validation/0000.parquet": { bytes: arcParquet(arc.slice(0, 1)), oid: "c".repeat(40) },
        "ARC-Challenge/test/0000.parquet": { bytes: arcParquet(arc.slice(0, 2)), oid: "d".repeat(40) },
      },
      // dataset_name null: the export's only config (piqa's script calls it plain_text)
      "piqa": { "plain_text/validation/0000.parquet": { bytes: piqaParquet(piqa), oid: "e".repeat(40) } },
    };
    const seen: string[] = [];
    const server = serveHub(datasets, seen);
    const hubUrl = `http://127.0.0.1:${server.addr.port}`;
    try {
      const got = await resolveTaskData(getTask("arc_easy"), { cacheDir, hubUrl, offline: false, token: "" });
      const repoDir = join(cacheDir, "datasets--allenai--ai2_arc");
      const split = join(repoDir, "snapshots", COMMIT, "ARC-Easy", "test");
      assertEquals(got, {
        files: [join(split, "0000.parquet"), join(split, "0001.parquet")],
        config: "ARC-Easy",
        commit: COMMIT,
        downloaded: true,
      });
      assertEquals(await Deno.readTextFile(join(repoDir, "refs", "refs", "convert", "parquet")), COMMIT);
      assertEquals(await Deno.readLink(join(split, "0001.parquet")), `../../../../blobs/${"b".repeat(40)}`);
      const blobs = (await Array.fromAsync(Deno.readDir(join(repoDir, "blobs")))).map((e) => e.name).sort();
      assertEquals(blobs, ["a".repeat(40), "b".repeat(40)]); // only the task's split
      const loaded = await loadParquetDocs(getTask("arc_easy"), got.files);
      assertEquals(loaded.docs, arc);
      assertEquals(loaded.where(12), `${join(split, "0001.parquet")} row 2`);

      const p = await resolveTaskData(getTask("piqa"), { cacheDir, hubUrl, offline: false, token: "" });
      assertEquals([p.config, p.files.length], ["plain_text", 1]);
      assertEquals((await loadParquetDocs(getTask("piqa"), p.files)).docs, piqa);
    } finally {
      await server.shutdown();
    }
    // the server is gone: cache hits, offline or not
    const hits = seen.length;
    for (const offline of [true, false]) {
      const again = await resolveTaskData(getTask("arc_easy"), { cacheDir, hubUrl, offline });
      assertEquals([again.downloaded, again.files.length], [false, 2]);
      assertEquals((await resolveTaskData(getTask("piqa"), { cacheDir, hubUrl, offline })).config, "plain_text");
    }
    assertEquals(seen.length, hits);
    // a task of the same dataset whose split is not cached is a miss; offline, one clear error
    await assertRejects(
      () => resolveTaskData(getTask("arc_challenge"), { cacheDir, hubUrl, offline: true }),
      Error,
      `arc_challenge: the allenai/ai2_arc (ARC-Challenge) test split is not in the Hugging Face cache (looked in ` +
        `${cacheDir}/datasets--allenai--ai2_arc for refs/refs/convert/parquet and a snapshot with ` +
        "ARC-Challenge/test/*.parquet), and offline mode is on (HF_HUB_OFFLINE).",
    );
    // unreachable (the server is down): named as such, with the --data way out
    const err = await assertRejects(
      () => resolveTaskData(getTask("arc_challenge"), { cacheDir, hubUrl, offline: false, timeoutMs: 5000 }),
      Error,
      "and the Hub could not be reached: ",
    );
    assert(err.message.endsWith("or pass --data DIR holding arc_challenge.jsonl or arc_challenge.parquet."));
  },
);

cliTest(
  "a split missing from the Hub's export is named, and no partial split is left in the cache",
  async (cacheDir) => {
    const server = serveHub({
      "super_glue": { "rte/validation/0000.parquet": { bytes: new Uint8Array(4), oid: "f".repeat(40) } },
    }, []);
    try {
      await assertRejects(
        () =>
          resolveTaskData(getTask("boolq"), {
            cacheDir,
            hubUrl: `http://127.0.0.1:${server.addr.port}`,
            offline: false,
            token: "",
          }),
        Error,
        `hub: the parquet conversion of dataset super_glue (${PARQUET_REVISION} at ${COMMIT}) has no ` +
          "boolq/validation/*.parquet; task boolq expected its validation split there",
      );
    } finally {
      await server.shutdown();
    }
    assertEquals(await Array.fromAsync(Deno.readDir(cacheDir)), []);
  },
);

cliTest(
  "zeroshot without --data goes to the Hub: prepareZeroShot reads the download; offline CLI exits 2 at once",
  async (dir) => {
    const docs = await sample("piqa");
    const server = serveHub(
      { "piqa": { "plain_text/validation/0000.parquet": { bytes: piqaParquet(docs), oid: "e".repeat(40) } } },
      [],
    );
    try {
      const checkpoint = await openCheckpoint("models/tiny-gpt2");
      const hub = {
        cacheDir: `${dir}/cache`,
        hubUrl: `http://127.0.0.1:${server.addr.port}`,
        offline: false,
        token: "",
      };
      const [fromHub] = await prepareZeroShot(checkpoint, ["piqa"], undefined, 3, hub);
      const [fromDir] = await prepareZeroShot(checkpoint, ["piqa"], "data/zeroshot-sample", 3);
      assertEquals(fromHub.encoded, fromDir.encoded);
      assertEquals(fromHub.docs, fromDir.docs);
    } finally {
      await server.shutdown();
    }
    const env = { HF_HUB_OFFLINE: "1", HF_HUB_CACHE: `${dir}/empty` };
    const run = await runCli("cli/zeroshot.ts", ["--model", "models/tiny-gpt2", "--tasks", "hellaswag"], env);
    assertEquals(run.code, 2, run.stderr);
    const lines = run.stderr.trim().split("\n");
    assertEquals(lines.length, 1, run.stderr);
    assert(lines[0].startsWith("error: hellaswag: the hellaswag validation split is not in the "), run.stderr);
    const bad = await runCli("cli/zeroshot.ts", [
      "--model",
      "models/tiny-gpt2",
      "--tasks",
      "piqa",
      "--data",
      "hf:x/y",
    ]);
    assertEquals(bad.code, 2);
    assertEquals(
      bad.stderr.trim(),
      "error: --data hf:x/y: expected a directory, or hf: (each task's dataset from the Hub, as its lm-eval YAML names it)",
    );
  },
);
