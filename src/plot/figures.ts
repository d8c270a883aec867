// The study's figures as Vega-Lite specifications, one grid at a time: throughput, seconds per
// 10k tokens and J/token as bars grouped by the grid's axes (the first on x, the second side by
// side in colour, a third as panels; numbers in numeric order), each with its 95% error bar and
// "n=1" over a bar of one run; and VRAM peak against throughput with the Pareto front (no other
// cell both faster and smaller). Noisy cells (tok/s CI wider than ±25%) are drawn faded. Pure:
// rows in, specs out (render.ts draws them).
import type { CellFigures } from "../ledger/report.ts"
import { CI_SANITY_BOUND } from "../report/noise.ts"

/** One cell of a grid as plotted: its figures as the ledger's cell_report view aggregates them. */
export type PlotCell = Omit<CellFigures, "grid">

export type Spec = Record<string, unknown>

export interface Figure {
  readonly name: string
  readonly spec: Spec | null
  /** Why there is no figure (nothing measured), when spec is null. */
  readonly skipped: string | null
}

const text = (v: unknown) => (Array.isArray(v) ? v.join("+") : String(v))

/** The axes that vary across these cells, and each one's values in order (numbers numerically). */
export const axesOf = (cells: ReadonlyArray<PlotCell>): Array<{ name: string; values: Array<string> }> => {
  const names = [...new Set(cells.flatMap((c) => Object.keys(c.axes)))]
  return names
    .map((name) => {
      const raw = [...new Map(cells.map((c) => [text(c.axes[name]), c.axes[name]])).entries()]
      const numeric = raw.every(([, v]) => typeof v === "number")
      const values = numeric ? raw.sort((a, b) => (a[1] as number) - (b[1] as number)).map(([t]) => t) : raw.map(([t]) => t)
      return { name, values }
    })
    .filter((a) => a.values.length > 1)
}

const measure = {
  throughput: {
    title: "Throughput over the steady window",
    y: "tokens / s (real tokens)",
    value: "tokS",
    low: "tokSLow",
    high: "tokSHigh"
  },
  t10k: { title: "Seconds per 10k tokens", y: "s / 10k tokens", value: "t10k", low: "t10kLow", high: "t10kHigh" },
  j_per_token: { title: "Energy per token (measured)", y: "J / token", value: "jPerToken", low: "jLow", high: "jHigh" }
} as const

/** Subtitle lines of at most ~60 characters: headless vega sizes text by estimate (no canvas),
 * and long lines would widen the figure with empty space. */
const short = (lines: ReadonlyArray<string>): Array<string> =>
  lines.flatMap((line) =>
    line.split(" ").reduce<Array<string>>((out, word) => {
      const last = out.at(-1)
      if (last !== undefined && (last + " " + word).length <= 60) out[out.length - 1] = `${last} ${word}`
      else out.push(word)
      return out
    }, [])
  )

const base = (title: string, subtitle: ReadonlyArray<string>): Spec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: { text: title, subtitle: short(subtitle), anchor: "start", subtitleFontSize: 11 },
  config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", view: { stroke: null }, axis: { labelLimit: 220 } },
  background: "white"
})

/** Rows for Vega: the figures plus one field per axis (as text) and a label. */
const values = (cells: ReadonlyArray<PlotCell>, axes: ReadonlyArray<{ name: string }>) =>
  cells.map((c) => ({
    ...c,
    ...Object.fromEntries(axes.map((a) => [a.name, text(c.axes[a.name])])),
    cell: c.label,
    noisy: c.reliable === false,
    one: c.n === 1 ? "n=1" : ""
  }))

