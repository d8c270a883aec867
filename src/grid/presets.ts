// The built-in model presets and, per architecture, the module names LoRA can target: read from
// trainer/tunegrid_trainer/presets.json, the one list the trainer builds its presets from too.
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { trainerDir } from "../cells.ts"

interface PresetTable {
  readonly presets: Readonly<Record<string, { readonly model_type: string }>>
  readonly lora_modules: Readonly<Record<string, ReadonlyArray<string>>>
}

let table: PresetTable | null = null
const load = (): PresetTable =>
  (table ??= JSON.parse(readFileSync(resolve(trainerDir, "tunegrid_trainer", "presets.json"), "utf8")) as PresetTable)

export const presetNames = (): Array<string> => Object.keys(load().presets)

/** The architecture (transformers model_type) of a preset, or null when there is no such preset. */
export const presetModelType = (name: string): string | null => load().presets[name]?.model_type ?? null

/** Module names LoRA can target in an architecture ("N" = a layer index), or null when unknown. */
export const loraModules = (modelType: string): ReadonlyArray<string> | null => load().lora_modules[modelType] ?? null

const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Whether a targetModules entry names a module as PEFT matches a list entry: a module's full
 * name or its ending after a dot ("q_proj", "self_attn.q_proj", "layers.3.mlp.up_proj"); "N" in
 * the listed names stands for any layer index. "all-linear" is PEFT's own keyword. */
export const targetMatches = (target: string, modules: ReadonlyArray<string>): boolean =>
  target === "all-linear" ||
  modules.some((m) => {
    const parts = m.split(".")
    return parts.some((_, k) =>
      new RegExp(
        `^${parts
          .slice(k)
          .map((p) => (p === "N" ? "\\d+" : escape(p)))
          .join("\\.")}$`
      ).test(target)
    )
  })

const usual = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

/** The short names of an architecture's modules for messages, the usual LoRA targets first. */
export const shortNames = (modules: ReadonlyArray<string>): Array<string> => {
  const names = [...new Set(modules.map((m) => m.split(".").at(-1)!))]
  const rank = (n: string) => (usual.includes(n) ? usual.indexOf(n) : usual.length)
  return names.sort((a, b) => rank(a) - rank(b))
}
