// `tunegrid plot [--grid name] [--out plots]`: for each grid, the study's figures — throughput,
// seconds per 10k tokens and J/token by the grid's axes with 95% error bars, and VRAM against
// throughput with the Pareto front — as SVG and PNG (src/plot/). A figure with nothing measured
// (J/token or VRAM on a CPU) is not drawn; the command says why.
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Ledger } from "../ledger/Ledger.ts"
import { figuresFor, type PlotCell } from "../plot/figures.ts"
import { toPng, toSvg } from "../plot/render.ts"
import { gridWhere } from "../report/data.ts"
import { gridFilter, gridFlag, withReadOnly } from "./report.ts"
import { ledgerFlag } from "./shared.ts"

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "bigint" ? Number(v) : null)
const parse = (v: unknown): Record<string, unknown> => (typeof v === "string" ? JSON.parse(v) as Record<string, unknown> : (v ?? {}) as Record<string, unknown>)

export const plotCommand = Command.make("plot", {
  out: Flag.String("out").pipe(Flag.withDefault("plots"), Flag.withDescription("Folder for the figures (default ./plots)")),
  format: Flag.Literals("format", ["svg", "png", "both"]).pipe(Flag.withDefault("both"), Flag.withDescription("svg, png or both (default)")),
  grid: gridFlag,
  ledger: ledgerFlag
}, (o) =>
  withReadOnly(o.ledger, Effect.gen(function*() {
    const l = yield* Ledger
    const { where, params } = gridWhere(yield* gridFilter(o.grid))
    const rows = yield* l.rows(`SELECT * FROM cell_report${where} ORDER BY grid, first_started_at`, params)
    if (rows.length === 0) return yield* Console.log("nothing to plot: no runs in the ledger yet")
    mkdirSync(o.out, { recursive: true })
    for (const grid of [...new Set(rows.map((r) => String(r.grid)))]) {
      const cells: Array<PlotCell> = rows.filter((r) => String(r.grid) === grid && (num(r.n) ?? 0) > 0).map((r) => ({
        label: String(r.cell), axes: parse(r.axis_values), n: num(r.n) ?? 0, reliable: typeof r.reliable === "boolean" ? r.reliable : null,
        tokS: num(r.tok_s_mean), tokSLow: num(r.tok_s_ci_low), tokSHigh: num(r.tok_s_ci_high),
        t10k: num(r.t10k_mean), t10kLow: num(r.t10k_ci_low), t10kHigh: num(r.t10k_ci_high),
        jPerToken: num(r.j_per_token_mean), jLow: num(r.j_per_token_ci_low), jHigh: num(r.j_per_token_ci_high), vramMib: num(r.vram_peak_mib)
      }))
      for (const figure of figuresFor(grid, cells)) {
        const stem = join(o.out, `${grid}-${figure.name}`)
        if (figure.spec === null) {
          yield* Console.log(`skipped ${stem}: ${figure.skipped}`)
          continue
        }
        const svg = yield* Effect.promise(() => toSvg(figure.spec!))
        if (o.format !== "png") {
          writeFileSync(`${stem}.svg`, svg)
          yield* Console.log(`wrote ${stem}.svg`)
        }
        if (o.format !== "svg") {
          writeFileSync(`${stem}.png`, toPng(svg))
          yield* Console.log(`wrote ${stem}.png`)
        }
      }
    }
  }))
).pipe(Command.withDescription("Draw the study's figures per grid (tok/s, s per 10k tokens, J/token by the grid's axes with 95% error bars; VRAM vs tok/s with the Pareto front) as SVG and PNG"))
