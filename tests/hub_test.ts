/**
 * Hub ids and the Hugging Face cache, without network: a fake cache for the hit path, injected
 * fetch functions for the miss paths (unreachable, hanging, offline) and for a download from a
 * fake Hub that must land in the huggingface_hub cache layout.
 */
import { join } from "node:path";
import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { randn } from "./util.ts";
import { findCachedModel, hubCacheDir, parseHubId, repoCacheDir, resolveHubModel } from "../thanos/model/hub.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { modelLayout } from "../thanos/model/layout.ts";
import { parseConfig } from "../thanos/model/config.ts";
import { type TensorInput, writeSafetensors } from "../thanos/model/safetensors.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const CONFIG = { model_type: "gpt2", vocab_size: 11, n_positions: 8, n_embd: 4, n_layer: 1, n_head: 2 };

/** fetch that fails the test if anything touches the network. */
const noNetwork: typeof fetch = (input) => {
  throw new Error(`the network was touched: ${input}`);
};

async function checkpointBytes(): Promise<{ config: Uint8Array; weights: Uint8Array }> {
  const dir = await Deno.makeTempDir();
  const tensors = new Map<string, TensorInput>(
    modelLayout(parseConfig(CONFIG)).tensors.map(({ name, shape }, i) => [
      name,
      { dtype: "F32", shape, data: randn(shape.reduce((a, b) => a * b, 1), i) },
    ]),
  );
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
  const weights = await Deno.readFile(join(dir, "model.safetensors"));
  await Deno.remove(dir, { recursive: true });
  return { config: new TextEncoder().encode(JSON.stringify(CONFIG)), weights };
}

/** Lays out a cache exactly as huggingface_hub does: blobs, refs/<rev>, snapshot symlinks. */
async function fakeCache(cacheDir: string, repo: string, files: Record<string, Uint8Array>, revision = "main") {
  const repoDir = repoCacheDir(cacheDir, repo);
  await Deno.mkdir(join(repoDir, "blobs"), { recursive: true });
  await Deno.mkdir(join(repoDir, "refs"), { recursive: true });
  await Deno.mkdir(join(repoDir, "snapshots", COMMIT), { recursive: true });
  await Deno.writeTextFile(join(repoDir, "refs", revision), COMMIT);
  let n = 0;
  for (const [name, bytes] of Object.entries(files)) {
    const etag = `${"e".repeat(39)}${n++}`;
    await Deno.writeFile(join(repoDir, "blobs", etag), bytes);
    await Deno.symlink(`../../blobs/${etag}`, join(repoDir, "snapshots", COMMIT, name));
  }
  return join(repoDir, "snapshots", COMMIT);
}

Deno.test("parseHubId reads hf:ORG/NAME[@REV] and rejects anything else", () => {
  assertEquals(parseHubId("hf:TinyLlama/TinyLlama-1.1B-Chat-v1.0"), {
    repo: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    revision: "main",
  });
  assertEquals(parseHubId("hf:facebook/opt-125m@refs/pr/1"), { repo: "facebook/opt-125m", revision: "refs/pr/1" });
  assertEquals(parseHubId(`hf:gpt2/gpt2@${COMMIT}`).revision, COMMIT);
  for (const bad of ["gpt2", "hf:gpt2", "hf:a/b/c", "hf:a/..", "hf:a/b@", "hf:a/b@x/../y"]) {
    assertThrows(() => parseHubId(bad), Error, `hub: "${bad}"`);
  }
  assertThrows(
    () => parseHubId("hf:a/b/c"),
    Error,
    'hub: "hf:a/b/c" is not a model id; expected hf:ORG/NAME or hf:ORG/NAME@REVISION',
  );
});

Deno.test("hubCacheDir follows HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME, then ~/.cache", () => {
  const env = (vars: Record<string, string>) => ({ get: (k: string) => vars[k] });
  assertEquals(hubCacheDir(env({ HF_HUB_CACHE: "/c", HF_HOME: "/h" })), "/c");
  assertEquals(hubCacheDir(env({ HF_HOME: "/h" })), "/h/hub");
  assertEquals(hubCacheDir(env({ XDG_CACHE_HOME: "/x" })), "/x/huggingface/hub");
  assertEquals(hubCacheDir(env({})).endsWith("/.cache/huggingface/hub"), true);
});

