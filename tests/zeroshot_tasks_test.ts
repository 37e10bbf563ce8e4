/**
 * The seven tasks' document → (context, continuations, gold) rules on hand-written documents, with
 * the expected values written out from lm-evaluation-harness v0.4.7's configs and code (cited per
 * case); the Python behaviours the rules rely on; request encoding; metrics; results/sample file
 * shapes; data checks; and the CLI's bad-input handling (exit 2, one line, nothing written).
 */

import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { encodeRequest } from "../thanos/zeroshot/loglikelihood.ts";
import { meanStderr, npArgmax, scoreDoc } from "../thanos/zeroshot/metrics.ts";
import { effectiveLimit, prepareTask, type TaskResult } from "../thanos/zeroshot/evaluate.ts";
import { loadTaskDocs } from "../thanos/zeroshot/data.ts";
import { resultsJson, sampleLines } from "../thanos/zeroshot/results.ts";
import { pyCapitalize, PyFloat, pyFloatRepr, pyJsonDumps, pyRstrip, pyStrip } from "../thanos/zeroshot/python.ts";
import { buildRequests, getTask, hellaswagPreprocess, TASK_NAMES } from "../thanos/zeroshot/tasks.ts";
import { runCli, withTempDir } from "./cli_util.ts";

const req = (task: string, doc: Record<string, unknown>) => buildRequests(getTask(task), getTask(task).process(doc));

Deno.test("arc_easy / arc_challenge: 'Question: {{question}}\\nAnswer:', choices.text, label index of answerKey", () => {
  const doc = {
    id: "x",
    question: "Which is hot?",
    choices: { text: ["ice", "fire"], label: ["1", "2"] },
    answerKey: "2",
  };
  for (const t of ["arc_easy", "arc_challenge"]) {
    assertEquals(req(t, doc), {
      arguments: [["Question: Which is hot?\nAnswer:", " ice"], ["Question: Which is hot?\nAnswer:", " fire"]],
      choices: ["ice", "fire"],
      gold: 1,
      target: 1,
    });
  }
  assertEquals(getTask("arc_easy").metrics, ["acc", "acc_norm"]);
  assertEquals([getTask("arc_easy").split, getTask("arc_challenge").datasetName], ["test", "ARC-Challenge"]);
  assertThrows(() => req("arc_easy", { ...doc, answerKey: "C" }), RangeError, `answerKey "C" is not in ["1","2"]`);
});

Deno.test("openbookqa: question_stem as is, gold = label index of answerKey.lstrip()", () => {
  const doc = {
    id: "o",
    question_stem: "Magnets stick to ",
    choices: { text: ["iron", "wood"], label: ["A", "B"] },
    answerKey: " A",
  };
  assertEquals(req("openbookqa", doc), {
    arguments: [["Magnets stick to ", " iron"], ["Magnets stick to ", " wood"]],
    choices: ["iron", "wood"],
    gold: 0,
    target: 0,
  });
});

Deno.test("piqa: 'Question: {{goal}}\\nAnswer:', [sol1, sol2], label", () => {
  assertEquals(req("piqa", { goal: "Dry shoes?", sol1: " Fan.", sol2: "Oven.", label: 1 }), {
    arguments: [["Question: Dry shoes?\nAnswer:", "  Fan."], ["Question: Dry shoes?\nAnswer:", " Oven."]],
    choices: [" Fan.", "Oven."],
    gold: 1,
    target: 1,
  });
});

Deno.test("boolq: '{{passage}}\\nQuestion: {{question}}?\\nAnswer:', ['no', 'yes'], acc only, version 2.0", () => {
  assertEquals(req("boolq", { question: "is it", passage: "It is.", idx: 0, label: 0 }), {
    arguments: [["It is.\nQuestion: is it?\nAnswer:", " no"], ["It is.\nQuestion: is it?\nAnswer:", " yes"]],
    choices: ["no", "yes"],
    gold: 0,
    target: 0,
  });
  assertEquals([getTask("boolq").metrics, getTask("boolq").version], [["acc"], 2]);
});

