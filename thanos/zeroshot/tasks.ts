/**
 * The paper's seven zero-shot tasks as data, exactly as lm-evaluation-harness v0.4.7 defines them
 * (EleutherAI/lm-evaluation-harness@v0.4.7, files cited per task): which dataset and split, how a
 * document becomes a context, its choices and its gold index, and which metrics the task reports.
 * One generic rule turns a document into requests ({@link buildRequests}); per-task code exists only
 * where the harness has it (HellaSwag's `process_docs`, WinoGrande's partial evaluation).
 *
 * Jinja templates of the YAML files are written out as the string concatenations they render to;
 * `{{x.index(y)}}` targets render to digits, which `ConfigurableTask.doc_to_target`
 * (lm_eval/api/task.py) turns back into an int (`target_string.isdigit()` → `ast.literal_eval`).
 *
 * @module
 */

import { pyCapitalize, pyLstrip, pyStrip } from "./python.ts";

/** A dataset row as read (JSON values). */
export type Doc = Record<string, unknown>;

/** What a field must hold for a task's rules to apply. */
export type FieldKind = "string" | "int" | "string[]" | "choices" | "digits";

/** The metrics the seven tasks report. */
export type MetricName = "acc" | "acc_norm";

/** One task (see the module documentation). */
export interface ZeroShotTask {
  /** lm-eval's task name */
  readonly name: string;
  /** Hugging Face dataset (`dataset_path`) and configuration (`dataset_name`) */
  readonly datasetPath: string;
  readonly datasetName: string | null;
  /** the split lm-eval evaluates: `test_split` when the config has one, else `validation_split` */
  readonly split: string;
  /** `metadata.version` */
  readonly version: number;
  /** `metric_list`, in order (all aggregated by mean, higher is better) */
  readonly metrics: readonly MetricName[];
  /** the fields the rules read, and what each must hold */
  readonly fields: Readonly<Record<string, FieldKind>>;
  /** `process_docs`: the document lm-eval evaluates (and logs), e.g. with HellaSwag's added fields */
  process(doc: Doc): Doc;
  /** `doc_to_text`: the context, or (WinoGrande) the index of the gold choice */
  docToText(doc: Doc): string | number;
  /** `doc_to_choice` */
  docToChoice(doc: Doc): string[];
  /** `doc_to_target`: the gold index, or (WinoGrande) the shared continuation */
  docToTarget(doc: Doc): number | string;
  /** the task's YAML, as lm-eval records it under `configs` in results.json */
  readonly config: Readonly<Record<string, unknown>>;
}

/** `target_delimiter`: TaskConfig's default (lm_eval/api/task.py), which none of the seven overrides. */
export const TARGET_DELIMITER = " ";

const s = (doc: Doc, field: string) => doc[field] as string;
type Choices = { text: string[]; label: string[] };

/** Python's `list.index`, raising like it (a Jinja template that calls it fails the same way). */
function index(list: string[], value: string, what: string): number {
  const i = list.indexOf(value);
  if (i < 0) throw new RangeError(`${what} ${JSON.stringify(value)} is not in ${JSON.stringify(list)}`);
  return i;
}

function baseConfig(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    description: "",
    target_delimiter: TARGET_DELIMITER,
    fewshot_delimiter: "\n\n",
    num_fewshot: 0,
    output_type: "multiple_choice",
    repeats: 1,
  };
}

function metricList(metrics: readonly MetricName[]) {
  return metrics.map((metric) => ({ metric, aggregation: "mean", higher_is_better: true }));
}

