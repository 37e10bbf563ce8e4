/**
 * A task's evaluation split from the Hugging Face Hub, as lm-eval 0.4.7 gets it: the task config's
 * `dataset_path`, `dataset_name` and split (tasks.ts, from the task YAMLs) passed to
 * `datasets.load_dataset`. This module reads the Hub's parquet conversion of that dataset — the branch
 * `refs/convert/parquet`, files `<config>/<split>/NNNN.parquet` — into the same cache as models
 * (thanos/model/hub.ts), laid out as `huggingface_hub` lays out a dataset repo:
 *
 * ```
 * $HF_HUB_CACHE (or $HF_HOME/hub, or ~/.cache/huggingface/hub)
 *   datasets--allenai--ai2_arc/
 *     blobs/<etag>
 *     refs/convert/parquet                       the commit the branch resolved to
 *     snapshots/<commit>/ARC-Easy/test/0000.parquet -> ../../../../blobs/<etag>
 * ```
 *
 * Why the parquet conversion (and not a dataset script or the repo's own files): `datasets`
 * 2.16–2.21 (lm-eval 0.4.7 requires `datasets>=2.16.0`), in `dataset_module_factory`
 * (huggingface/datasets src/datasets/load.py), loads a Hub dataset that has a loading script —
 * piqa, super_glue, hellaswag, winogrande as named by the 0.4.7 YAMLs — from this parquet export
 * whenever the export is ready and no config was required to pick a default (`HubDatasetModuleFactoryWithParquetExport`,
 * data files `<config>/<split>/*.parquet`); only when the export is missing does it run the script. For the
 * datasets stored as parquet in the repo itself (allenai/ai2_arc, openbookqa's repo), the conversion
 * holds copies of those files, so the rows are the same. One source for all seven keeps one code path.
 * A task whose YAML names no config (`dataset_name: null`: piqa, hellaswag) takes the export's only
 * config, as `load_dataset(path)` does for a dataset with one config.
 *
 * Legacy names (`piqa`, `super_glue`, `hellaswag`, `winogrande`, `openbookqa`) are requested as the
 * YAMLs write them; the Hub redirects them to their current repos (ybisk/piqa, aps/super_glue,
 * Rowan/hellaswag, allenai/winogrande, allenai/openbookqa). The cache folder is named after the name
 * requested, as `huggingface_hub` names it.
 *
 * A cache hit (the ref and a snapshot with `<config>/<split>/*.parquet`) touches no network. A
 * download writes every blob, then links the split's files into a temporary folder renamed into
 * place, then the ref — so an interrupted download is a miss, never a partial split.
 * `HF_HUB_OFFLINE` (or `datasets`' own `HF_DATASETS_OFFLINE`) turns downloads off.
 *
 * @module
 */

import { datasetInfo, downloadFile, listFiles } from "@huggingface/hub";
import { dirname, join, relative } from "node:path";
import {
  cachedCommit,
  describeHubError,
  hubCacheDir,
  HubContentError,
  hubOffline,
  type HubOptions,
  hubRequestParams,
  isCommit,
  repoCacheDir,
  storeBlob,
  writeRef,
} from "../model/hub.ts";
import { isDirectory, isFile } from "../util/fs.ts";
import type { ZeroShotTask } from "./tasks.ts";

/** The branch of the Hub's parquet conversion of a dataset. */
export const PARQUET_REVISION = "refs/convert/parquet";

/** Where a task's split was found. */
export interface TaskDataFiles {
  /** the split's parquet files, in order */
  files: string[];
  /** the dataset config read (the YAML's `dataset_name`, or the export's only config) */
  config: string;
  /** the commit of refs/convert/parquet */
  commit: string;
  /** whether the files were downloaded now (false: a cache hit) */
  downloaded: boolean;
}

/** Options of {@link resolveTaskData}: those of models, and a hook called before a download starts. */
export interface TaskDataOptions extends HubOptions {
  /** called once the cache missed and a download is about to start (not on a hit) */
  onDownload?: (event: { task: string; dataset: string; revision: string }) => void | Promise<void>;
}

/** `load_dataset(path)` without a config: the only config, else an error listing them. */
function onlyConfig(task: ZeroShotTask, configs: string[]): string {
  if (configs.length === 1) return configs[0];
  throw new HubContentError(
    `hub: the parquet conversion of dataset ${task.datasetPath} has ${
      configs.length === 0 ? "no configs" : `configs ${configs.join(", ")}`
    }; task ${task.name} names none and expected exactly one`,
  );
}

async function parquetFilesIn(dir: string): Promise<string[] | null> {
  if (!(await isDirectory(dir))) return null;
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    // isFile follows the symlink: a dangling link into blobs/ is not a hit
    if (e.name.endsWith(".parquet") && (await isFile(join(dir, e.name)))) files.push(join(dir, e.name));
  }
  return files.length > 0 ? files.sort() : null;
}

/**
 * Looks a task's split up in the cache without touching the network.
 * @param task the task (its dataset path, config and split)
 * @param cacheDir the cache root
 * @returns the files, config and commit, or null when not cached
 */
export async function findCachedTaskData(
  task: ZeroShotTask,
  cacheDir: string,
): Promise<Omit<TaskDataFiles, "downloaded"> | null> {
  const repoDir = repoCacheDir(cacheDir, task.datasetPath, "dataset");
  const commit = await cachedCommit(repoDir, PARQUET_REVISION);
  if (commit === null) return null;
  const snapshot = join(repoDir, "snapshots", commit);
  let configs: string[];
  if (task.datasetName !== null) configs = [task.datasetName];
  else {
    if (!(await isDirectory(snapshot))) return null;
    configs = [];
    for await (const e of Deno.readDir(snapshot)) if (e.isDirectory) configs.push(e.name);
    if (configs.length !== 1) return null; // none yet, or ambiguous: ask the Hub
  }
  const files = await parquetFilesIn(join(snapshot, configs[0], task.split));
  return files ? { files, config: configs[0], commit } : null;
}