Deno.test("hellaswag: process_docs (capitalize ctx_b, preprocess markers), query / choices / label", () => {
  const doc = {
    ind: 4,
    activity_label: "Home",
    ctx_a: "[header] Water it. [title] Check.",
    ctx_b: "[step] pUSH a finger [title]",
    ctx: "",
    endings: [" Dry?  [step] Add water.", "Eat [x] it."],
    source_id: "w",
    split: "val",
    split_type: "zeroshot",
    label: "1",
  };
  // preprocess("Home: [header] Water it. [title] Check. [step] push a finger [title]"):
  // strip → " [title]" → ". " → drop [..] → "  " → " "
  const query = "Home: Water it.. Check. push a finger. ";
  assertEquals(getTask("hellaswag").process(doc).query, query);
  assertEquals(req("hellaswag", doc), {
    // "Dry?  [step] Add water." → "Dry?   Add water." → one "  " → " " replacement leaves two spaces
    arguments: [[query, " Dry?  Add water."], [query, " Eat it."]],
    choices: ["Dry?  Add water.", "Eat it."],
    gold: 1,
    target: 1,
  });
  assertEquals(hellaswagPreprocess("a [b]\n[c] d [e\n]"), "a \n d [e\n]"); // Python's "." stops at "\n"
});

Deno.test("winogrande: one context per option (sentence up to '_' + option), shared continuation, gold from answer", () => {
  const doc = { sentence: "Ann thanked Bea because _ had helped. ", option1: "Ann", option2: "Bea", answer: "2" };
  assertEquals(req("winogrande", doc), {
    arguments: [["Ann thanked Bea because Ann", " had helped."], ["Ann thanked Bea because Bea", " had helped."]],
    choices: ["Ann thanked Bea because Ann", "Ann thanked Bea because Bea"],
    gold: 1,
    target: "had helped.",
  });
  assertThrows(() => req("winogrande", { ...doc, answer: "3" }), RangeError, `answer "3" is not "1" or "2"`);
});

Deno.test("getTask lists the seven tasks for an unknown name", () => {
  assertEquals(TASK_NAMES, ["winogrande", "openbookqa", "boolq", "piqa", "hellaswag", "arc_easy", "arc_challenge"]);
  assertThrows(() => getTask("mmlu"), RangeError, `Unknown task "mmlu"; expected one of winogrande, openbookqa`);
});

Deno.test("Python string behaviours: strip set, capitalize, float repr, json.dumps", () => {
  assertEquals(pyRstrip("a \t\x1c\u3000"), "a");
  assertEquals(pyStrip("\x85 a \ufeff"), "a \ufeff"); // U+FEFF is not whitespace for Python
  assertEquals([pyCapitalize("hELLO wORLD"), pyCapitalize("ßa"), pyCapitalize("éTÉ")], ["Hello world", "Ssa", "Été"]);
  assertEquals([1e-5, 0.0001, 1e16, 3, -6.512345790863037, -0].map(pyFloatRepr), [
    "1e-05",
    "0.0001",
    "1e+16",
    "3.0",
    "-6.512345790863037",
    "-0.0",
  ]);
  assertEquals(pyJsonDumps({ a: [1, new PyFloat(1)], "é": "\u0001" }), '{"a": [1, 1.0], "é": "\\u0001"}');
  assertEquals(pyJsonDumps({ a: [], b: { c: null } }, 2), '{\n  "a": [],\n  "b": {\n    "c": null\n  }\n}');
});

Deno.test("encodeRequest: trailing spaces of the context move to the continuation; continuation = whole − context", async () => {
  const tok = await loadTokenizer("models/tiny-llama");
  const r = encodeRequest(tok, "Magnets stick to ", " iron");
  assertEquals(r.context, tok.encode("Magnets stick to"));
  assertEquals(r.continuation, tok.encode("Magnets stick to  iron").slice(r.context.length));
  assertThrows(() => encodeRequest(tok, "", " x"), RangeError, "empty context");
});

Deno.test("metrics: acc = argmax ll, acc_norm = argmax ll / len(choice) in code points, stderr = s/√n", () => {
  // lls −6, −8 over choices of 3 and 8 characters ("日本語" is 3 code points): acc picks 0, acc_norm 1
  assertEquals(scoreDoc([-6, -8], ["日本語", "abcdefgh"], 1), { acc: 0, acc_norm: 1 });
  assertEquals(npArgmax([-1, -1, -2]), 0);
  assertEquals(npArgmax([-1, NaN, -0.5]), 1);
  // [1, 0, 1, 1]: mean 0.75, sample sd = sqrt(0.75/3) = 0.5, stderr = 0.25
  assertEquals(meanStderr([1, 0, 1, 1]), 0.25);
  assertEquals(meanStderr([1]), null);
  assertEquals(
    [effectiveLimit(undefined, 10), effectiveLimit(3, 10), effectiveLimit(0.25, 10), effectiveLimit(99, 10)],
    [
      10,
      3,
      3,
      10,
    ],
  );
  assertThrows(() => effectiveLimit(0, 10), RangeError, "Expected --limit to be a positive integer");
});