// lm_eval/tasks/arc/arc_easy.yaml, arc_challenge.yaml (include: arc_easy.yaml)
function arc(name: string, datasetName: string): ZeroShotTask {
  const metrics = ["acc", "acc_norm"] as const;
  return {
    name,
    datasetPath: "allenai/ai2_arc",
    datasetName,
    split: "test",
    version: 1.0,
    metrics,
    fields: { question: "string", choices: "choices", answerKey: "string" },
    process: (doc) => doc,
    docToText: (doc) => `Question: ${s(doc, "question")}\nAnswer:`, // "Question: {{question}}\nAnswer:"
    docToChoice: (doc) => [...(doc.choices as Choices).text], // "{{choices.text}}"
    // "{{choices.label.index(answerKey)}}"
    docToTarget: (doc) => index((doc.choices as Choices).label, s(doc, "answerKey"), "answerKey"),
    config: baseConfig({
      task: name,
      tag: ["ai2_arc"],
      dataset_path: "allenai/ai2_arc",
      dataset_name: datasetName,
      training_split: "train",
      validation_split: "validation",
      test_split: "test",
      doc_to_text: "Question: {{question}}\nAnswer:",
      doc_to_target: "{{choices.label.index(answerKey)}}",
      doc_to_choice: "{{choices.text}}",
      should_decontaminate: true,
      doc_to_decontamination_query: "Question: {{question}}\nAnswer:",
      metric_list: metricList(metrics),
      metadata: { version: 1.0 },
    }),
  };
}

// lm_eval/tasks/piqa/piqa.yaml
const piqa: ZeroShotTask = {
  name: "piqa",
  datasetPath: "piqa",
  datasetName: null,
  split: "validation",
  version: 1.0,
  metrics: ["acc", "acc_norm"],
  fields: { goal: "string", sol1: "string", sol2: "string", label: "int" },
  process: (doc) => doc,
  docToText: (doc) => `Question: ${s(doc, "goal")}\nAnswer:`, // "Question: {{goal}}\nAnswer:"
  docToChoice: (doc) => [s(doc, "sol1"), s(doc, "sol2")], // "{{[sol1, sol2]}}" (rendered, then literal_eval)
  docToTarget: (doc) => doc.label as number, // doc_to_target: label (a feature: returned as is)
  config: baseConfig({
    task: "piqa",
    dataset_path: "piqa",
    dataset_name: null,
    training_split: "train",
    validation_split: "validation",
    test_split: null,
    doc_to_text: "Question: {{goal}}\nAnswer:",
    doc_to_target: "label",
    doc_to_choice: "{{[sol1, sol2]}}",
    should_decontaminate: true,
    doc_to_decontamination_query: "goal",
    metric_list: metricList(["acc", "acc_norm"]),
    metadata: { version: 1.0 },
    dataset_kwargs: { trust_remote_code: true },
  }),
};

// lm_eval/tasks/super_glue/boolq/default.yaml
const boolq: ZeroShotTask = {
  name: "boolq",
  datasetPath: "super_glue",
  datasetName: "boolq",
  split: "validation",
  version: 2.0,
  metrics: ["acc"],
  fields: { question: "string", passage: "string", label: "int" },
  process: (doc) => doc,
  // "{{passage}}\nQuestion: {{question}}?\nAnswer:"
  docToText: (doc) => `${s(doc, "passage")}\nQuestion: ${s(doc, "question")}?\nAnswer:`,
  docToChoice: () => ["no", "yes"],
  docToTarget: (doc) => doc.label as number,
  config: baseConfig({
    task: "boolq",
    tag: ["super-glue-lm-eval-v1"],
    dataset_path: "super_glue",
    dataset_name: "boolq",
    training_split: "train",
    validation_split: "validation",
    doc_to_text: "{{passage}}\nQuestion: {{question}}?\nAnswer:",
    doc_to_target: "label",
    doc_to_choice: ["no", "yes"],
    should_decontaminate: true,
    doc_to_decontamination_query: "passage",
    metric_list: [{ metric: "acc" }],
    metadata: { version: 2.0 },
  }),
};

/**
 * HellaSwag's `preprocess` (lm_eval/tasks/hellaswag/utils.py): strip, " [title]" → ". ", drop
 * every "[...]" (non-greedy; Python's `.` matches anything but "\n"), "  " → " " once, left to right.
 */
export function hellaswagPreprocess(text: string): string {
  let t = pyStrip(text);
  t = t.replaceAll(" [title]", ". ");
  t = t.replace(/\[[^\n]*?\]/g, "");
  return t.replaceAll("  ", " ");
}

