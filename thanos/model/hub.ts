/**
 * Hugging Face Hub model ids (`hf:ORG/NAME[@REV]`) resolved to a local directory, through a cache
 * laid out exactly like the Python `huggingface_hub` cache, so models downloaded by either tool are
 * shared:
 *
 * ```
 * $HF_HUB_CACHE (or $HF_HOME/hub, or ~/.cache/huggingface/hub)
 *   models--ORG--NAME/
 *     blobs/<etag>                      file contents (etag: sha256 for LFS files, git sha1 otherwise)
 *     refs/<rev>                        the commit a branch or tag resolved to
 *     snapshots/<commit>/<file>         relative symlinks into blobs/
 * ```
 *
 * A cache hit (config.json plus complete safetensors weights in the snapshot) touches no network.
 * A miss downloads config.json, tokenizer.json / tokenizer_config.json, the safetensors index and
 * weights through `@huggingface/hub`; `HF_TOKEN` is honoured for gated models; `HF_HUB_OFFLINE=1`
 * turns the download off. Every request is cut off after `timeoutMs` without a response.
 *
 * @module
 */

import { downloadFile, listFiles, modelInfo } from "@huggingface/hub";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { exists } from "../util/fs.ts";

/** A parsed `hf:ORG/NAME[@REV]` id. */
export interface HubModelId {
  /** "ORG/NAME" */
  repo: string;
  /** branch, tag or 40-hex commit; "main" when omitted */
  revision: string;
}

/** Options of {@link resolveHubModel}. */
export interface HubOptions {
  /** cache root; default from the environment (see {@link hubCacheDir}) */
  cacheDir?: string;
  /** access token; default `HF_TOKEN`, then `$HF_HOME/token` */
  token?: string;
  /** fetch implementation (injectable for tests and proxies) */
  fetch?: typeof fetch;
  /** give up on a request that has not answered after this many ms (default 30 000) */
  timeoutMs?: number;
  /** never touch the network (default: `HF_HUB_OFFLINE` is 1/true/yes) */
  offline?: boolean;
  /** Hub endpoint (default `HF_ENDPOINT` or https://huggingface.co) */
  hubUrl?: string;
}

const ID_PATTERN = /^hf:([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@(.+))?$/;
const COMMIT_PATTERN = /^[0-9a-f]{40}$/;

/** Root files a checkpoint needs besides its safetensors weights (vocab/merges: GPT-2-style tokenizers). */
const WANTED_FILES = new Set([
  "config.json",
  "generation_config.json",
  "model.safetensors.index.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "vocab.json",
  "merges.txt",
]);

/** Files a checkpoint needs from a repository (weights: safetensors only). */
function isWantedFile(path: string): boolean {
  return WANTED_FILES.has(path) || (!path.includes("/") && path.endsWith(".safetensors"));
}

/**
 * Parses a model id.
 * @param spec `hf:ORG/NAME` or `hf:ORG/NAME@REV`
 * @returns the repo and revision
 * @throws Error when `spec` is not of that form
 * @example
 * ```ts
 * parseHubId("hf:meta-llama/Llama-3.2-1B@main"); // {repo: "meta-llama/Llama-3.2-1B", revision: "main"}
 * ```
 */
export function parseHubId(spec: string): HubModelId {
  const m = ID_PATTERN.exec(spec);
  if (!m || m[2] === "." || m[2] === "..") {
    throw new Error(`hub: "${spec}" is not a model id; expected hf:ORG/NAME or hf:ORG/NAME@REVISION`);
  }
  const revision = m[3] ?? "main";
  if (revision.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`hub: "${spec}" has an invalid revision "${revision}"`);
  }
  return { repo: `${m[1]}/${m[2]}`, revision };
}

/**
 * Tells a model id from a local path.
 * @param spec what the user passed
 * @returns true when `spec` starts with `hf:`
 * @example
 * ```ts
 * isHubId("hf:gpt2/gpt2"); // true
 * isHubId("models/tiny-gpt2"); // false
 * ```
 */
export function isHubId(spec: string): boolean {
  return spec.startsWith("hf:");
}

/**
 * The cache root, resolved like `huggingface_hub`: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
 * `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
 * @param env where to read the variables (default: the process environment)
 * @returns the cache root
 * @example
 * ```ts
 * hubCacheDir(); // e.g. "/root/.cache/huggingface/hub"
 * ```
 */
export function hubCacheDir(env: { get(key: string): string | undefined } = Deno.env): string {
  const cache = env.get("HF_HUB_CACHE") ?? env.get("HUGGINGFACE_HUB_CACHE");
  if (cache) return cache;
  return join(hfHome(env), "hub");
}

function hfHome(env: { get(key: string): string | undefined }): string {
  return env.get("HF_HOME") ?? join(env.get("XDG_CACHE_HOME") ?? join(homedir(), ".cache"), "huggingface");
}

