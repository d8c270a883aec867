// What a fit searches for each cell, decided before anything runs: the field (tokensPerStep when
// packing), the lattice, the budget (the flag over the cell's), one search for cells that differ
// only in the searched field, and a clear refusal for cells it cannot search.
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { hashCell } from "../../src/cells.ts"
import { planSearch, planSearches, type SearchOptions } from "../../src/fit/fit.ts"
import { expandGrid } from "../../src/grid/expand.ts"
import type { GridDef } from "../../src/grid/schema.ts"

const options: SearchOptions = { budget: null, field: null, headroom: 0.05, probeSteps: 3, max: null, granularity: 256 }
const cells = (def: Omit<GridDef, "name">) => {
  const { expansion, problems } = expandGrid({ name: "g", ...def })
  expect(problems).toEqual([])
  return expansion.cells.map((c) => hashCell(c, expansion.measure, "trainer", "data"))
}

describe("planning a fit", () => {
  it("searches batchSize from the cell's own value, or tokensPerStep on a lattice from accumulation × length when packing", () => {
    const [dynamic] = cells({ base: { device: "cuda", vramBudget: "rtx4060", batchSize: 4 } })
    expect(planSearch(dynamic!, options)).toMatchObject({
      field: "batchSize",
      bounds: { min: 1, max: 256, unit: 1, start: 4 },
      budget: { capMib: 7788 }
    })
    const [packed] = cells({
      base: { device: "cuda", vramBudget: "rtx4060", padding: "packed", maxSeqLength: 1024, gradientAccumulationSteps: 2 }
    })
    expect(planSearch(packed!, { ...options, max: 65536 })).toMatchObject({
      field: "tokensPerStep",
      bounds: { min: 2048, max: 65536, unit: 256, start: 2048 }
    })
  })

  it("takes --budget over the cells' own, and makes one search of cells that differ only in the searched field", async () => {
    const two = cells({ base: { device: "cuda", padding: "packed" }, axes: { tokensPerStep: [2048, 4096] } })
    const searches = await Effect.runPromise(planSearches(two, { ...options, budget: "rtx4090" }, "g.ts"))
    expect(searches).toHaveLength(1)
    expect(searches[0]!.budget.name).toBe("RTX 4090 24 GB")
    expect(searches[0]!.config.vramBudget).toBe("rtx4090")
  })

  it("refuses, naming the cell, what it cannot search: no budget, a CPU cell, batchSize under a token budget", async () => {
    const [none] = cells({ cells: [{ label: "nobudget", device: "cuda" }] })
    expect(planSearch(none!, options)).toMatch(/^cell nobudget: no VRAM budget; pass --budget/)
    const [cpu] = cells({ cells: [{ label: "cpu", device: "cpu" }] })
    expect(planSearch(cpu!, { ...options, budget: "8GiB" })).toMatch(/^cell cpu: device cpu/)
    const [tokens] = cells({ cells: [{ label: "t", device: "cuda", tokensPerStep: 4096, vramBudget: "8GiB" }] })
    expect(planSearch(tokens!, { ...options, field: "batchSize" })).toMatch(
      /batchSize does not size its micro-batches \(tokensPerStep 4096 does\)/
    )
    const failed = await Effect.runPromise(Effect.result(planSearches([none!, cpu!], options, "g.ts")))
    expect(Result.isFailure(failed) && failed.failure.message).toMatch(/^cannot fit g\.ts:\n {2}cell nobudget[\s\S]*\n {2}cell cpu/)
  })
})