export const barFigure = (grid: string, which: keyof typeof measure, cells: ReadonlyArray<PlotCell>): Figure => {
  const m = measure[which]
  const shown = cells.filter((c) => typeof c[m.value] === "number")
  if (shown.length === 0) {
    return {
      name: which,
      spec: null,
      skipped:
        which === "j_per_token" ? "energy was not measured in these runs (no GPU energy counter or power samples)" : "no succeeded runs"
    }
  }
  const axes = axesOf(shown)
  const byCell = { name: "cell", values: [...new Set(shown.map((c) => c.label))] }
  // One bar per cell: where fields folded into the bars (beyond x, colour and panel) leave two
  // cells at one position, Vega would stack them into one bar of their sum; then every cell gets
  // its own bar on x, coloured by the first axis.
  const position = (c: PlotCell) =>
    axes
      .slice(0, 3)
      .map((a) => text(c.axes[a.name]))
      .join("\u0000")
  const unique = new Set(shown.map(position)).size === shown.length
  const x = unique ? (axes[0] ?? byCell) : byCell
  const group = unique ? (axes[1] ?? null) : null
  const colour = unique ? group : (axes[0] ?? null)
  const facet = unique ? (axes[2] ?? null) : null
  const rest = unique ? axes.slice(3).map((a) => a.name) : []
  const xEnc = {
    field: x.name,
    type: "ordinal",
    sort: x.values,
    title: x.name === "cell" ? null : x.name,
    axis: x.name === "cell" ? { labelAngle: -30, labelLimit: 400 } : { labelAngle: 0 }
  }
  const offset = group ? { xOffset: { field: group.name, type: "ordinal", sort: group.values } } : {}
  const color = colour
    ? { color: { field: colour.name, type: "nominal", sort: colour.values, title: colour.name, scale: { scheme: "tableau10" } } }
    : { color: { value: "#4c78a8" } }
  const tooltip = [
    { field: "cell" },
    { field: "n" },
    { field: m.value, title: m.y, format: ".4~g" },
    { field: m.low, format: ".4~g" },
    { field: m.high, format: ".4~g" }
  ]
  const layer = [
    {
      mark: { type: "bar" },
      encoding: {
        y: { field: m.value, type: "quantitative", title: m.y, scale: { zero: true }, stack: null },
        ...color,
        opacity: { condition: { test: "datum.noisy", value: 0.35 }, value: 1 },
        tooltip
      }
    },
    {
      mark: { type: "errorbar", ticks: true, color: "black" },
      transform: [{ filter: `isValid(datum.${m.low}) && isValid(datum.${m.high})` }],
      encoding: { y: { field: m.low, type: "quantitative", title: m.y }, y2: { field: m.high } }
    },
    {
      mark: { type: "text", dy: -8, fontSize: 10, color: "#555" },
      transform: [
        { filter: "datum.one !== ''" },
        { calculate: `isValid(datum.${m.high}) ? datum.${m.high} : datum.${m.value}`, as: "top" }
      ],
      encoding: { y: { field: "top", type: "quantitative" }, text: { field: "one" } }
    }
  ]
  const subtitle = [
    `grid ${grid}${rest.length ? ` · other varying fields folded into the bars: ${rest.join(", ")}` : ""}`,
    "error bars: 95% CI, over the runs when n ≥ 2, else the run's own window (batch means)",
    ...(shown.some((c) => c.reliable === false)
      ? [`faded: tok/s CI wider than ±${Math.round(CI_SANITY_BOUND * 100)}% (noisy, not a measurement to compare)`]
      : [])
  ]
  // wide enough to read: ~60 px per bar, never narrower than 320 px
  const width = Math.max(320, x.values.length * (group ? group.values.length * 24 + 16 : 64))
  const unit = { width, height: 260, encoding: { x: xEnc, ...offset }, layer }
  const spec: Spec = facet
    ? {
        ...base(m.title, subtitle),
        data: { values: values(shown, axes) },
        facet: { column: { field: facet.name, type: "ordinal", sort: facet.values, title: facet.name } },
        spec: unit
      }
    : { ...base(m.title, subtitle), data: { values: values(shown, axes) }, ...unit }
  return { name: which, spec, skipped: null }
}

/** Cells no other cell beats on both tok/s (higher) and VRAM (lower). */
export const paretoFront = <C extends { tokS: number | null; vramMib: number | null }>(cells: ReadonlyArray<C>): Array<C> => {
  const measured = cells.filter((c) => c.tokS !== null && c.vramMib !== null)
  return measured
    .filter(
      (c) =>
        !measured.some((o) => o !== c && o.tokS! >= c.tokS! && o.vramMib! <= c.vramMib! && (o.tokS! > c.tokS! || o.vramMib! < c.vramMib!))
    )
    .sort((a, b) => a.vramMib! - b.vramMib!)
}

export const memoryFigure = (grid: string, cells: ReadonlyArray<PlotCell>): Figure => {
  const shown = cells.filter((c) => c.tokS !== null && c.vramMib !== null)
  if (shown.length === 0) return { name: "memory", spec: null, skipped: "VRAM was not measured in these runs (no GPU)" }
  const front = new Set(paretoFront(shown))
  const rows = values(shown, []).map((r, i) => ({ ...r, front: front.has(shown[i]!) }))
  const x = { field: "vramMib", type: "quantitative", title: "VRAM peak (MiB)", scale: { zero: false } }
  const y = { field: "tokS", type: "quantitative", title: "tokens / s", scale: { zero: false } }
  return {
    name: "memory",
    skipped: null,
    spec: {
      ...base("Memory against throughput", [
        `grid ${grid}`,
        "line: the Pareto front (no other cell both faster and smaller); error bars: 95% CI of tok/s"
      ]),
      data: { values: rows },
      width: 420,
      height: 300,
      layer: [
        {
          mark: { type: "line", color: "#e45756", strokeDash: [4, 3] },
          transform: [{ filter: "datum.front" }],
          encoding: { x, y, order: { field: "vramMib" } }
        },
        {
          mark: { type: "errorbar", color: "#888" },
          transform: [{ filter: "isValid(datum.tokSLow) && isValid(datum.tokSHigh)" }],
          encoding: { x, y: { field: "tokSLow", type: "quantitative", title: "tokens / s" }, y2: { field: "tokSHigh" } }
        },
        {
          mark: { type: "point", filled: true, size: 60 },
          encoding: {
            x,
            y,
            color: {
              field: "front",
              type: "nominal",
              title: "Pareto front",
              scale: { domain: [true, false], range: ["#e45756", "#4c78a8"] }
            },
            opacity: { condition: { test: "datum.noisy", value: 0.35 }, value: 1 },
            tooltip: [{ field: "cell" }, { field: "tokS", format: ".4~g" }, { field: "vramMib" }]
          }
        },
        { mark: { type: "text", align: "left", dx: 6, dy: -6, fontSize: 9 }, encoding: { x, y, text: { field: "cell" } } }
      ]
    }
  }
}

export const figuresFor = (grid: string, cells: ReadonlyArray<PlotCell>): Array<Figure> => [
  barFigure(grid, "throughput", cells),
  barFigure(grid, "t10k", cells),
  barFigure(grid, "j_per_token", cells),
  memoryFigure(grid, cells)
]
