// `tunegrid report` and `tunegrid runs`: the report (a compact view sized to the terminal by
// default; --wide for the study's full tables; --format md|csv|json for files), a run list, and
// the --grid filter and read-only ledger access the reading commands share.
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { existsSync } from "node:fs"
import { Ledger, type LedgerError } from "../ledger/Ledger.ts"
import { gridNames, gridWhere, type ReportFilter } from "../report/data.ts"
import { buildReport, renderReport, type RenderOptions } from "../report/document.ts"
import { render } from "../report/format.ts"
import { queryTable } from "../report/query.ts"
import { ledgerFlag, UserError } from "./shared.ts"

/** Columns of the terminal the report is for: the TTY's, else $COLUMNS, else 100. */
export const terminalWidth = (): number => {
  const env = Number(process.env.COLUMNS)
  return process.stdout.columns ?? (Number.isInteger(env) && env > 20 ? env : 100)
}

export const gridFlag = Flag.String("grid").pipe(Flag.optional, Flag.withDescription("Only this grid's runs (its name, as in defineGrid({ name }))"))

/** The filter for --grid, refusing a grid name the ledger does not have (and naming those it has). */
export const gridFilter = (grid: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isNone(grid)) return { grid: null } satisfies ReportFilter
    const names = yield* gridNames
    if (!names.includes(grid.value)) {
      return yield* new UserError({ message: `--grid ${grid.value}: no grid of that name in the ledger (it has: ${names.join(", ") || "none"})` })
    }
    return { grid: grid.value } satisfies ReportFilter
  })

export const printReport = (filter: ReportFilter, options: Partial<RenderOptions> = {}) =>
  Effect.flatMap(buildReport(filter), (report) =>
    Console.log(renderReport(report, { format: "table", wide: false, width: terminalWidth(), ...options })))

/** Provide a read-only ledger, failing clearly when the file does not exist yet. */
export const withReadOnly = <A, E>(path: string, effect: Effect.Effect<A, E, Ledger>, fileAccess = true): Effect.Effect<A, E | UserError | LedgerError> =>
  existsSync(path)
    ? effect.pipe(Effect.provide(Ledger.layerReadOnly(path, fileAccess)))
    : Effect.fail(new UserError({ message: `no ledger at ${path} (run a grid first, or pass --ledger <file>)` }))

export const reportCommand = Command.make("report", {
  format: Flag.Literals("format", ["table", "md", "csv", "json"]).pipe(Flag.withDefault("table"),
    Flag.withDescription("table (default: one line per cell, sized to the terminal), md (everything, GitHub markdown), csv (one row per run: Table 1 and Table 2), json (everything, native types)")),
  wide: Flag.Boolean("wide").pipe(Flag.withDefault(false), Flag.withDescription("The study's full Table 1 and Table 2, one row per run, as aligned text")),
  grid: gridFlag,
  ledger: ledgerFlag
}, (o) => withReadOnly(o.ledger, Effect.flatMap(gridFilter(o.grid), (filter) => printReport(filter, { format: o.format, wide: o.wide })))).pipe(
  Command.withDescription("Report per cell: status, tok/s ± 95% CI, T10k, VRAM, J/token, steady, and how much faster the fastest cell ran; --wide or --format md for the study's Table 1 (time, tokens, tok/s, T10k, VRAM three ways, MFU, warm-up cut) and Table 2 (J/token measured, above idle, and the study's 95 W / 115 W estimates)")
)

export const runsCommand = Command.make("runs", {
  format: Flag.Literals("format", ["table", "md", "csv", "json"]).pipe(Flag.withDefault("table")),
  grid: gridFlag,
  ledger: ledgerFlag
}, (o) =>
  withReadOnly(o.ledger, Effect.gen(function*() {
    const l = yield* Ledger
    const { where, params } = gridWhere(yield* gridFilter(o.grid))
    const t = yield* queryTable(l, `SELECT left(run_id, 8) AS run, left(cell_hash, 12) AS cell_hash, grid, cell, status, coalesce(finish_reason, error_kind) AS why,
      tok_s, tok_s_ci_rel, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started
      FROM run_summary${where} ORDER BY started_at`, params)
    yield* Console.log(render(t.columns, t.rows, o.format))
  }))
).pipe(Command.withDescription("List runs in the ledger"))
