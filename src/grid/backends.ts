// What each trainer backend (the cell's `trainer`) can honour, checked when the grid expands: a
// field a backend cannot honour is refused naming the field, the backend and why, never ignored.
// trainer/tunegrid_trainer/backend_rules.py says the same for specs that bypass a grid. Also the
// script's argument placeholders ("{learningRate}") and the data fields that only some datasets
// have. Pure.
import type { CellConfig, CellKey } from "./schema.ts"

export interface FieldProblem {
  readonly field: string
  readonly value: unknown
  readonly expected: string
}

const placeholder = /\{([A-Za-z][A-Za-z0-9]*)\}/g

/** The script's arguments with "{field}" replaced by the cell's value ("{seed}": its seed). */
export const fillScriptArgs = (config: CellConfig, seed: number): Array<string> =>
  config.scriptArgs.map((arg) =>
    arg.replace(placeholder, (_, name: string) => {
      const value = name === "seed" ? seed : config[name as CellKey]
      return typeof value === "string" ? value : JSON.stringify(value)
    })
  )

export const backendProblems = (c: CellConfig): Array<FieldProblem> => {
  const out: Array<FieldProblem> = []
  const cannot = (field: CellKey, why: string) =>
    out.push({ field, value: c[field], expected: `a value trainer "${c.trainer}" can honour: ${why}` })

  if (c.trainer === "script" && c.script === null) {
    out.push({ field: "script", value: null, expected: `the path of the user's training script: trainer "script" runs it` })
  }
  if (c.trainer !== "script") {
    if (c.script !== null)
      out.push({ field: "script", value: c.script, expected: `null: only trainer "script" runs a script (trainer is "${c.trainer}")` })
    if (c.scriptArgs.length > 0)
      out.push({
        field: "scriptArgs",
        value: c.scriptArgs,
        expected: `[]: only trainer "script" takes arguments (trainer is "${c.trainer}")`
      })
  }
  for (const arg of c.scriptArgs) {
    for (const [, name] of arg.matchAll(placeholder)) {
      if (name !== "seed" && !(name! in c))
        out.push({ field: "scriptArgs", value: arg, expected: `placeholders naming a cell field or {seed}; {${name}} is neither` })
    }
  }
  if ((c.trainer === "hf" || c.trainer === "trl") && c.gradientCheckpointing === "auto") {
    cannot("gradientCheckpointing", `"auto" needs tunegrid's memory probe, which measures tunegrid's own loop; set true or false`)
  }
  if (c.trainer === "hf") {
    if (c.tokensPerStep !== null)
      cannot("tokensPerStep", "HF Trainer fills each micro-batch with batchSize samples; it has no token budget")
    if (c.lossKernel === "fused")
      cannot("lossKernel", `HF Trainer computes the loss from the full logits (the model's own loss); "fused" is tunegrid's chunked loss`)
  }
  if (c.trainer === "trl") {
    if (c.lossKernel === "standard")
      cannot("lossKernel", `TRL 1.16's SFTTrainer always computes the loss with its own fused LM head (no full logits): set "fused"`)
    if (c.tokensPerStep !== null && c.padding !== "packed") {
      cannot(
        "tokensPerStep",
        `it is TRL's packing (rows of tokensPerStep / gradientAccumulationSteps tokens), which is padding-free: set padding "packed"`
      )
    }
  }
  if (c.trainer !== "tunegrid" && c.vramBudget !== null) {
    cannot("vramBudget", "the budget's memory report (what the cap held and what it could not) comes from tunegrid's own loop; set null")
  }
  const hub = c.dataset.startsWith("hub:")
  if (!hub && c.datasetSplit !== "train")
    out.push({ field: "datasetSplit", value: c.datasetSplit, expected: `"train": only hub datasets have splits (dataset is ${c.dataset})` })
  if (!hub && c.datasetSubset !== null)
    out.push({ field: "datasetSubset", value: c.datasetSubset, expected: `null: only hub datasets have subsets (dataset is ${c.dataset})` })
  if (c.dataset === "synthetic") {
    if (c.datasetColumns !== null)
      out.push({ field: "datasetColumns", value: c.datasetColumns, expected: "null: the synthetic set has no columns to rename" })
    if (c.assistantOnlyLoss)
      out.push({ field: "assistantOnlyLoss", value: true, expected: "false: the synthetic set is Alpaca rows, not conversations" })
  }
  return out
}
