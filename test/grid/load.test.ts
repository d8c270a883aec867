import { Effect, Exit } from "effect"
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { GridInvalid, loadGrid } from "../../src/grid/load.ts"

const dir = mkdtempSync(join(tmpdir(), "tunegrid-grid-"))
const gridFile = (name: string, body: string) => {
  const file = join(dir, name)
  writeFileSync(file, body)
  return file
}

const failure = async (file: string, overrides: Array<string> = []) => {
  const exit = await Effect.runPromiseExit(loadGrid(file, overrides))
  if (Exit.isSuccess(exit)) throw new Error("expected the grid to be rejected")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (!error || !(error.error instanceof GridInvalid)) throw new Error(`unexpected failure: ${String(exit.cause)}`)
  return error.error
}

describe("loadGrid", () => {
  it("loads a grid that imports defineGrid from tunegrid", async () => {
    const file = gridFile(
      "ok.ts",
      `import { defineGrid } from "tunegrid"\nexport default defineGrid({ name: "ok", axes: { batchSize: [1, 2] } })\n`
    )
    const grid = await Effect.runPromise(loadGrid(file))
    expect(grid.expansion.cells).toHaveLength(2)
    expect(grid.sourceText).toContain("defineGrid")
  })

  it("runs a default-exported Effect to build the grid", async () => {
    const file = gridFile(
      "effect.ts",
      `import { Effect } from "effect"\nexport default Effect.succeed({ name: "fx", axes: { r: [4, 8, 16] } })\n`
    )
    const grid = await Effect.runPromise(loadGrid(file))
    expect(grid.expansion.cells.map((c) => c.config.r)).toEqual([4, 8, 16])
  })

  it("names the file, field path, bad value and what was expected", async () => {
    const file = gridFile("bad.ts", `export default { name: "bad", base: { batchSize: "two" }, axes: { optim: ["adam"] } }\n`)
    const e = await failure(file)
    expect(e.file).toBe(file)
    expect(e.message).toContain("bad.ts")
    expect(e.problems).toEqual(
      expect.arrayContaining([
        { path: "base.batchSize", message: expect.stringMatching(/Expected.*number.*got "two"/) },
        { path: "axes.optim[0]", message: expect.stringMatching(/adamw_torch.*got "adam"/) }
      ])
    )
  })

  it("rejects an unknown axis or field by name", async () => {
    const e = await failure(gridFile("typo.ts", `export default { name: "t", axes: { batch_size: [1] } }\n`))
    expect(e.problems[0]!.path).toBe("axes.batch_size")
    expect(e.problems[0]!.message).toMatch(/unknown field/)
  })

  it("rejects an empty axis", async () => {
    const e = await failure(gridFile("empty.ts", `export default { name: "e", axes: { r: [] } }\n`))
    expect(e.problems[0]).toMatchObject({ path: "axes.r", message: expect.stringMatching(/at least 1/) })
  })

  it("reports a syntax error and a grid that throws while being built", async () => {
    const syntax = await failure(gridFile("syntax.ts", `export default { name: "s", axes: { r: [1, }\n`))
    expect(syntax.problems[0]!.message).toMatch(/could not be loaded/)
    const throws = await failure(gridFile("throws.ts", `const f = () => { throw new Error("no data file") }\nexport default f()\n`))
    expect(throws.problems[0]!.message).toMatch(/no data file/)
  })

  it("applies --set overrides and validates them like the file", async () => {
    const file = gridFile("over.ts", `export default { name: "o", base: { model: "preset:tiny" } }\n`)
    const grid = await Effect.runPromise(loadGrid(file, ["base.model=preset:qwen2.5-1.5b", "measure.warmup=20s", "axes.r=[4,8]"]))
    expect(grid.expansion.cells.map((c) => [c.config.model, c.config.r])).toEqual([
      ["preset:qwen2.5-1.5b", 4],
      ["preset:qwen2.5-1.5b", 8]
    ])
    expect(grid.expansion.measure.warmup).toEqual({ seconds: 20 })
    const e = await failure(file, ["base.batchSize=zero"])
    expect(e.problems[0]!.path).toBe("base.batchSize")
  })

  it("reports a missing file", async () => {
    const e = await failure(join(dir, "nope.ts"))
    expect(e.problems[0]!.message).toMatch(/no such file/)
  })
})

describe("shipped experiments", () => {
  const experiments = resolve(import.meta.dirname, "../../experiments")
  for (const name of readdirSync(experiments).filter((f) => f.endsWith(".ts"))) {
    it(`${name} loads and expands`, async () => {
      const grid = await Effect.runPromise(loadGrid(join(experiments, name)))
      expect(grid.expansion.runs.length).toBeGreaterThan(0)
    })
  }
})
