// The checks that refuse a grid before any trainer starts, on their own: field paths in the
// grid's terms, target modules read from a hub model's config.json in the local cache or a local
// model folder, and the "did you mean" suggestions.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { expandGrid } from "../../src/grid/expand.ts"
import { targetMatches } from "../../src/grid/presets.ts"
import type { GridDef } from "../../src/grid/schema.ts"
import { closest } from "../../src/grid/suggest.ts"
import { checkCells, checkDevice } from "../../src/grid/validate.ts"

const dir = mkdtempSync(join(tmpdir(), "tunegrid-validate-"))
const check = (def: GridDef) => checkCells(def, expandGrid(def).expansion.cells, { baseDir: dir })
const saved = process.env.HF_HUB_CACHE
afterEach(() => {
  if (saved === undefined) delete process.env.HF_HUB_CACHE
  else process.env.HF_HUB_CACHE = saved
})

describe("checkCells", () => {
  it("reads a hub model's architecture from the local Hugging Face cache and names the module that matches nothing", () => {
    const cache = join(dir, "hub")
    const snap = join(cache, "models--meta-llama--Llama-3.1-8B", "snapshots", "abc123")
    mkdirSync(snap, { recursive: true })
    writeFileSync(join(snap, "config.json"), JSON.stringify({ model_type: "llama" }))
    process.env.HF_HUB_CACHE = cache
    const problems = check({ name: "g", base: { model: "hub:meta-llama/Llama-3.1-8B", targetModules: ["q_proj", "qkv"] } })
    expect(problems).toEqual([
      expect.objectContaining({
        path: "base.targetModules",
        value: "qkv",
        expected: expect.stringMatching(
          /^module names of hub:meta-llama\/Llama-3\.1-8B \(llama, from its config\.json in the Hugging Face cache\): q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, .*"qkv" matches none/
        )
      })
    ])
  })

  it("a hub model not downloaded yet is left to PEFT (nothing known to check against)", () => {
    process.env.HF_HUB_CACHE = join(dir, "empty")
    expect(check({ name: "g", base: { model: "hub:Qwen/Qwen2.5-1.5B-Instruct", targetModules: ["anything"] } })).toEqual([])
  })

  it("reads a local model's config.json, relative to the grid file's folder", () => {
    mkdirSync(join(dir, "models", "mine"), { recursive: true })
    writeFileSync(join(dir, "models", "mine", "config.json"), JSON.stringify({ model_type: "qwen2" }))
    expect(
      check({ name: "g", base: { model: "local:models/mine", targetModules: ["self_attn.q_proj", "layers.0.mlp.up_proj", "all-linear"] } })
    ).toEqual([])
    expect(check({ name: "g", base: { model: "local:models/mine" }, axes: { targetModules: [["q_proj"], ["attn"]] } })).toEqual([
      expect.objectContaining({ path: "axes.targetModules[1]", value: "attn" })
    ])
  })

  it("reports a problem shared by every cell once, at the field it comes from", () => {
    const problems = check({ name: "g", base: { model: "preset:tiny", tokensPerStep: 256, maxSeqLength: 512 }, axes: { r: [4, 8, 16] } })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ path: "base.tokensPerStep", value: 256 })
  })
})

describe("checkDevice", () => {
  it("on a machine without a GPU refuses device cuda, and what device auto would then run on the CPU", () => {
    const def: GridDef = { name: "g", base: { device: "auto", method: "qlora" }, axes: { optim: ["adamw_torch", "paged_adamw_8bit"] } }
    const paths = checkDevice(def, expandGrid(def).expansion.cells, false).map((p) => p.path)
    expect(paths).toEqual(["base.method", "axes.optim[1]"])
    expect(checkDevice(def, expandGrid(def).expansion.cells, true)).toEqual([])
  })
})

describe("suggestions", () => {
  it.each([
    ["learningrate", "learningRate"],
    ["lr", "learningRate"],
    ["learning_rate", "learningRate"],
    ["bs", "batchSize"],
    ["maxSeqLen", "maxSeqLength"]
  ])("%s → %s", (typo, field) => expect(closest(typo, ["learningRate", "batchSize", "maxSeqLength", "r", "loraAlpha"])).toBe(field))
  it("suggests nothing for a name far from every field", () => {
    expect(closest("temperature", ["learningRate", "batchSize", "r"])).toBeNull()
  })
  it("matches PEFT's rule for target module names", () => {
    const modules = ["model.layers.N.self_attn.q_proj", "lm_head"]
    expect(["q_proj", "self_attn.q_proj", "layers.12.self_attn.q_proj", "lm_head"].every((t) => targetMatches(t, modules))).toBe(true)
    expect(["proj", "attn", "layers.x.self_attn.q_proj"].some((t) => targetMatches(t, modules))).toBe(false)
  })
})