// lm_eval/tasks/hellaswag/hellaswag.yaml + utils.py
const hellaswag: ZeroShotTask = {
  name: "hellaswag",
  datasetPath: "hellaswag",
  datasetName: null,
  split: "validation",
  version: 1.0,
  metrics: ["acc", "acc_norm"],
  fields: { activity_label: "string", ctx_a: "string", ctx_b: "string", endings: "string[]", label: "digits" },
  // utils.process_docs: dataset.map adds query, choices and gold after the dataset's own columns
  process: (doc) => {
    const ctx = s(doc, "ctx_a") + " " + pyCapitalize(s(doc, "ctx_b"));
    return {
      ...doc,
      query: hellaswagPreprocess(s(doc, "activity_label") + ": " + ctx),
      choices: (doc.endings as string[]).map(hellaswagPreprocess),
      gold: Number(doc.label),
    };
  },
  docToText: (doc) => s(doc, "query"), // "{{query}}"
  docToChoice: (doc) => [...(doc.choices as string[])], // "choices" (a feature of the processed docs)
  docToTarget: (doc) => Number(String(doc.label)), // "{{label}}" renders the digits, then literal_eval
  config: baseConfig({
    task: "hellaswag",
    tag: ["multiple_choice"],
    dataset_path: "hellaswag",
    dataset_name: null,
    training_split: "train",
    validation_split: "validation",
    test_split: null,
    process_docs: "utils.process_docs",
    doc_to_text: "{{query}}",
    doc_to_target: "{{label}}",
    doc_to_choice: "choices",
    metric_list: metricList(["acc", "acc_norm"]),
    metadata: { version: 1.0 },
    dataset_kwargs: { trust_remote_code: true },
  }),
};

// lm_eval/tasks/winogrande/default.yaml + preprocess_winogrande.py. doc_to_text returns an int, so
// ConfigurableTask sets multiple_input: the choices become contexts (sentence up to "_" + option)
// and the rest of the sentence is one shared continuation.
const winogrande: ZeroShotTask = {
  name: "winogrande",
  datasetPath: "winogrande",
  datasetName: "winogrande_xl",
  split: "validation",
  version: 1.0,
  metrics: ["acc"],
  fields: { sentence: "string", option1: "string", option2: "string", answer: "string" },
  process: (doc) => doc,
  docToText: (doc) => { // answer_to_num = {"1": 0, "2": 1}; answer_to_num[doc["answer"]]
    const gold = ({ "1": 0, "2": 1 } as Record<string, number>)[s(doc, "answer")];
    if (gold === undefined) throw new RangeError(`answer ${JSON.stringify(doc.answer)} is not "1" or "2"`);
    return gold;
  },
  docToChoice: (doc) => { // [sentence[:idx] + opt for opt in (option1, option2)], idx = sentence.index("_")
    const sentence = s(doc, "sentence"), idx = sentence.indexOf("_");
    if (idx < 0) throw new RangeError(`sentence has no "_"`);
    return [sentence.slice(0, idx) + s(doc, "option1"), sentence.slice(0, idx) + s(doc, "option2")];
  },
  docToTarget: (doc) => { // sentence[sentence.index("_") + 1:].strip()
    const sentence = s(doc, "sentence"), idx = sentence.indexOf("_");
    if (idx < 0) throw new RangeError(`sentence has no "_"`);
    return pyStrip(sentence.slice(idx + 1));
  },
  config: baseConfig({
    task: "winogrande",
    dataset_path: "winogrande",
    dataset_name: "winogrande_xl",
    training_split: "train",
    validation_split: "validation",
    doc_to_text: "preprocess_winogrande.doc_to_text",
    doc_to_target: "preprocess_winogrande.doc_to_target",
    doc_to_choice: "preprocess_winogrande.doc_to_choice",
    should_decontaminate: true,
    doc_to_decontamination_query: "sentence",
    metric_list: metricList(["acc"]),
    metadata: { version: 1.0 },
    dataset_kwargs: { trust_remote_code: true },
  }),
};

