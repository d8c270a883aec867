// The figures as Vega-Lite specs and as drawn SVG/PNG: bars in the numeric order of their axis
// values, grouped by the second axis and paneled by the third, an error bar for every bar with an
// interval (one run included, marked n=1), noisy cells faded, no empty chart for what was not
// measured, plain tick labels, and the Pareto front of VRAM against throughput.
import { describe, expect, it } from "vitest"
import { axesOf, barFigure, memoryFigure, paretoFront, type PlotCell } from "../../src/plot/figures.ts"
import { toPng, toSvg } from "../../src/plot/render.ts"

const cell = (axes: Record<string, unknown>, tokS: number, extra: Partial<PlotCell> = {}): PlotCell => ({
  label: Object.entries(axes)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" "),
  axes,
  n: 2,
  reliable: true,
  tokS,
  tokSLow: tokS * 0.95,
  tokSHigh: tokS * 1.05,
  t10k: 10_000 / tokS,
  t10kLow: null,
  t10kHigh: null,
  jPerToken: null,
  jLow: null,
  jHigh: null,
  vramMib: null,
  ...extra
})

const marks = (svg: string, role: string) => (svg.match(new RegExp(`aria-roledescription="${role}"`, "g")) ?? []).length
const labels = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!)

describe("bar figures", () => {
  const cells = [16, 4, 8].flatMap((r) =>
    ["bf16", "fp16"].map((precision) => cell({ r, precision }, 1000 + r * 10 + (precision === "fp16" ? 5 : 0)))
  )

  it("orders numeric axis values as numbers (r=4 before r=16), not as strings", () => {
    expect(axesOf(cells)).toEqual([
      { name: "r", values: ["4", "8", "16"] },
      { name: "precision", values: ["bf16", "fp16"] }
    ])
  })

  it("puts the first axis on x, the second side by side in colour, and draws every bar with its error bar", async () => {
    const f = barFigure("g", "throughput", cells)
    const layer = (f.spec as { encoding: Record<string, { field: string; sort: Array<string> }> }).encoding
    expect(layer.x).toMatchObject({ field: "r", sort: ["4", "8", "16"] })
    expect(layer.xOffset).toMatchObject({ field: "precision" })
    const svg = await toSvg(f.spec!)
    expect(marks(svg, "bar")).toBe(6)
    expect(marks(svg, "errorbar")).toBe(6)
    const text = labels(svg)
    expect(text.indexOf("4")).toBeLessThan(text.indexOf("16"))
    expect(text.join(" ")).not.toMatch(/e\+\d/) // ticks as numbers people read, not 2.0e+3
  })

  it("a third varying axis becomes panels", () => {
    const three = cells.flatMap((c) => [1, 2].map((b) => cell({ ...c.axes, batchSize: b }, c.tokS! * b)))
    const f = barFigure("g", "throughput", three)
    expect(f.spec).toMatchObject({ facet: { column: { field: "batchSize" } } })
  })

  it("never stacks two cells into one bar: where folded fields share a position, each cell gets its own bar", async () => {
    // the study's grid: labelled runs × readings; five fields vary, two cells would share (method, precision, compute dtype)
    const study = [
      cell({ method: "qlora", precision: "fp16", dtype: "fp16", optim: "adamw", batchSize: 1 }, 297),
      cell({ method: "qlora", precision: "fp16", dtype: "fp16", optim: "paged", batchSize: 2 }, 462),
      cell({ method: "lora", precision: "fp16", dtype: "fp16", optim: "adamw", batchSize: 1 }, 382),
      cell({ method: "qlora", precision: "bf16", dtype: "bf16", optim: "paged", batchSize: 2 }, 567)
    ]
    const f = barFigure("g", "throughput", study)
    const spec = f.spec as { encoding: Record<string, { field: string }>; layer: Array<{ encoding: { y?: { stack?: unknown } } }> }
    expect(spec.encoding.x).toMatchObject({ field: "cell" })
    expect(spec.layer[0]!.encoding.y!.stack).toBeNull()
    const svg = await toSvg(f.spec!)
    expect(marks(svg, "bar")).toBe(4)
    // no bar reaches the sum of two cells (297 + 462): the axis stops below it
    expect(labels(svg)).not.toContain("700")
  })

  it("draws the run's own interval for a cell of one run, marks it n=1, and fades a noisy cell", async () => {
    const f = barFigure("g", "throughput", [
      cell({ r: 4 }, 500, { n: 1 }),
      cell({ r: 8 }, 400, { reliable: false, tokSLow: 0, tokSHigh: 1400 })
    ])
    const svg = await toSvg(f.spec!)
    expect(marks(svg, "errorbar")).toBe(2)
    expect(labels(svg)).toContain("n=1")
    expect(JSON.stringify(f.spec)).toContain("faded: tok/s CI wider than ±25%")
    expect(svg).toMatch(/fill-opacity="0\.35"|opacity="0\.35"/)
  })

  it("writes no J/token chart when no energy was measured, and says why", () => {
    const f = barFigure("g", "j_per_token", cells)
    expect(f.spec).toBeNull()
    expect(f.skipped).toMatch(/energy was not measured/)
  })

  it("renders to a PNG", async () => {
    const png = toPng(await toSvg(barFigure("g", "t10k", cells).spec!))
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    expect(png.length).toBeGreaterThan(5000)
  })
})

describe("memory against throughput", () => {
  const cells = [
    cell({ b: 1 }, 1000, { vramMib: 4000 }),
    cell({ b: 2 }, 1500, { vramMib: 5000 }),
    cell({ b: 3 }, 1200, { vramMib: 6000 }),
    cell({ b: 4 }, 2000, { vramMib: 7000 })
  ]
  it("the Pareto front keeps the cells no other beats on both tok/s and VRAM, smallest first", () => {
    expect(paretoFront(cells).map((c) => c.label)).toEqual(["b=1", "b=2", "b=4"])
  })
  it("draws every cell and the front; without VRAM it draws nothing and says why", async () => {
    const svg = await toSvg(memoryFigure("g", cells).spec!)
    expect(marks(svg, "errorbar")).toBe(4)
    expect(svg).toContain("Pareto front")
    expect(memoryFigure("g", [cell({ b: 1 }, 100)])).toMatchObject({
      spec: null,
      skipped: expect.stringContaining("VRAM was not measured")
    })
  })
})