/**
 * The folder of a repo in the cache.
 * @param cacheDir the cache root
 * @param repo "ORG/NAME" (a dataset may also be a bare legacy name such as "piqa")
 * @param type "model" (default) or "dataset", as huggingface_hub names the folder
 * @returns `<cacheDir>/models--ORG--NAME` or `<cacheDir>/datasets--ORG--NAME`
 * @example
 * ```ts
 * repoCacheDir("/c", "facebook/opt-125m"); // "/c/models--facebook--opt-125m"
 * repoCacheDir("/c", "allenai/ai2_arc", "dataset"); // "/c/datasets--allenai--ai2_arc"
 * ```
 */
export function repoCacheDir(cacheDir: string, repo: string, type: "model" | "dataset" = "model"): string {
  return join(cacheDir, `${type}s--${repo.replaceAll("/", "--")}`);
}

/**
 * Looks a model up in the cache without touching the network.
 * @param id the parsed model id
 * @param cacheDir the cache root
 * @returns the snapshot directory when config.json and complete safetensors weights are there, else null
 * @example
 * ```ts
 * await findCachedModel(parseHubId("hf:gpt2/gpt2"), hubCacheDir()); // null when not downloaded yet
 * ```
 */
export async function findCachedModel(id: HubModelId, cacheDir: string): Promise<string | null> {
  const repoDir = repoCacheDir(cacheDir, id.repo);
  const commit = await cachedCommit(repoDir, id.revision);
  if (commit === null) return null;
  const snapshot = join(repoDir, "snapshots", commit);
  // exists() follows symlinks: a dangling link into blobs/ is not a hit
  if (!(await exists(join(snapshot, "config.json")))) return null;
  const index = join(snapshot, "model.safetensors.index.json");
  if (await exists(index)) {
    let shards: string[];
    try {
      shards = [...new Set(Object.values(JSON.parse(await Deno.readTextFile(index)).weight_map ?? {}))] as string[];
    } catch {
      return null; // a damaged index is not a hit; a download replaces it
    }
    for (const shard of shards) if (!(await exists(join(snapshot, shard)))) return null;
    return shards.length > 0 ? snapshot : null;
  }
  return (await exists(join(snapshot, "model.safetensors"))) ? snapshot : null;
}

/**
 * Whether downloads are off: `options.offline`, else `HF_HUB_OFFLINE` (and, for datasets, the
 * `datasets` library's own `HF_DATASETS_OFFLINE`) set to 1/true/yes/on.
 */
export function hubOffline(options: HubOptions, variables: string[] = ["HF_HUB_OFFLINE"]): boolean {
  return options.offline ?? variables.some((v) => /^(1|true|yes|on)$/i.test(Deno.env.get(v) ?? ""));
}

