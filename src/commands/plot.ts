// `tunegrid plot [--grid name] [--out plots]`: for each grid, the study's figures — throughput,
// seconds per 10k tokens and J/token by the grid's axes with 95% error bars, and VRAM against
// throughput with the Pareto front — as SVG and PNG (src/plot/). A figure with nothing measured
// (J/token or VRAM on a CPU) is not drawn; the command says why.
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { gridFilter, gridFlag, ledgerFlag } from "../cli/flags.ts"
import { withReadOnly } from "../ledger/readOnly.ts"
import { cellFigures } from "../ledger/report.ts"
import { figuresFor, type PlotCell } from "../plot/figures.ts"
import { toPng, toSvg } from "../plot/render.ts"

export const plotCommand = Command.make(
  "plot",
  {
    out: Flag.String("out").pipe(Flag.withDefault("plots"), Flag.withDescription("Folder for the figures (default ./plots)")),
    format: Flag.Literals("format", ["svg", "png", "both"]).pipe(
      Flag.withDefault("both"),
      Flag.withDescription("svg, png or both (default)")
    ),
    grid: gridFlag,
    ledger: ledgerFlag
  },
  (o) =>
    withReadOnly(
      o.ledger,
      Effect.gen(function* () {
        const rows = yield* cellFigures(yield* gridFilter(o.grid))
        if (rows.length === 0) return yield* Console.log("nothing to plot: no runs in the ledger yet")
        mkdirSync(o.out, { recursive: true })
        for (const grid of [...new Set(rows.map((r) => r.grid))]) {
          const cells: Array<PlotCell> = rows.filter((r) => r.grid === grid && r.n > 0)
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
      })
    )
).pipe(
  Command.withDescription(
    "Draw the study's figures per grid (tok/s, s per 10k tokens, J/token by the grid's axes with 95% error bars; VRAM vs tok/s with the Pareto front) as SVG and PNG"
  )
)
