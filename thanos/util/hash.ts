/**
 * Content hashes.
 *
 * @module
 */

/** SHA-256 of the UTF-8 bytes of `s`, as lowercase hex (Python's `hashlib.sha256(s.encode()).hexdigest()`). */
export async function sha256Hex(s: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
