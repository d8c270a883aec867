// Flags every command shares (--ledger, --python, --grid), the user-facing error type commands
// fail with, and what the shared flags resolve to.
import { Effect, Option, Schema } from "effect"
import { Flag } from "effect/cli"
import type { ReportFilter } from "../ledger/report.ts"
import { gridNames } from "../ledger/runs.ts"
import { findPython, PythonNotFound } from "../trainer/python.ts"

export const ledgerFlag = Flag.String("ledger").pipe(
  Flag.withDescription("DuckDB ledger file (default ./tunegrid.duckdb)"),
  Flag.withDefault("tunegrid.duckdb")
)

export const pythonFlag = Flag.String("python").pipe(
  Flag.withDescription("Python interpreter with the trainer's dependencies (default: $TUNEGRID_PYTHON, then trainer/.venv)"),
  Flag.optional
)

export const gridFlag = Flag.String("grid").pipe(
  Flag.optional,
  Flag.withDescription("Only this grid's runs (its name, as in defineGrid({ name }))")
)

export class UserError extends Schema.TaggedError<UserError>()("UserError", { message: Schema.String }) {}

export const resolvePython = (flag: { _tag: "Some"; value: string } | { _tag: "None" }) => {
  const found = findPython(flag._tag === "Some" ? flag.value : null)
  return found instanceof PythonNotFound ? Effect.fail(found) : Effect.succeed(found.python)
}

/** The filter for --grid, refusing a grid name the ledger does not have (and naming those it has). */
export const gridFilter = (grid: Option.Option<string>) =>
  Effect.gen(function* () {
    if (Option.isNone(grid)) return { grid: null } satisfies ReportFilter
    const names = yield* gridNames
    if (!names.includes(grid.value)) {
      return yield* new UserError({
        message: `--grid ${grid.value}: no grid of that name in the ledger (it has: ${names.join(", ") || "none"})`
      })
    }
    return { grid: grid.value } satisfies ReportFilter
  })
