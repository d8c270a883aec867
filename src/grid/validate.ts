// Checks that refuse a grid before any trainer starts, in the grid's own field names and paths,
// for what the trainer would otherwise find 8–60 s into each cell: an unknown preset, a `local:`
// model folder that is not there, target modules that match no module of the model (presets:
// known; hub/local: from the model's config.json where it is on disk), tokensPerStep below
// gradientAccumulationSteps × maxSeqLength, and (once the environment probe has run) a CUDA-only
// cell on a machine without a GPU. Loading (load.ts) runs the first four after expansion; the
// scheduler runs the device check after its probe.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { isAbsolute, join, resolve } from "node:path"
import { canonicalJson } from "../hash.ts"
import type { ExpandedCell, ExpandProblem } from "./expand.ts"
import { loraModules, presetModelType, presetNames, shortNames, targetMatches } from "./presets.ts"
import type { CellConfig, CellKey, GridDef } from "./schema.ts"
import { didYouMean } from "./suggest.ts"

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b)

/** Where in the grid file a cell's field value comes from: an axis, an explicit cell, base, or the default. */
export const fieldPath = (def: GridDef, config: CellConfig, field: CellKey): string => {
  const axis = def.axes?.[field] as ReadonlyArray<unknown> | undefined
  if (axis) {
    const i = axis.findIndex((v) => same(v, config[field]))
    return `axes.${field}[${i}]`
  }
  const ci = (def.cells ?? []).findIndex(
    (c) => (c as Record<string, unknown>)[field] !== undefined && same((c as Record<string, unknown>)[field], config[field])
  )
  if (ci >= 0) return `cells[${ci}].${field}`
  return def.base?.[field] !== undefined ? `base.${field}` : `${field} (default)`
}

const hubCache = () => process.env.HF_HUB_CACHE ?? join(process.env.HF_HOME ?? join(homedir(), ".cache", "huggingface"), "hub")

const modelTypeIn = (configJson: string): string | null => {
  try {
    const c = JSON.parse(readFileSync(configJson, "utf8")) as { model_type?: unknown }
    return typeof c.model_type === "string" ? c.model_type : null
  } catch {
    return null
  }
}

/** The architecture of a hub model already in the local Hugging Face cache, else null (unknown). */
const hubModelType = (id: string): string | null => {
  const snapshots = join(hubCache(), `models--${id.replace(/\//g, "--")}`, "snapshots")
  try {
    for (const snap of readdirSync(snapshots)) {
      const t = modelTypeIn(join(snapshots, snap, "config.json"))
      if (t !== null) return t
    }
  } catch {
    // not downloaded yet: the trainer will fetch it, and PEFT will check the modules then
  }
  return null
}

export interface StaticContext {
  /** The grid file's folder: relative `local:` paths resolve against it (as src/cells.ts does). */
  readonly baseDir: string
}

/** Problems found from the grid and the files it names, one per (path, problem). */
export const checkCells = (def: GridDef, cells: ReadonlyArray<ExpandedCell>, ctx: StaticContext): Array<ExpandProblem> => {
  const problems = new Map<string, ExpandProblem>()
  const add = (p: ExpandProblem) => problems.set(`${p.path}\u0000${p.expected}`, p)
  for (const { config } of cells) {
    const modelPath = fieldPath(def, config, "model")
    let modelType: string | null = null
    let source = ""
    if (config.model.startsWith("preset:")) {
      const name = config.model.slice("preset:".length)
      modelType = presetModelType(name)
      if (modelType === null) {
        add({
          path: modelPath,
          value: config.model,
          expected: `a known preset: ${presetNames()
            .map((n) => `preset:${n}`)
            .join(", ")}${didYouMean(name, presetNames()).replace(/mean (.*)\?/, "mean preset:$1?")}`
        })
      }
    } else if (config.model.startsWith("local:")) {
      const raw = config.model.slice("local:".length)
      const dir = isAbsolute(raw) ? raw : resolve(ctx.baseDir, raw)
      if (!existsSync(dir))
        add({
          path: modelPath,
          value: config.model,
          expected: `a model folder that exists (no ${dir}; local: paths resolve against the grid file's folder)`
        })
      else if (!existsSync(join(dir, "config.json")))
        add({ path: modelPath, value: config.model, expected: `a model folder with a config.json (none in ${dir})` })
      else modelType = modelTypeIn(join(dir, "config.json"))
    } else if (config.model.startsWith("hub:")) {
      modelType = hubModelType(config.model.slice("hub:".length))
      source = ", from its config.json in the Hugging Face cache"
    }
    const modules = modelType === null ? null : loraModules(modelType)
    if (modules !== null) {
      for (const target of config.targetModules) {
        if (!targetMatches(target, modules)) {
          add({
            path: fieldPath(def, config, "targetModules"),
            value: target,
            expected: `module names of ${config.model} (${modelType}${source}): ${shortNames(modules).join(", ")}${didYouMean(target, shortNames(modules))}; "${target}" matches none`
          })
        }
      }
    }
    if (config.tokensPerStep !== null && Math.floor(config.tokensPerStep / config.gradientAccumulationSteps) < config.maxSeqLength) {
      add({
        path: fieldPath(def, config, "tokensPerStep"),
        value: config.tokensPerStep,
        expected: `at least gradientAccumulationSteps × maxSeqLength = ${config.gradientAccumulationSteps} × ${config.maxSeqLength} = ${config.gradientAccumulationSteps * config.maxSeqLength}, so the longest sample fits a micro-batch`
      })
    }
  }
  return [...problems.values()]
}

const bitsandbytesOptims = new Set(["adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit"])

/** CUDA-only cells on a machine where torch sees no GPU (`gpu` from the environment probe). */
export const checkDevice = (def: GridDef, cells: ReadonlyArray<ExpandedCell>, gpu: boolean): Array<ExpandProblem> => {
  if (gpu) return []
  const problems = new Map<string, ExpandProblem>()
  const add = (p: ExpandProblem) => problems.set(`${p.path}\u0000${p.expected}`, p)
  const none = "this machine has no GPU that torch can see (tunegrid doctor)"
  for (const { config } of cells) {
    if (config.device === "cuda") {
      add({ path: fieldPath(def, config, "device"), value: "cuda", expected: `"auto" or "cpu": ${none}` })
      continue
    }
    if (config.device === "cpu") continue // expand.ts already refused what the CPU cannot do
    const onCpu = ` needs a CUDA device; with device "auto" it would run on the CPU, and ${none}`
    if (config.method === "qlora")
      add({ path: fieldPath(def, config, "method"), value: "qlora", expected: `"lora": qlora (bitsandbytes 4-bit)${onCpu}` })
    if (bitsandbytesOptims.has(config.optim))
      add({ path: fieldPath(def, config, "optim"), value: config.optim, expected: `"adamw_torch": ${config.optim} (bitsandbytes)${onCpu}` })
    if (config.precision === "fp16")
      add({ path: fieldPath(def, config, "precision"), value: "fp16", expected: `"bf16" or "fp32": fp16 autocast${onCpu}` })
  }
  return [...problems.values()]
}