Deno.test("results.json and samples follow lm-eval's shapes", async () => {
  const doc = { question: "q", passage: "p", idx: 0, label: 1 };
  const requests = req("boolq", doc);
  const t: TaskResult = {
    name: "boolq",
    metrics: { acc: { value: 1, stderr: null } },
    effective: 1,
    original: 3,
    samples: [{
      docId: 0,
      doc,
      requests,
      responses: [{ logprob: -2.5, isGreedy: false }, { logprob: -1, isGreedy: true }],
      metrics: { acc: 1 },
    }],
  };
  const json = resultsJson({ tasks: [t], meanAcc: 1, requests: 2, batchSize: 4, seconds: 1 }, {
    model: "m",
    batchSize: 4,
    limit: 1,
    startTime: 0,
    endTime: 1000,
  }) as Record<string, any>;
  assertEquals(pyJsonDumps(json.results), '{"boolq": {"alias": "boolq", "acc,none": 1.0, "acc_stderr,none": "N/A"}}');
  assertEquals(json["n-samples"], { boolq: { original: 3, effective: 1 } });
  assertEquals(pyJsonDumps(json.versions), '{"boolq": 2.0}');
  assertEquals(json.higher_is_better, { boolq: { acc: true } });
  const [line] = await sampleLines(t);
  const parsed = JSON.parse(line);
  assertEquals(Object.keys(parsed), [
    "doc_id",
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "filter",
    "metrics",
    "doc_hash",
    "prompt_hash",
    "target_hash",
    "acc",
  ]);
  assertEquals(parsed.target, "1");
  assertEquals(parsed.arguments.gen_args_1, { arg_0: "p\nQuestion: q?\nAnswer:", arg_1: " yes" });
  assertEquals(parsed.resps, [[["-2.5", "False"]], [["-1.0", "True"]]]);
  assertEquals(parsed.filtered_resps, [["-2.5", "False"], ["-1.0", "True"]]);
  // hashlib.sha256("1".encode()).hexdigest()
  assertEquals(parsed.target_hash, "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b");
  assertEquals(line.endsWith(', "acc": 1.0}'), true);
});

Deno.test("loadTaskDocs / prepareTask name the file, line and field of bad data", async () => {
  const tok = await loadTokenizer("models/tiny-gpt2");
  await withTempDir(async (dir) => {
    await assertRejects(() => loadTaskDocs(dir, getTask("piqa")), RangeError, `found neither ${dir}/piqa.jsonl nor`);
    await Deno.writeTextFile(`${dir}/piqa.jsonl`, "");
    await assertRejects(() => loadTaskDocs(dir, getTask("piqa")), RangeError, `${dir}/piqa.jsonl is empty`);
    const good = { goal: "g", sol1: "a", sol2: "b", label: 0 };
    await Deno.writeTextFile(`${dir}/piqa.jsonl`, JSON.stringify(good) + "\n" + JSON.stringify({ ...good, sol2: 3 }));
    await assertRejects(
      () => loadTaskDocs(dir, getTask("piqa")),
      RangeError,
      `${dir}/piqa.jsonl line 2: field "sol2" is 3; expected a string`,
    );
    await Deno.writeTextFile(`${dir}/piqa.jsonl`, JSON.stringify(good) + "\n" + JSON.stringify({ ...good, label: 2 }));
    const { docs, where } = await loadTaskDocs(dir, getTask("piqa"));
    assertThrows(
      () => prepareTask(getTask("piqa"), docs, tok, { maxLength: 256, where }),
      RangeError,
      `${dir}/piqa.jsonl line 2: the gold answer is choice 2; expected an index below 2`,
    );
    assertEquals(prepareTask(getTask("piqa"), docs, tok, { maxLength: 256, limit: 1 }).docs.length, 1);
  });
});

Deno.test("deno task zeroshot: bad input → one line, exit 2, nothing written", async () => {
  await withTempDir(async (dir) => {
    const base = ["--model", "models/tiny-gpt2", "--data", "data/zeroshot-sample", "--out", `${dir}/r.json`];
    const cases: [string[], string][] = [
      [["--tasks", "piqa,mmlu"], `error: Unknown task "mmlu"; expected one of winogrande, openbookqa, boolq`],
      [["--tasks", "piqa", "--limit", "0"], "error: Expected --limit to be a positive integer"],
      [["--tasks", "piqa", "--data", dir], `error: piqa: found neither ${dir}/piqa.jsonl`],
    ];
    for (const [args, message] of cases) {
      const run = await runCli("cli/zeroshot.ts", [...base, ...args]);
      assertEquals(run.code, 2, run.stderr);
      assertEquals(run.stderr.trim().split("\n").length, 1, run.stderr);
      assertEquals(run.stderr.startsWith(message), true, run.stderr);
    }
    assertEquals([...Deno.readDirSync(dir)].length, 0, "nothing written");
  });
});
