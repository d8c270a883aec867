import { describe, expect, it } from "vitest"
import { expandGrid, parseSpan, shuffle } from "../../src/grid/expand.ts"
import type { GridDef } from "../../src/grid/schema.ts"

const grid = (extra: Partial<GridDef>): GridDef => ({ name: "g", ...extra })

describe("expandGrid", () => {
  it("takes the cartesian product of the axes, in declared order", () => {
    const { expansion, problems } = expandGrid(grid({ axes: { batchSize: [1, 2, 4], precision: ["bf16", "fp16"] } }))
    expect(problems).toEqual([])
    expect(expansion.cells.map((c) => [c.config.batchSize, c.config.precision])).toEqual([
      [1, "bf16"],
      [1, "fp16"],
      [2, "bf16"],
      [2, "fp16"],
      [4, "bf16"],
      [4, "fp16"]
    ])
    expect(expansion.cells[3]!.axisValues).toEqual({ batchSize: 2, precision: "fp16" })
  })

  it("resolves every field: base over defaults, cells over base", () => {
    const { expansion } = expandGrid(grid({ base: { r: 8 }, cells: [{ label: "a", optim: "paged_adamw_8bit" }, { label: "b" }] }))
    expect(expansion.cells.map((c) => [c.label, c.config.r, c.config.optim])).toEqual([
      ["a", 8, "paged_adamw_8bit"],
      ["b", 8, "adamw_torch"]
    ])
    expect(Object.values(expansion.cells[0]!.config).every((v) => v !== undefined)).toBe(true)
  })

  it("drops cells matching an exclude rule", () => {
    const { expansion } = expandGrid(
      grid({ axes: { batchSize: [1, 2], precision: ["bf16", "fp16"] }, exclude: [{ batchSize: 2, precision: "fp16" }] })
    )
    expect(expansion.cells.map((c) => `${c.config.batchSize}/${c.config.precision}`)).toEqual(["1/bf16", "1/fp16", "2/bf16"])
  })

  it("multiplies cells by seeds and runs by repeats", () => {
    const { expansion } = expandGrid(grid({ axes: { batchSize: [1, 2] }, seeds: [1, 2, 3], repeats: 2 }))
    expect(expansion.cells).toHaveLength(6)
    expect(expansion.runs).toHaveLength(12)
    expect(expansion.cells[0]!.axisValues).toEqual({ batchSize: 1, seed: 1 })
  })

  it("randomizes run order reproducibly with a fixed seed", () => {
    const def = grid({ axes: { batchSize: [1, 2, 3, 4, 5, 6] }, order: { randomized: 7 } })
    const a = expandGrid(def).expansion.runs.map((r) => r.cell.config.batchSize)
    const b = expandGrid(def).expansion.runs.map((r) => r.cell.config.batchSize)
    expect(a).toEqual(b)
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6])
    expect(a).not.toEqual([1, 2, 3, 4, 5, 6])
    expect(shuffle([1, 2, 3, 4, 5, 6], 8)).not.toEqual(a)
  })

  it("reports duplicate cells and impossible combinations", () => {
    const dup = expandGrid(grid({ cells: [{ r: 8 }, { r: 8 }] })).problems
    expect(dup[0]!.path).toBe("cells[1]")
    expect(dup[0]!.expected).toMatch(/identical/)
    const cpu = expandGrid(grid({ base: { device: "cpu", method: "qlora" } })).problems
    expect(cpu[0]!.expected).toMatch(/qlora needs a CUDA device/)
  })

  it("reports an exclude that leaves nothing", () => {
    const { problems } = expandGrid(grid({ axes: { batchSize: [1] }, exclude: [{ batchSize: 1 }] }))
    expect(problems.map((p) => p.path)).toEqual(["exclude"])
  })

  it("normalises measure spans and rejects unreadable ones", () => {
    expect(parseSpan("60s")).toEqual({ seconds: 60 })
    expect(parseSpan("2m")).toEqual({ seconds: 120 })
    expect(parseSpan("500ms")).toEqual({ seconds: 0.5 })
    expect(parseSpan("20 steps")).toEqual({ steps: 20 })
    expect(parseSpan("soon")).toBeNull()
    const { expansion, problems } = expandGrid(grid({ measure: { warmup: "10 steps", window: "soon" } }))
    expect(expansion.measure.warmup).toEqual({ steps: 10 })
    expect(problems[0]).toMatchObject({ path: "measure.window", value: "soon" })
  })

  it("defaults to a detected warm-up and an adaptive window that stops at a ±2% CI after 60 s", () => {
    const { expansion, problems } = expandGrid(grid({}))
    expect(problems).toEqual([])
    expect(expansion.measure).toEqual({
      warmup: { detect: { floorSeconds: 10, capSeconds: 300 } },
      window: { adaptive: { minSeconds: 60 } },
      ciTarget: 0.02,
      maxSteps: 100_000,
      maxSeconds: 900
    })
  })

  it("re-runs the sentinel cell first, after every k runs and last, numbering its repeats after the grid's own", () => {
    const { expansion, problems } = expandGrid(
      grid({
        cells: [
          { label: "x", r: 4 },
          { label: "y", r: 8 },
          { label: "z", r: 16 }
        ],
        axes: { batchSize: [1, 2] },
        repeats: 1,
        measure: { sentinel: { every: 4, cell: "y" } }
      })
    )
    expect(problems).toEqual([])
    const trace = expansion.runs.map((r) =>
      r.sentinel === undefined ? `${r.cell.label}${r.cell.config.batchSize}` : `S${r.sentinel}:${r.cell.label}#${r.repeat}`
    )
    expect(trace).toEqual(["S0:y#1", "x1", "x2", "y1", "y2", "S1:y#2", "z1", "z2", "S2:y#3"])
    const bad = expandGrid(grid({ cells: [{ label: "x" }], measure: { sentinel: { every: 2, cell: "nope" } } }))
    expect(bad.problems).toEqual([{ path: "measure.sentinel.cell", value: "nope", expected: "a cell label (x) or an index below 1" }])
  })

  it("reads detect bounds, the CI target and the minimum window, and names what is wrong with them", () => {
    const ok = expandGrid(
      grid({ measure: { warmup: { detect: { floor: "5s", cap: "2m" } }, window: "adaptive", minWindow: "90s", ciTarget: 0.01 } })
    )
    expect(ok.problems).toEqual([])
    expect(ok.expansion.measure).toMatchObject({
      warmup: { detect: { floorSeconds: 5, capSeconds: 120 } },
      window: { adaptive: { minSeconds: 90 } },
      ciTarget: 0.01
    })
    const bad = expandGrid(
      grid({ measure: { warmup: { detect: { floor: "2m", cap: "5s" } }, window: "adaptive", minWindow: "a while", ciTarget: null } })
    )
    expect(bad.problems.map((p) => p.path)).toEqual(["measure.warmup.detect.cap", "measure.minWindow", "measure.ciTarget"])
    expect(bad.problems[2]!.expected).toMatch(/adaptive/)
  })
})