async function readToken(env: { get(key: string): string | undefined }): Promise<string | undefined> {
  const fromEnv = env.get("HF_TOKEN") ?? env.get("HUGGING_FACE_HUB_TOKEN");
  if (fromEnv) return fromEnv;
  try {
    return (await Deno.readTextFile(join(hfHome(env), "token"))).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Wraps fetch so that a request without a response after `ms` is aborted with a clear reason. */
function withTimeout(base: typeof fetch, ms: number): typeof fetch {
  return (input, init) => {
    const controller = new AbortController();
    const url = input instanceof Request ? input.url : String(input);
    const timer = setTimeout(() => controller.abort(new Error(`no response from ${url} within ${ms} ms`)), ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    const request = base(input, { ...init, signal });
    // Whatever happens first — a response, an error, or the timer — the other two are moot.
    return Promise.race([
      request,
      new Promise<never>((_, reject) =>
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason))
      ),
    ]).finally(() => clearTimeout(timer));
  };
}

/** An error's message with its cause, for "the Hub could not be reached: …". */
export function describeHubError(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  const cause = e?.cause instanceof Error ? ` (${e.cause.message})` : "";
  return `${e?.message ?? String(err)}${cause}`;
}

/**
 * Resolves a model id to a local snapshot directory, downloading on a cache miss.
 *
 * @param spec `hf:ORG/NAME[@REV]`
 * @param options cache, token, fetch, timeout, offline mode
 * @returns the snapshot directory (config.json, tokenizer files, safetensors weights)
 * @throws Error naming the cache path looked at, and how to pass a local directory instead, when
 *   the model is not cached and the Hub cannot be reached (or offline mode is on)
 * @example
 * ```ts
 * const dir = await resolveHubModel("hf:TinyLlama/TinyLlama-1.1B-Chat-v1.0");
 * const ckpt = await openCheckpoint(dir);
 * ```
 */
export async function resolveHubModel(spec: string, options: HubOptions = {}): Promise<string> {
  const id = parseHubId(spec);
  const cacheDir = options.cacheDir ?? hubCacheDir();
  const cached = await findCachedModel(id, cacheDir);
  if (cached) return cached;

  const repoDir = repoCacheDir(cacheDir, id.repo);
  const offline = hubOffline(options);
  const notCached = `${spec} is not in the Hugging Face cache (looked in ${repoDir} for refs/${id.revision} ` +
    `and a snapshot with config.json and *.safetensors)`;
  const instead = "Download it where the Hub is reachable (any huggingface_hub tool fills the same cache; " +
    "set HF_HUB_CACHE or HF_HOME to share it), or pass a local directory that holds config.json, " +
    "model.safetensors (or model.safetensors.index.json and its shards) and tokenizer.json instead of the hf: id.";
  if (offline) throw new Error(`${notCached}, and offline mode is on (HF_HUB_OFFLINE). ${instead}`);

  try {
    return await download(id, cacheDir, options);
  } catch (err) {
    if (err instanceof HubContentError) throw err;
    throw new Error(`${notCached}, and the Hub could not be reached: ${describeHubError(err)}. ${instead}`);
  }
}

/** A repository that was reached but cannot serve what was asked (no safetensors, no such split, …). */
export class HubContentError extends Error {}

/** The `@huggingface/hub` parameters every request shares: fetch with timeout, token, endpoint. */
export async function hubRequestParams(
  options: HubOptions,
): Promise<{ fetch: typeof fetch; accessToken?: string; hubUrl?: string }> {
  const fetchFn = withTimeout(options.fetch ?? fetch, options.timeoutMs ?? 30_000);
  const accessToken = options.token ?? (await readToken(Deno.env));
  const hubUrl = options.hubUrl ?? Deno.env.get("HF_ENDPOINT");
  return { fetch: fetchFn, ...(accessToken ? { accessToken } : {}), ...(hubUrl ? { hubUrl } : {}) };
}

/**
 * Puts one file's bytes into `<repoDir>/blobs/<etag>` (skipped when the blob is there), written to
 * `<blob>.incomplete` and renamed, as huggingface_hub does.
 * @param body fetches the bytes (called only when the blob is missing)
 * @returns the blob's path
 */
export async function storeBlob(
  repoDir: string,
  etag: string,
  path: string,
  body: () => Promise<Blob | null>,
): Promise<string> {
  const blob = join(repoDir, "blobs", etag);
  if (await exists(blob)) return blob;
  await Deno.mkdir(dirname(blob), { recursive: true });
  const bytes = await body();
  if (!bytes) throw new Error(`the Hub returned nothing for ${path}`);
  const incomplete = `${blob}.incomplete`;
  const out = await Deno.open(incomplete, { write: true, create: true, truncate: true });
  try {
    await bytes.stream().pipeTo(out.writable); // closes the file
  } catch (err) {
    await Deno.remove(incomplete).catch(() => {});
    throw err;
  }
  await Deno.rename(incomplete, blob);
  return blob;
}

/** Writes `<repoDir>/refs/<revision>` = commit (a revision may hold slashes: refs/convert/parquet). */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  const ref = join(repoDir, "refs", revision);
  await Deno.mkdir(dirname(ref), { recursive: true });
  await Deno.writeTextFile(ref, commit);
}

/**
 * The commit a cached revision points to (a 40-hex revision is its own commit), or null when the
 * cache has no such ref.
 */
export async function cachedCommit(repoDir: string, revision: string): Promise<string | null> {
  if (COMMIT_PATTERN.test(revision)) return revision;
  try {
    return (await Deno.readTextFile(join(repoDir, "refs", revision))).trim();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Whether `s` is a 40-hex commit. */
export function isCommit(s: string | undefined): s is string {
  return !!s && COMMIT_PATTERN.test(s);
}

async function download(id: HubModelId, cacheDir: string, options: HubOptions): Promise<string> {
  const common = await hubRequestParams(options);

  const info = await modelInfo({ name: id.repo, revision: id.revision, additionalFields: ["sha"], ...common });
  const commit = (info as { sha?: string }).sha;
  if (!commit || !COMMIT_PATTERN.test(commit)) {
    throw new Error(`the Hub returned no commit for ${id.repo}@${id.revision}`);
  }

  const files = [];
  for await (const entry of listFiles({ repo: id.repo, revision: commit, ...common })) {
    if (entry.type === "file" && isWantedFile(entry.path)) files.push(entry);
  }
  const names = files.map((f) => f.path);
  if (!names.includes("config.json")) throw new HubContentError(`hub: ${id.repo}@${id.revision} has no config.json`);
  if (!names.some((n) => n.endsWith(".safetensors"))) {
    throw new HubContentError(
      `hub: ${id.repo}@${id.revision} has no *.safetensors weights (only safetensors checkpoints are supported; ` +
        `convert it with the safetensors tools and pass the local directory)`,
    );
  }

  const repoDir = repoCacheDir(cacheDir, id.repo);
  const snapshot = join(repoDir, "snapshots", commit);
  for (const entry of files) {
    const etag = entry.lfs?.oid ?? entry.oid;
    if (!etag) throw new Error(`the Hub listed ${entry.path} without an object id`);
    const pointer = join(snapshot, entry.path);
    const blob = await storeBlob(
      repoDir,
      etag,
      entry.path,
      () => downloadFile({ repo: id.repo, path: entry.path, revision: commit, ...common }),
    );
    await Deno.mkdir(dirname(pointer), { recursive: true });
    await Deno.remove(pointer).catch(() => {});
    await Deno.symlink(relative(dirname(pointer), blob), pointer);
  }
  if (id.revision !== commit) await writeRef(repoDir, id.revision, commit);
  return snapshot;
}
