/**
 * Corpora, Python's random module, the calibration sampler and evaluation windows.
 *
 * Expected values come from CPython 3.11.2 (/usr/bin/python3); each block cites the command that
 * printed them. The SOTU/Moby Dick digests come from reading the npm packages' JSON files in Python
 * (sorted file names, `"\n\n".join(texts)`, sha256 of the UTF-8 bytes).
 */
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { PythonRandom } from "../thanos/data/python_random.ts";
import { evalWindows, sampleCalibration, sampleDocumentCalibration } from "../thanos/data/calibration.ts";
import { loadCorpus, sotuAddresses, wikitextRows } from "../thanos/data/corpus.ts";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("PythonRandom reproduces CPython's random module", () => {
  // python3 -c "import random; random.seed(0); print([random.randint(0, 99999) for _ in range(10)])"
  let r = new PythonRandom(0);
  assertEquals(
    Array.from({ length: 10 }, () => r.randint(0, 99999)),
    [50494, 99346, 55125, 5306, 33936, 67013, 63691, 53075, 39755, 62468],
  );
  // python3 -c "import random; random.seed(42); print([random.getrandbits(32) for _ in range(5)])"
  r = new PythonRandom(42);
  assertEquals(
    Array.from({ length: 5 }, () => r.getrandbits(32)),
    [2746317213n, 478163327n, 107420369n, 3184935163n, 1181241943n],
  );
  // python3 -c "import random; random.seed(2**40+12345); print([random.randint(0, 1000) for _ in range(8)])"
  r = new PythonRandom(2 ** 40 + 12345);
  assertEquals(Array.from({ length: 8 }, () => r.randint(0, 1000)), [317, 357, 117, 3, 546, 142, 208, 141]);
  // python3 -c "import random; random.seed(7); print(repr([random.random() for _ in range(3)]))"
  r = new PythonRandom(7);
  assertEquals(Array.from({ length: 3 }, () => r.random()), [
    0.32383276483316237,
    0.15084917392450192,
    0.6509344730398537,
  ]);
  // python3 -c "import random; random.seed(1); print([random.getrandbits(70) for _ in range(2)], [random.randint(0, 2**40) for _ in range(3)])"
  r = new PythonRandom(1);
  assertEquals([r.getrandbits(70), r.getrandbits(70)], [1006624138111981302261n, 87876131233047068208n]);
  assertEquals(Array.from({ length: 3 }, () => r.randint(0, 2 ** 40)), [258793550908, 1037017667747, 836022225947]);
  // python3 -c "import random; random.seed(-5); print([random.randint(1,6) for _ in range(10)])"
  r = new PythonRandom(-5);
  assertEquals(Array.from({ length: 10 }, () => r.randint(1, 6)), [5, 3, 6, 3, 6, 6, 6, 5, 1, 4]);
  // python3 -c "import random; random.seed(3); print([random.randint(0, 0) for _ in range(3)], random.randint(0, 10))"
  r = new PythonRandom(3);
  assertEquals([r.randint(0, 0), r.randint(0, 0), r.randint(0, 0), r.randint(0, 10)], [0, 0, 0, 9]);
  assertThrows(
    () => r.randint(5, 4),
    RangeError,
    "randint: empty or invalid range [5, 4]; expected integers with a <= b",
  );
  assertThrows(() => new PythonRandom(0.5), RangeError, "PythonRandom.seed: 0.5 is not a safe integer");
});

Deno.test("sampleCalibration draws the reference's windows: seed(0), randint(0, n - seqlen - 1)", () => {
  // python3 -c "import random; random.seed(0); v=[random.randint(0, 287643 - 2048 - 1) for _ in range(128)];
  //             print(v[:6], v[-3:], sum(v))"
  const n = 287643, seqlen = 2048;
  const tokens = Uint32Array.from({ length: n }, (_, i) => i); // token i is its own position
  const calib = sampleCalibration(tokens, { nsamples: 128, seqlen, seed: 0 });
  assertEquals([calib.count, calib.seqlen, calib.tokens.length], [128, 2048, 128 * 2048]);
  assertEquals(calib.starts.slice(0, 6), [201979, 220500, 21225, 135746, 268055, 254766]);
  assertEquals(calib.starts.slice(-3), [96978, 64956, 251256]);
  assertEquals(calib.starts.reduce((a, b) => a + b, 0), 17591917);
  for (let s = 0; s < 128; s += 37) {
    assertEquals(calib.tokens[s * seqlen], calib.starts[s]);
    assertEquals(calib.tokens[s * seqlen + seqlen - 1], calib.starts[s] + seqlen - 1);
  }
  // the smallest stream that works: seqlen + 1 tokens, both starts possible
  const tiny = sampleCalibration([5, 6, 7], { nsamples: 4, seqlen: 2, seed: 0 });
  assertEquals(tiny.tokens.length, 8);
  assertThrows(
    () => sampleCalibration(new Uint32Array(2048), { nsamples: 1, seqlen: 2048, seed: 0 }),
    RangeError,
    "sampleCalibration: the corpus has 2048 tokens but a window of seqlen 2048 needs at least 2049",
  );
  assertThrows(
    () => sampleCalibration(tokens, { nsamples: 0, seqlen, seed: 0 }),
    RangeError,
    "nsamples is 0; expected an integer >= 1",
  );
});