// lm_eval/tasks/openbookqa/openbookqa.yaml
const openbookqa: ZeroShotTask = {
  name: "openbookqa",
  datasetPath: "openbookqa",
  datasetName: "main",
  split: "test",
  version: 1.0,
  metrics: ["acc", "acc_norm"],
  fields: { question_stem: "string", choices: "choices", answerKey: "string" },
  process: (doc) => doc,
  docToText: (doc) => s(doc, "question_stem"), // doc_to_text: question_stem (a feature)
  docToChoice: (doc) => [...(doc.choices as Choices).text], // "{{choices.text}}"
  // "{{choices.label.index(answerKey.lstrip())}}"
  docToTarget: (doc) => index((doc.choices as Choices).label, pyLstrip(s(doc, "answerKey")), "answerKey"),
  config: baseConfig({
    task: "openbookqa",
    dataset_path: "openbookqa",
    dataset_name: "main",
    training_split: "train",
    validation_split: "validation",
    test_split: "test",
    doc_to_text: "question_stem",
    doc_to_target: "{{choices.label.index(answerKey.lstrip())}}",
    doc_to_choice: "{{choices.text}}",
    should_decontaminate: true,
    doc_to_decontamination_query: "question_stem",
    metric_list: metricList(["acc", "acc_norm"]),
    metadata: { version: 1.0 },
  }),
};

/** The seven tasks, by lm-eval name, in the paper's order. */
export const TASKS: Readonly<Record<string, ZeroShotTask>> = {
  winogrande,
  openbookqa,
  boolq,
  piqa,
  hellaswag,
  arc_easy: arc("arc_easy", "ARC-Easy"),
  arc_challenge: arc("arc_challenge", "ARC-Challenge"),
};

/** The task names, in the paper's order. */
export const TASK_NAMES: readonly string[] = Object.keys(TASKS);

/**
 * The task called `name`.
 * @throws RangeError naming the task and listing the seven
 */
export function getTask(name: string): ZeroShotTask {
  const task = Object.hasOwn(TASKS, name) ? TASKS[name] : undefined;
  if (!task) throw new RangeError(`Unknown task "${name}"; expected one of ${TASK_NAMES.join(", ")}`);
  return task;
}

/** One document's loglikelihood requests and what scores them. */
export interface DocRequests {
  /** (context, continuation) per choice, as lm-eval's `Instance.arguments` */
  arguments: [string, string][];
  /** the choices (`doc_to_choice`); acc_norm divides by their lengths */
  choices: string[];
  /** index of the correct choice */
  gold: number;
  /** `doc_to_target` (logged as `target`) */
  target: number | string;
}

/**
 * A processed document's requests, as `ConfigurableTask.construct_requests` builds them for
 * multiple_choice tasks at zero shot (lm_eval/api/task.py): the context is `doc_to_text` (the
 * few-shot prefix is empty), each continuation is `target_delimiter + choice`; with multiple inputs
 * (WinoGrande) each choice is a context and `target_delimiter + doc_to_target` the continuation.
 * The gold index is `doc_to_target` (or `doc_to_text` with multiple inputs), as `process_results`.
 * @throws RangeError when the gold index is outside the choices (lm-eval would warn and score 0)
 */
export function buildRequests(task: ZeroShotTask, doc: Doc): DocRequests {
  const text = task.docToText(doc);
  const choices = task.docToChoice(doc);
  const target = task.docToTarget(doc);
  let args: [string, string][], gold: number;
  if (typeof text === "number") { // multiple_input: fewshot_context returns "" (zero shot)
    args = choices.map((choice) => ["" + choice, `${TARGET_DELIMITER}${target}`]);
    gold = text;
  } else {
    args = choices.map((choice) => [text, `${TARGET_DELIMITER}${choice}`]);
    gold = target as number;
  }
  if (!Number.isInteger(gold) || gold < 0 || gold >= choices.length) {
    throw new RangeError(`the gold answer is choice ${gold}; expected an index below ${choices.length}`);
  }
  return { arguments: args, choices, gold, target };
}