Deno.test("a cache hit resolves without touching the network and opens as a checkpoint", async () => {
  const cacheDir = await Deno.makeTempDir();
  const { config, weights } = await checkpointBytes();
  const snapshot = await fakeCache(cacheDir, "org/tiny-gpt2", { "config.json": config, "model.safetensors": weights });
  assertEquals(await resolveHubModel("hf:org/tiny-gpt2", { cacheDir, fetch: noNetwork }), snapshot);
  assertEquals(await resolveHubModel(`hf:org/tiny-gpt2@${COMMIT}`, { cacheDir, fetch: noNetwork }), snapshot);
  const ckpt = await openCheckpoint("hf:org/tiny-gpt2", { cacheDir, fetch: noNetwork });
  assertEquals([ckpt.dir, ckpt.source, ckpt.config.family], [snapshot, "hf:org/tiny-gpt2", "gpt2"]);
  assertEquals((await ckpt.readFloat32("transformer.wte.weight")).shape, [11, 4]);
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("an incomplete snapshot (a shard missing) is not a hit", async () => {
  const cacheDir = await Deno.makeTempDir();
  const index = { weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" } };
  await fakeCache(cacheDir, "org/sharded", {
    "config.json": new TextEncoder().encode("{}"),
    "model.safetensors.index.json": new TextEncoder().encode(JSON.stringify(index)),
    "model-00001-of-00002.safetensors": new Uint8Array(8),
  });
  assertEquals(await findCachedModel({ repo: "org/sharded", revision: "main" }, cacheDir), null);
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("a miss with the Hub unreachable fails fast, naming the cache path and the local-directory way", async () => {
  const cacheDir = await Deno.makeTempDir();
  const unreachable: typeof fetch = () => Promise.reject(new TypeError("error sending request: dns error"));
  const started = Date.now();
  const err = await assertRejects(
    () => resolveHubModel("hf:meta-llama/Llama-3.2-1B", { cacheDir, fetch: unreachable, offline: false }),
    Error,
    `hf:meta-llama/Llama-3.2-1B is not in the Hugging Face cache (looked in ${cacheDir}/models--meta-llama--Llama-3.2-1B ` +
      "for refs/main and a snapshot with config.json and *.safetensors), and the Hub could not be reached: " +
      "error sending request: dns error.",
  );
  assertEquals(err.message.includes("or pass a local directory that holds config.json"), true);
  assertEquals(Date.now() - started < 5000, true);
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("a hanging Hub is cut off after timeoutMs", async () => {
  const cacheDir = await Deno.makeTempDir();
  const hanging: typeof fetch = (_input, init) =>
    new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
  await assertRejects(
    () => resolveHubModel("hf:org/slow", { cacheDir, fetch: hanging, timeoutMs: 50, offline: false }),
    Error,
    "the Hub could not be reached: no response from https://huggingface.co/api/models/org/slow/revision/main",
  );
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("offline mode never touches the network", async () => {
  const cacheDir = await Deno.makeTempDir();
  await assertRejects(
    () => resolveHubModel("hf:org/x@v1", { cacheDir, fetch: noNetwork, offline: true }),
    Error,
    `hf:org/x@v1 is not in the Hugging Face cache (looked in ${cacheDir}/models--org--x for refs/v1 and a snapshot ` +
      "with config.json and *.safetensors), and offline mode is on (HF_HUB_OFFLINE).",
  );
  await Deno.remove(cacheDir, { recursive: true });
});

/** A fake Hub: model info, tree listing and file resolution with Range support. */
function fakeHub(
  files: Record<string, { bytes: Uint8Array; oid: string; lfs?: string }>,
  seen: string[],
): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    seen.push(`${url.pathname} auth=${headers.get("authorization")}`);
    const json = (body: unknown) =>
      Promise.resolve(new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } }));
    if (url.pathname === "/api/models/org/tiny/revision/main") {
      return json({ _id: "x", id: "org/tiny", sha: COMMIT, lastModified: "2024-01-01T00:00:00Z" });
    }
    if (url.pathname === `/api/models/org/tiny/tree/${COMMIT}`) {
      return json([
        { type: "file", path: ".gitattributes", oid: "1".repeat(40), size: 1 },
        {
          type: "file",
          path: "pytorch_model.bin",
          oid: "2".repeat(40),
          size: 1,
          lfs: { oid: "3".repeat(64), size: 1, pointerSize: 1 },
        },
        ...Object.entries(files).map(([path, f]) => ({
          type: "file",
          path,
          oid: f.oid,
          size: f.bytes.length,
          ...(f.lfs ? { lfs: { oid: f.lfs, size: f.bytes.length, pointerSize: 130 } } : {}),
        })),
      ]);
    }
    const resolve = `/org/tiny/resolve/${COMMIT}/`;
    if (url.pathname.startsWith(resolve)) {
      const file = files[url.pathname.slice(resolve.length)];
      if (!file) {
        return Promise.resolve(
          new Response("not found", { status: 404, headers: { "X-Error-Code": "EntryNotFound" } }),
        );
      }
      const range = /bytes=(\d+)-(\d+)/.exec(headers.get("range") ?? "");
      const common = { ETag: `"${file.lfs ?? file.oid}"`, "accept-ranges": "bytes" };
      if (range) {
        const [a, b] = [Number(range[1]), Math.min(Number(range[2]), file.bytes.length - 1)];
        return Promise.resolve(
          new Response(file.bytes.slice(a, b + 1), {
            status: 206,
            headers: { ...common, "content-range": `bytes ${a}-${b}/${file.bytes.length}` },
          }),
        );
      }
      return Promise.resolve(new Response(file.bytes.slice(), { headers: common }));
    }
    return Promise.resolve(new Response("unexpected", { status: 500 }));
  };
}

Deno.test("a miss downloads config and safetensors into the huggingface_hub cache layout; then it is a hit", async () => {
  const cacheDir = await Deno.makeTempDir();
  const { config, weights } = await checkpointBytes();
  const tokenizer = new TextEncoder().encode('{"model": {}}');
  const files = {
    "config.json": { bytes: config, oid: "a".repeat(40) },
    "tokenizer.json": { bytes: tokenizer, oid: "b".repeat(40) },
    "model.safetensors": { bytes: weights, oid: "c".repeat(40), lfs: "d".repeat(64) },
  };
  const seen: string[] = [];
  const snapshot = await resolveHubModel("hf:org/tiny", {
    cacheDir,
    fetch: fakeHub(files, seen),
    token: "hf_secret",
    offline: false,
  });
  const repoDir = join(cacheDir, "models--org--tiny");
  assertEquals(snapshot, join(repoDir, "snapshots", COMMIT));
  assertEquals(await Deno.readTextFile(join(repoDir, "refs", "main")), COMMIT);
  assertEquals(await Deno.readLink(join(snapshot, "config.json")), `../../blobs/${"a".repeat(40)}`);
  assertEquals(await Deno.readLink(join(snapshot, "model.safetensors")), `../../blobs/${"d".repeat(64)}`); // LFS: sha256
  assertEquals(await Deno.readFile(join(repoDir, "blobs", "d".repeat(64))), weights);
  assertEquals((await Array.fromAsync(Deno.readDir(join(repoDir, "blobs")))).length, 3); // no .bin, no .gitattributes
  assertEquals(seen.every((s) => s.endsWith("auth=Bearer hf_secret")), true);
  assertEquals(seen.some((s) => s.includes("pytorch_model.bin")), false);

  const ckpt = await openCheckpoint("hf:org/tiny", { cacheDir, fetch: noNetwork });
  assertEquals(ckpt.tokenizerPath, join(snapshot, "tokenizer.json"));
  assertEquals(ckpt.layout.blocks.length, 1);
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("a repository without safetensors weights is reported as such", async () => {
  const cacheDir = await Deno.makeTempDir();
  const files = { "config.json": { bytes: new TextEncoder().encode("{}"), oid: "a".repeat(40) } };
  await assertRejects(
    () => resolveHubModel("hf:org/tiny", { cacheDir, fetch: fakeHub(files, []), offline: false }),
    Error,
    "hub: org/tiny@main has no *.safetensors weights (only safetensors checkpoints are supported",
  );
  await Deno.remove(cacheDir, { recursive: true });
});