Deno.test("sampleDocumentCalibration follows the reference's C4 loop", () => {
  // python3 -c "import random; random.seed(0); L=[3,10,2,50,7,40]; out=[]
  //   for _ in range(6):
  //     while True:
  //       i=random.randint(0,len(L)-1)
  //       if L[i] > 5: break
  //     out.append((i, random.randint(0, L[i]-5-1)))
  //   print(out)"   → [(3, 26), (4, 1), (3, 19), (3, 22), (4, 0), (4, 0)]
  const lengths = [3, 10, 2, 50, 7, 40];
  const docs = lengths.map((n, d) => Array.from({ length: n }, (_, k) => `${d * 1000 + k}`).join(" "));
  const encode = (text: string) => text.split(" ").map(Number);
  const w = sampleDocumentCalibration(docs, encode, { nsamples: 6, seqlen: 5, seed: 0 });
  assertEquals(w.documents, [3, 4, 3, 3, 4, 4]);
  assertEquals(w.starts, [26, 1, 19, 22, 0, 0]);
  assertEquals([...w.tokens.subarray(0, 5)], [3026, 3027, 3028, 3029, 3030]);
  assertThrows(
    () => sampleDocumentCalibration(["a b", "c"], encode, { nsamples: 1, seqlen: 5, seed: 0 }),
    RangeError,
    "none of the 2 documents has more than seqlen 5 tokens",
  );
});

Deno.test("evalWindows cuts non-overlapping windows and drops the remainder", () => {
  const w = evalWindows(Uint32Array.from({ length: 11 }, (_, i) => i), 3);
  assertEquals([w.count, [...w.tokens], w.starts], [3, [0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 3, 6]]);
  assertEquals(evalWindows(new Uint32Array(100), 10, 4).count, 4);
  assertEquals(evalWindows(new Uint32Array(12), 12).count, 1);
  assertThrows(
    () => evalWindows(new Uint32Array(5), 6),
    RangeError,
    "evalWindows: the corpus has 5 tokens, fewer than one window of seqlen 6",
  );
  assertThrows(
    () => evalWindows(new Uint32Array(5), 0),
    RangeError,
    "evalWindows: seqlen is 0; expected an integer >= 1",
  );
});

Deno.test("SOTU splits: years ending in 3 calibrate, in 7 evaluate, the rest train", async () => {
  const all = await sotuAddresses();
  assertEquals(all.length, 233);
  assertEquals([all[0].file, all[232].file], ["1790_george_washington_n.json", "2021_joseph_r_biden_d.json"]);
  const calib = await sotuAddresses("calib");
  const evals = await sotuAddresses("eval");
  assertEquals(
    calib.map((a) => a.year),
    [
      1793,
      1803,
      1813,
      1823,
      1833,
      1843,
      1853,
      1863,
      1873,
      1883,
      1893,
      1903,
      1913,
      1923,
      1943,
      1953,
      1953,
      1963,
      1973,
      1983,
      1993,
      2003,
      2013,
    ],
  );
  assertEquals(calib.filter((a) => a.year === 1953).map((a) => a.name), ["Dwight D Eisenhower", "Harry S Truman"]); // file-name order
  assertEquals(
    evals.map((a) => a.year),
    [
      1797,
      1807,
      1817,
      1827,
      1837,
      1847,
      1857,
      1867,
      1877,
      1887,
      1897,
      1907,
      1917,
      1927,
      1937,
      1947,
      1957,
      1967,
      1977,
      1987,
      1997,
      2007,
      2017,
    ],
  );
  assertEquals((await sotuAddresses("train")).length, 187);

  const expected = {
    "sotu-calib": [23, 890822, "e708fb4f02a9de06d9157ad3a1a1df0f73e1cfaf42deefdfb8f948c3dd50340b"],
    "sotu-eval": [23, 1075110, "c4753eb989019c258b2cbcae6770a23198157f1426c8db50a423e56c92535a8a"],
    "sotu-train": [187, 8794359, "32facdcdabebe8a29c2f99997cabcfef752b75cf2d3616105e73ffafe249cea7"],
  } as const;
  for (const [name, [docs, codePoints, digest]] of Object.entries(expected)) {
    const corpus = await loadCorpus(name);
    assertEquals(corpus.documents.length, docs, name);
    assertEquals(corpus.separator, "\n\n");
    assertEquals([...corpus.text].length, codePoints, name);
    assertEquals(await sha256(corpus.text), digest, name);
  }
  assertEquals(
    (await loadCorpus("sotu-calib")).description,
    "State of the Union addresses, calib split (23, 1793–2013)",
  );
});

