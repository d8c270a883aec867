// Flags every command shares, and the user-facing error type commands fail with.
import { Effect, Schema } from "effect"
import { Flag } from "effect/cli"
import { findPython, PythonNotFound } from "../trainer/python.ts"

export const ledgerFlag = Flag.String("ledger").pipe(
  Flag.withDescription("DuckDB ledger file (default ./tunegrid.duckdb)"),
  Flag.withDefault("tunegrid.duckdb")
)

export const pythonFlag = Flag.String("python").pipe(
  Flag.withDescription("Python interpreter with the trainer's dependencies (default: $TUNEGRID_PYTHON, then trainer/.venv)"),
  Flag.optional
)

export class UserError extends Schema.TaggedError<UserError>()("UserError", { message: Schema.String }) {}

export const resolvePython = (flag: { _tag: "Some"; value: string } | { _tag: "None" }) => {
  const found = findPython(flag._tag === "Some" ? flag.value : null)
  return found instanceof PythonNotFound ? Effect.fail(found) : Effect.succeed(found.python)
}
