// Trainer backends as a cell field: a field the cell's trainer cannot honour is refused when the
// grid expands, naming the field, the backend and why; script arguments take the cell's values;
// every backend's cell (and the user's data fields) crosses into a spec the trainer decodes.
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { hashCell, toSpec, trainerDir } from "../../src/cells.ts"
import { fillScriptArgs } from "../../src/grid/backends.ts"
import { defaultCell } from "../../src/grid/defaults.ts"
import { expandGrid } from "../../src/grid/expand.ts"
import { loadGrid } from "../../src/grid/load.ts"
import type { GridDef, PartialCell } from "../../src/grid/schema.ts"
import { findPython, PythonNotFound, pythonEnv } from "../../src/trainer/python.ts"

const problemsOf = (base: PartialCell) => expandGrid({ name: "g", base } as GridDef).problems

describe("fields a trainer backend cannot honour", () => {
  it.each([
    [{ trainer: "hf", tokensPerStep: 8192 }, "tokensPerStep", /trainer "hf".*no token budget/],
    [{ trainer: "hf", lossKernel: "fused" }, "lossKernel", /trainer "hf".*full logits/],
    [{ trainer: "hf", gradientCheckpointing: "auto" }, "gradientCheckpointing", /trainer "hf".*memory probe/],
    [{ trainer: "trl" }, "lossKernel", /trainer "trl".*TRL 1\.16's SFTTrainer always computes the loss with its own fused LM head/],
    [{ trainer: "trl", lossKernel: "fused", tokensPerStep: 8192 }, "tokensPerStep", /trainer "trl".*TRL's packing.*padding "packed"/],
    [{ trainer: "trl", lossKernel: "fused", gradientCheckpointing: "auto" }, "gradientCheckpointing", /trainer "trl"/]
  ] as const)("%j is refused at %s", (base, field, why) => {
    const problems = problemsOf(base as PartialCell)
    expect(problems).toHaveLength(1)
    expect(problems[0]!.path).toBe(`axes combination 0: ${field}`)
    expect(problems[0]!.expected).toMatch(why)
  })

  it("accepts what each backend honours: hf packed (padding-free) and compiled, trl packing, tunegrid everything", () => {
    expect(problemsOf({ trainer: "hf", padding: "packed", compile: true })).toEqual([])
    expect(problemsOf({ trainer: "trl", lossKernel: "fused", padding: "packed", tokensPerStep: 8192 })).toEqual([])
    expect(
      problemsOf({
        trainer: "tunegrid",
        padding: "packed",
        lossKernel: "fused",
        compile: true,
        gradientCheckpointing: "auto",
        tokensPerStep: 8192
      })
    ).toEqual([])
  })

  it("a script cell needs its script, and only a script cell takes one", () => {
    expect(problemsOf({ trainer: "script" })[0]).toMatchObject({
      path: "axes combination 0: script",
      expected: expect.stringMatching(/user's training script/)
    })
    expect(problemsOf({ script: "train.py" })[0]).toMatchObject({
      path: "axes combination 0: script",
      expected: expect.stringMatching(/only trainer "script"/)
    })
    expect(problemsOf({ scriptArgs: ["--x"] })[0]).toMatchObject({ path: "axes combination 0: scriptArgs" })
    expect(problemsOf({ trainer: "script", script: "t.py", scriptArgs: ["--lr", "{learningRat}"] })[0]!.expected).toMatch(
      /\{learningRat\} is neither/
    )
  })

  it("splits, subsets and column mappings only where the dataset has them", () => {
    expect(problemsOf({ dataset: "file:x.jsonl", datasetSplit: "test" })[0]!.expected).toMatch(/only hub datasets have splits/)
    expect(problemsOf({ dataset: "file:x.jsonl", datasetSubset: "a" })[0]!.expected).toMatch(/only hub datasets have subsets/)
    expect(problemsOf({ datasetColumns: { text: "body" } })[0]!.expected).toMatch(/synthetic set has no columns/)
    expect(problemsOf({ dataset: "hub:org/x", datasetSplit: "test", datasetSubset: "a", datasetColumns: { prompt: "q" } })).toEqual([])
  })

  it("refuses the grid file before anything runs, with the cell, the field, the backend and why", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tunegrid-backends-")), "g.ts")
    writeFileSync(file, `export default { name: "g", cells: [{ trainer: "hf" }, { trainer: "trl" }] }\n`)
    const exit = await Effect.runPromiseExit(loadGrid(file))
    expect(exit._tag).toBe("Failure")
    expect(String(exit._tag === "Failure" ? exit.cause.reasons[0] : "")).toMatch(
      /cells\[1\]: lossKernel: expected a value trainer "trl" can honour: TRL 1\.16's SFTTrainer always computes the loss with its own fused LM head \(no full logits\): set "fused"; got "standard"/
    )
  })
})

describe("script arguments", () => {
  it("take the cell's values and its seed", () => {
    const config = {
      ...defaultCell,
      trainer: "script",
      script: "t.py",
      learningRate: 0.001,
      batchSize: 4,
      precision: "bf16",
      scriptArgs: ["--lr", "{learningRate}", "--bs={batchSize}", "--seed", "{seed}", "{precision}", "plain"]
    } as const
    expect(fillScriptArgs(config, 7)).toEqual(["--lr", "0.001", "--bs=4", "--seed", "7", "bf16", "plain"])
  })
})

const python = findPython(null)

describe("the user's data and trainer fields reach the trainer", () => {
  it.skipIf(python instanceof PythonNotFound)("every backend's spec, hub split/subset and column mapping decode in Python", () => {
    const py = python as { python: string }
    const cells: Array<PartialCell> = [
      {
        trainer: "hf",
        dataset: "hub:org/chat",
        datasetSplit: "test",
        datasetSubset: "default",
        datasetColumns: { messages: "conversations" },
        assistantOnlyLoss: true
      },
      { trainer: "trl", lossKernel: "fused", padding: "packed", tokensPerStep: 4096, dataset: "file:data.csv", completionOnlyLoss: false },
      { trainer: "script", script: "train.py", scriptArgs: ["--lr", "{learningRate}", "--seed", "{seed}"] }
    ]
    const { expansion } = expandGrid({ name: "g", cells, seeds: [5] } as GridDef)
    const dir = mkdtempSync(join(tmpdir(), "tunegrid-backends-"))
    const specs = expansion.cells.map((cell) =>
      toSpec(hashCell(cell, expansion.measure, "t", "d"), expansion.measure, "run", { baseDir: dir, tokenizerDir: "/tok" })
    )
    const decode = `
import json, sys
from tunegrid_trainer.spec import decode_spec
for raw in json.loads(sys.stdin.read()):
    s = decode_spec(raw)
    print(json.dumps([s.trainer, s.data.source, getattr(s.data, "split", None), getattr(s.data, "subset", None),
                      getattr(s.data, "columns", None) and s.data.columns.messages, s.script and s.script.args,
                      s.completion_only_loss, s.assistant_only_loss]))
`
    const out = execFileSync(py.python, ["-c", decode], {
      cwd: trainerDir,
      env: { ...process.env, ...pythonEnv() },
      input: JSON.stringify(specs)
    })
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown)
    expect(out).toEqual([
      ["hf", "hub", "test", "default", "conversations", null, null, true],
      ["trl", "file", null, null, null, null, false, false],
      ["script", "synthetic", null, null, null, ["--lr", "0.0002", "--seed", "5"], null, false]
    ])
    expect(specs[2]!.script).toEqual({ path: join(dir, "train.py"), args: ["--lr", "0.0002", "--seed", "5"], cwd: dir })
  })
})
