// `tunegrid export`: the ledger's tables (or one query) to Parquet or CSV files through DuckDB's
// own COPY, for pandas, R, spreadsheets or another DuckDB.
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdirSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { Ledger } from "../ledger/Ledger.ts"
import { withReadOnly } from "./report.ts"
import { ledgerFlag, UserError } from "./shared.ts"

const quote = (path: string) => `'${path.replace(/'/g, "''")}'`
const copyOptions = (format: "parquet" | "csv") => (format === "parquet" ? "(FORMAT parquet)" : "(FORMAT csv, HEADER true)")

export const exportCommand = Command.make("export", {
  out: Flag.String("out").pipe(Flag.withDescription("Folder for one file per table, or the file for --query")),
  format: Flag.Literals("format", ["parquet", "csv"]).pipe(Flag.withDefault("parquet"), Flag.withDescription("parquet (default) or csv")),
  query: Flag.String("query").pipe(Flag.optional, Flag.withDescription("Export this query's result instead of every table")),
  ledger: ledgerFlag
}, (o) =>
  withReadOnly(o.ledger, Effect.gen(function*() {
    const l = yield* Ledger
    const copy = (source: string, file: string) =>
      l.exec(`COPY (${source}) TO ${quote(file)} ${copyOptions(o.format)}`).pipe(
        Effect.mapError((e) => new UserError({ message: `export to ${file} failed: ${e.message.replace(/\n {2}in: .*$/s, "")}` }))
      )
    if (Option.isSome(o.query)) {
      const file = resolve(o.out)
      mkdirSync(dirname(file), { recursive: true })
      yield* copy(o.query.value.trim().replace(/;\s*$/, ""), file)
      return yield* Console.log(`wrote ${file}`)
    }
    const tables = (yield* l.rows(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`))
      .map((r) => String(r.table_name))
    mkdirSync(o.out, { recursive: true })
    for (const table of tables) {
      const file = resolve(join(o.out, `${table}.${o.format}`))
      yield* copy(`SELECT * FROM "${table}"`, file)
      yield* Console.log(`wrote ${file}`)
    }
  }))
).pipe(Command.withDescription("Export the ledger's tables (one file each) or a query's result to Parquet or CSV (DuckDB COPY)"))
