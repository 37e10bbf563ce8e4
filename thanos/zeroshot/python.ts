/**
 * The few Python behaviours lm-evaluation-harness's text rules and log files depend on, written
 * out so the TypeScript gives the same strings: `str.strip`/`rstrip` (Python's whitespace set),
 * `str.capitalize`, `len` (code points), `repr(float)`, and `json.dumps` (separators, float
 * formatting, `ensure_ascii=False`).
 *
 * @module
 */

/** Characters for which Python's `str.isspace()` is true (what `strip()`/`rstrip()` remove). */
const PY_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" +
  "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** True when `ch` (one character) is whitespace for Python. */
export function isPySpace(ch: string): boolean {
  return ch.length === 1 && PY_SPACE.includes(ch);
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && isPySpace(s[end - 1])) end--;
  return s.slice(0, end);
}

/** Python's `s.lstrip()`. */
export function pyLstrip(s: string): string {
  let start = 0;
  while (start < s.length && isPySpace(s[start])) start++;
  return s.slice(start);
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  let start = 0;
  while (start < s.length && isPySpace(s[start])) start++;
  return pyRstrip(s.slice(start));
}

/** Titlecase forms that differ from the uppercase of the same character (Unicode's digraphs). */
const TITLECASE: Record<string, string> = {
  "Ǆ": "ǅ",
  "ǅ": "ǅ",
  "ǆ": "ǅ",
  "Ǉ": "ǈ",
  "ǈ": "ǈ",
  "ǉ": "ǈ",
  "Ǌ": "ǋ",
  "ǋ": "ǋ",
  "ǌ": "ǋ",
  "Ǳ": "ǲ",
  "ǲ": "ǲ",
  "ǳ": "ǲ",
};

/**
 * Python 3.8+'s `s.capitalize()`: the first character in titlecase, the rest lowercased.
 * (Titlecase of a character whose uppercase is several characters, e.g. "ß" → "SS", is the first
 * of them followed by the rest in lowercase: "Ss".)
 */
export function pyCapitalize(s: string): string {
  if (s.length === 0) return s;
  const [first] = s;
  const rest = s.slice(first.length).toLowerCase();
  if (TITLECASE[first]) return TITLECASE[first] + rest;
  const upper = [...first.toUpperCase()];
  return upper[0] + upper.slice(1).join("").toLowerCase() + rest;
}

/** Python's `len(s)`: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python's `repr(x)` / `str(x)` of a float: shortest round trip, ".0" on integers, "1e-05" style. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = x.toExponential().split("e"); // shortest digits that round-trip
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const fixed = x.toString(); // fixed notation in this exponent range, same digits
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

/** A number that Python holds as a float (written "1.0", not "1"). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A JSON value as Python's `json.dumps` sees it; numbers are ints unless wrapped in {@link PyFloat}. */
export type PyJson = null | boolean | number | string | PyFloat | PyJson[] | { [key: string]: PyJson };

function pyString(s: string): string {
  // json.dumps(ensure_ascii=False) escapes ", \ and control characters below U+0020 only
  // deno-lint-ignore no-control-regex
  return '"' + s.replace(/[\\"\u0000-\u001f]/g, (c) => {
    const named: Record<string, string> = {
      '"': '\\"',
      "\\": "\\\\",
      "\n": "\\n",
      "\r": "\\r",
      "\t": "\\t",
      "\b": "\\b",
      "\f": "\\f",
    };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  }) + '"';
}

/**
 * Python's `json.dumps(value, ensure_ascii=False)` (separators ", " and ": "), or with `indent`
 * (separators "," and ": ", one item per line), so hashes and log lines match lm-eval's.
 */
export function pyJsonDumps(value: PyJson, indent?: number, level = 0): string {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (value instanceof PyFloat) {
    const v = value.value;
    return Number.isNaN(v) ? "NaN" : !Number.isFinite(v) ? (v > 0 ? "Infinity" : "-Infinity") : pyFloatRepr(v);
  }
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new TypeError(`pyJsonDumps: ${value} is not an int; wrap floats in PyFloat`);
    return String(value);
  }
  if (typeof value === "string") return pyString(value);
  const entries: string[] = Array.isArray(value)
    ? value.map((v) => pyJsonDumps(v, indent, level + 1))
    : Object.entries(value).map(([k, v]) => `${pyString(k)}: ${pyJsonDumps(v, indent, level + 1)}`);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return open + close;
  if (indent === undefined) return open + entries.join(", ") + close;
  const pad = "\n" + " ".repeat(indent * (level + 1));
  return open + pad + entries.join("," + pad) + "\n" + " ".repeat(indent * level) + close;
}

/** Python's `hashlib.sha256(s.encode("utf-8")).hexdigest()` (lm-eval's `hash_string`). */
export { sha256Hex } from "../util/hash.ts";
