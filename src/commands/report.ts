// `tunegrid report` and `tunegrid runs`: the reference study's Table 1 and Table 2, and a run list.
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { existsSync } from "node:fs"
import { Ledger, type LedgerError } from "../ledger/Ledger.ts"
import { render, type Format } from "../report.ts"
import { extraSections } from "../reportSections.ts"
import { ledgerFlag, UserError } from "./shared.ts"

export const printReport = (format: Format) =>
  Effect.gen(function*() {
    const l = yield* Ledger
    const t1 = yield* l.rowsJson(`SELECT * FROM table1`)
    const t2 = yield* l.rowsJson(`SELECT * FROM table2`)
    const failures = yield* l.rowsJson(`SELECT left(run_id, 8) AS run, grid, left(cell_hash, 12) AS cell, status, error_kind, error_message FROM failures`)
    const extra = yield* extraSections
    if (format === "json") {
      const more = Object.fromEntries(extra.map((s) => [s.key, s.table.rows]))
      return yield* Console.log(JSON.stringify({ table1: t1.rows, table2: t2.rows, failures: failures.rows, ...more }, null, 2))
    }
    const section = (title: string, t: { columns: Array<string>; rows: Array<Record<string, unknown>> }) =>
      format === "csv" ? render(t.columns, t.rows, "csv") : `## ${title}\n\n${t.rows.length ? render(t.columns, t.rows, format) : "(none)"}`
    yield* Console.log(section("Table 1 — throughput and memory (steady window, real tokens; ± 95% CI by batch means; MFU/HFU vs the GPU's dense 16-bit peak)", t1))
    yield* Console.log("")
    yield* Console.log(section("Table 2 — energy per token: measured (method), above idle, vs the study's 95 W / 115 W estimates", t2))
    const unsteady = t1.rows.filter((r) => r.steady === false || r.sentinel_drift === true)
    if (format === "md" && unsteady.length > 0) {
      yield* Console.log("")
      yield* Console.log(`Not steady or drifted (${unsteady.length}): ` +
        unsteady.map((r) => `${String(r.run)} ${r.sentinel_drift === true ? "sentinel drifted; " : ""}${String(r.steady_reason ?? "")}`).join("; "))
    }
    if (failures.rows.length > 0) {
      yield* Console.log("")
      yield* Console.log(section("Failed or interrupted runs", failures))
    }
    for (const s of extra) yield* Console.log(`\n${section(s.title, s.table)}`)
  })

/** Provide a read-only ledger, failing clearly when the file does not exist yet. */
export const withReadOnly = <A, E>(path: string, effect: Effect.Effect<A, E, Ledger>, fileAccess = true): Effect.Effect<A, E | UserError | LedgerError> =>
  existsSync(path)
    ? effect.pipe(Effect.provide(Ledger.layerReadOnly(path, fileAccess)))
    : Effect.fail(new UserError({ message: `no ledger at ${path} (run a grid first, or pass --ledger <file>)` }))

export const reportCommand = Command.make("report", {
  format: Flag.Literals("format", ["md", "csv", "json"]).pipe(Flag.withDefault("md"), Flag.withDescription("md (default), csv or json")),
  ledger: ledgerFlag
}, (o) => withReadOnly(o.ledger, printReport(o.format))).pipe(
  Command.withDescription("Print the reference study's Table 1 (time, tokens, tok/s ± CI, T10k, VRAM, MFU, warm-up cut, steady) and Table 2 (J/token measured with its method, above idle, and estimated)")
)

export const runsCommand = Command.make("runs", {
  format: Flag.Literals("format", ["table", "md", "csv", "json"]).pipe(Flag.withDefault("table")),
  ledger: ledgerFlag
}, (o) =>
  withReadOnly(o.ledger, Effect.gen(function*() {
    const l = yield* Ledger
    const t = yield* l.rowsJson(`SELECT left(run_id, 8) AS run, left(cell_hash, 12) AS cell, grid, status, coalesce(finish_reason, error_kind) AS why,
      round(tok_s, 1) AS tok_s, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started, CAST(axis_values AS VARCHAR) AS axes
      FROM run_summary ORDER BY started_at`)
    yield* Console.log(render(t.columns, t.rows, o.format))
  }))
).pipe(Command.withDescription("List runs in the ledger"))
