// `tunegrid report` and `tunegrid runs`: the report (a compact view sized to the terminal by
// default; --wide for the study's full tables; --format md|csv|json for files) and a run list,
// both optionally for one grid (--grid).
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { gridFilter, gridFlag, ledgerFlag } from "../cli/flags.ts"
import { withReadOnly } from "../ledger/readOnly.ts"
import { runList } from "../ledger/report.ts"
import { render } from "../report/format.ts"
import { printReport } from "../report/print.ts"

export const reportCommand = Command.make(
  "report",
  {
    format: Flag.Literals("format", ["table", "md", "csv", "json"]).pipe(
      Flag.withDefault("table"),
      Flag.withDescription(
        "table (default: one line per cell, sized to the terminal), md (everything, GitHub markdown), csv (one row per run: Table 1 and Table 2), json (everything, native types)"
      )
    ),
    wide: Flag.Boolean("wide").pipe(
      Flag.withDefault(false),
      Flag.withDescription("The study's full Table 1 and Table 2, one row per run, as aligned text")
    ),
    grid: gridFlag,
    ledger: ledgerFlag
  },
  (o) =>
    withReadOnly(
      o.ledger,
      Effect.flatMap(gridFilter(o.grid), (filter) => printReport(filter, { format: o.format, wide: o.wide }))
    )
).pipe(
  Command.withDescription(
    "Report per cell: status, tok/s ± 95% CI, T10k, VRAM, J/token, steady, and how much faster the fastest cell ran; --wide or --format md for the study's Table 1 (time, tokens, tok/s, T10k, VRAM three ways, MFU, warm-up cut) and Table 2 (J/token measured, above idle, and the study's 95 W / 115 W estimates)"
  )
)

export const runsCommand = Command.make(
  "runs",
  {
    format: Flag.Literals("format", ["table", "md", "csv", "json"]).pipe(Flag.withDefault("table")),
    grid: gridFlag,
    ledger: ledgerFlag
  },
  (o) =>
    withReadOnly(
      o.ledger,
      Effect.gen(function* () {
        const t = yield* runList(yield* gridFilter(o.grid))
        yield* Console.log(render(t.columns, t.rows, o.format))
      })
    )
).pipe(Command.withDescription("List runs in the ledger"))