/**
 * Resolves a task's evaluation split to local parquet files, downloading the Hub's parquet
 * conversion on a cache miss.
 *
 * @param task the task (dataset path, config and split as its lm-eval 0.4.7 YAML names them)
 * @param options cache, token, fetch, timeout, offline mode, endpoint (as for models)
 * @returns the split's parquet files in the cache
 * @throws Error naming the cache path looked at and how to pass `--data DIR` instead, when the split
 *   is not cached and the Hub cannot be reached (or offline mode is on); HubContentError when the
 *   Hub answers but has no such config or split
 * @example
 * ```ts
 * const { files } = await resolveTaskData(getTask("arc_easy"));
 * const { docs } = await loadParquetDocs(task, files);
 * ```
 */
export async function resolveTaskData(task: ZeroShotTask, options: TaskDataOptions = {}): Promise<TaskDataFiles> {
  const cacheDir = options.cacheDir ?? hubCacheDir();
  const cached = await findCachedTaskData(task, cacheDir);
  if (cached) return { ...cached, downloaded: false };

  const repoDir = repoCacheDir(cacheDir, task.datasetPath, "dataset");
  const what = `${task.datasetPath}${task.datasetName ? ` (${task.datasetName})` : ""} ${task.split} split`;
  const notCached = `${task.name}: the ${what} is not in the Hugging Face cache (looked in ${repoDir} for ` +
    `refs/${PARQUET_REVISION} and a snapshot with ${task.datasetName ?? "<config>"}/${task.split}/*.parquet)`;
  const instead = "Download it where the Hub is reachable (this project, or any huggingface_hub tool fetching the " +
    `dataset's ${PARQUET_REVISION} branch, fills the same cache; set HF_HUB_CACHE or HF_HOME to share it), or pass ` +
    `--data DIR holding ${task.name}.jsonl or ${task.name}.parquet.`;
  if (hubOffline(options, ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"])) {
    throw new Error(`${notCached}, and offline mode is on (HF_HUB_OFFLINE). ${instead}`);
  }
  await options.onDownload?.({ task: task.name, dataset: task.datasetPath, revision: PARQUET_REVISION });
  try {
    return { ...(await download(task, repoDir, options)), downloaded: true };
  } catch (err) {
    if (err instanceof HubContentError) throw err;
    throw new Error(`${notCached}, and the Hub could not be reached: ${describeHubError(err)}. ${instead}`);
  }
}

async function download(
  task: ZeroShotTask,
  repoDir: string,
  options: HubOptions,
): Promise<Omit<TaskDataFiles, "downloaded">> {
  const common = await hubRequestParams(options);
  const repo = { type: "dataset" as const, name: task.datasetPath };
  const info = await datasetInfo({
    name: task.datasetPath,
    revision: PARQUET_REVISION,
    additionalFields: ["sha"],
    ...common,
  });
  const commit = (info as { sha?: string }).sha;
  if (!isCommit(commit)) throw new Error(`the Hub returned no commit for ${task.datasetPath}@${PARQUET_REVISION}`);

  let config = task.datasetName;
  if (config === null) {
    const configs: string[] = [];
    for await (const e of listFiles({ repo, revision: commit, ...common })) {
      if (e.type === "directory") configs.push(e.path);
    }
    config = onlyConfig(task, configs);
  }
  const splitDir = `${config}/${task.split}`;
  const entries = [];
  try {
    for await (const e of listFiles({ repo, revision: commit, path: splitDir, ...common })) {
      if (e.type === "file" && e.path.endsWith(".parquet")) entries.push(e);
    }
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  if (entries.length === 0) {
    throw new HubContentError(
      `hub: the parquet conversion of dataset ${task.datasetPath} (${PARQUET_REVISION} at ${commit}) has no ` +
        `${splitDir}/*.parquet; task ${task.name} expected its ${task.split} split there`,
    );
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : 1));

  const snapshot = join(repoDir, "snapshots", commit);
  const target = join(snapshot, config, task.split);
  const staging = join(snapshot, config, `.${task.split}.incomplete-${Deno.pid}`);
  const blobs: string[] = [];
  for (const e of entries) {
    const etag = e.lfs?.oid ?? e.oid;
    if (!etag) throw new Error(`the Hub listed ${e.path} without an object id`);
    blobs.push(
      await storeBlob(repoDir, etag, e.path, () => downloadFile({ repo, path: e.path, revision: commit, ...common })),
    );
  }
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  await Deno.mkdir(staging, { recursive: true });
  try {
    for (const [i, e] of entries.entries()) {
      const name = e.path.slice(splitDir.length + 1);
      if (name.includes("/")) throw new HubContentError(`hub: unexpected nested file ${e.path} in ${splitDir}`);
      // relative to the split folder, which sits at the same depth as the staging folder
      await Deno.symlink(relative(dirname(join(target, name)), blobs[i]), join(staging, name));
    }
    await Deno.remove(target, { recursive: true }).catch(() => {});
    await Deno.rename(staging, target);
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw err;
  }
  await writeRef(repoDir, PARQUET_REVISION, commit);
  return { files: entries.map((e) => join(target, e.path.slice(splitDir.length + 1))), config, commit };
}
