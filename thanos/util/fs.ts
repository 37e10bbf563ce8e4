/**
 * File-system questions the loaders and writers ask: "what is at this path, if anything?" — with
 * only a missing path answered as "nothing" (permission errors and the like are rethrown, never
 * mistaken for absence). Internal; not re-exported from mod.ts.
 *
 * @module
 */

/**
 * The file info of `path` (symlinks followed), or null when nothing is there.
 *
 * @param path a file, directory or symlink
 * @returns `Deno.stat(path)`, or null when it does not exist (a dangling symlink included)
 * @throws what `Deno.stat` throws for any other reason (e.g. permission denied)
 * @example
 * ```ts
 * const info = await statOrNull("models/tiny-llama");
 * if (info?.isDirectory) console.log("a checkpoint directory");
 * ```
 */
export async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/**
 * The file info of `path` itself (a symlink is not followed), or null when nothing is there.
 *
 * @param path a file, directory or symlink
 * @returns `Deno.lstat(path)`, or null when it does not exist
 * @throws what `Deno.lstat` throws for any other reason
 * @example
 * ```ts
 * const taken = (await lstatOrNull("out/model")) !== null; // a dangling symlink counts
 * ```
 */
export async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/**
 * Whether something exists at `path` (symlinks followed: a dangling link does not count).
 * @example
 * ```ts
 * if (await exists("models/tiny-llama/config.json")) console.log("found");
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  return (await statOrNull(path)) !== null;
}

/**
 * Whether `path` is an existing regular file (symlinks followed).
 * @example
 * ```ts
 * await isFile("models/tiny-llama/tokenizer.json"); // true
 * ```
 */
export async function isFile(path: string): Promise<boolean> {
  return (await statOrNull(path))?.isFile ?? false;
}

/**
 * Whether `path` is an existing directory (symlinks followed).
 * @example
 * ```ts
 * await isDirectory("models/tiny-llama"); // true
 * ```
 */
export async function isDirectory(path: string): Promise<boolean> {
  return (await statOrNull(path))?.isDirectory ?? false;
}