Deno.test("moby-dick is the package's sections in book order", async () => {
  const corpus = await loadCorpus("moby-dick");
  assertEquals(corpus.documents.length, 139);
  assertEquals([...corpus.text].length, 1213144);
  assertEquals(await sha256(corpus.text), "0af9935b7dafb3ff9372c56280169829e57de675829b6697f902d9331a136114");
  assertEquals(corpus.documents[3].startsWith("Call me Ishmael."), true);
});

Deno.test("text files and directories of text files", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "b.txt"), "second");
  await Deno.writeTextFile(join(dir, "a.txt"), "first\n");
  await Deno.writeTextFile(join(dir, "notes.md"), "ignored");
  const folder = await loadCorpus(dir);
  assertEquals([folder.documents, folder.text], [["first\n", "second"], "first\n\n\nsecond"]);
  assertEquals((await loadCorpus(join(dir, "b.txt"))).text, "second");
  await Deno.writeTextFile(join(dir, "blank.txt"), " \n ");
  await assertRejects(
    () => loadCorpus(join(dir, "blank.txt")),
    Error,
    `loadCorpus: ${join(dir, "blank.txt")} is empty; expected some text`,
  );
  const empty = await Deno.makeTempDir();
  await assertRejects(() => loadCorpus(empty), Error, `loadCorpus: directory ${empty} has no .txt files`);
  await assertRejects(
    () => loadCorpus("sotu-test"),
    Error,
    'loadCorpus: "sotu-test" is neither a corpus name (sotu-calib, sotu-eval, sotu-train, moby-dick) nor an existing path',
  );
  await assertRejects(
    () => loadCorpus(join(dir, "notes.md")),
    Error,
    "has an unsupported extension; expected .txt, .parquet, .raw",
  );
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(empty, { recursive: true });
});

// The first rows of WikiText-2 raw test, as the HF dataset holds them and as wiki.test.raw spells them.
const WIKI_RAW =
  " \n = Robert Boulter = \n \n Robert Boulter is an English film and television actor . \n \n = = Career = = \n";
const WIKI_ROWS = [
  "",
  " = Robert Boulter = \n",
  "",
  " Robert Boulter is an English film and television actor . \n",
  "",
  " = = Career = = \n",
];

Deno.test("WikiText-2: the parquet rows and the raw file give the same text, joined as the reference does", async () => {
  assertEquals(wikitextRows(WIKI_RAW), WIKI_ROWS);
  assertEquals(wikitextRows("a\r\nb"), ["a\n", "b"]);
  const dir = await Deno.makeTempDir();
  const parquet = join(dir, "test-00000-of-00001.parquet");
  await Deno.writeFile(
    parquet,
    new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "text", data: WIKI_ROWS, type: "STRING" }] })),
  );
  await Deno.writeTextFile(join(dir, "wiki.test.raw"), WIKI_RAW);
  const fromParquet = await loadCorpus(parquet);
  const fromRaw = await loadCorpus(join(dir, "wiki.test.raw"));
  assertEquals(fromParquet.documents, WIKI_ROWS);
  assertEquals(fromParquet.text, WIKI_ROWS.join("\n\n"));
  assertEquals(fromRaw.text, fromParquet.text);
  const wrong = join(dir, "ids.parquet");
  await Deno.writeFile(
    wrong,
    new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "id", data: [1, 2], type: "INT32" }] })),
  );
  await assertRejects(() => loadCorpus(wrong), Error, `loadCorpus: ${wrong}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a C4 shard (*.json.gz, one JSON object per line) joins its documents with spaces", async () => {
  const dir = await Deno.makeTempDir();
  const lines = [
    { text: "Beginners BBQ Class Taking Place in Missoula!", timestamp: "2019-04-25T12:57:54Z", url: "https://x" },
    {
      text: "Discussion in 'Mac OS X Lion (10.7)' started by axboi87",
      timestamp: "2019-04-21T10:07:13Z",
      url: "https://y",
    },
  ];
  const path = join(dir, "c4-validation.00000-of-00008.json.gz");
  await Deno.writeFile(path, gzipSync(new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join("\n") + "\n")));
  const corpus = await loadCorpus(path);
  assertEquals(corpus.documents, lines.map((l) => l.text));
  assertEquals(corpus.text, `${lines[0].text} ${lines[1].text}`);
  const bad = join(dir, "bad.jsonl");
  await Deno.writeTextFile(bad, '{"text": "ok"}\n{"url": "no text"}\n');
  await assertRejects(() => loadCorpus(bad), Error, `loadCorpus: ${bad} line 2 has no "text" string field`);
  await Deno.writeFile(join(dir, "broken.json.gz"), new Uint8Array([1, 2, 3]));
  await assertRejects(
    () => loadCorpus(join(dir, "broken.json.gz")),
    Error,
    `loadCorpus: ${join(dir, "broken.json.gz")} could not be read`,
  );
  await Deno.remove(dir, { recursive: true });
});
