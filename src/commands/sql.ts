// `tunegrid sql "<query>"`: any read-only query on the ledger (tables and views in ledger/*.sql).
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Ledger } from "../ledger/Ledger.ts"
import { render } from "../report.ts"
import { withReadOnly } from "./report.ts"
import { ledgerFlag, UserError } from "./shared.ts"

const friendly = (message: string) => {
  if (/file system operations are disabled/i.test(message)) return `the sql command is read-only and cannot read or write files (${message.split("\n")[0]}); use \`tunegrid export\` to write files`
  if (/read-only mode|read only/i.test(message)) return `the sql command is read-only; this statement would write to the ledger (${message.split("\n")[0]})`
  return message
}

export const sqlCommand = Command.make("sql", {
  query: Argument.String("query").pipe(Argument.withDescription("SQL to run, e.g. \"SELECT * FROM table1\"")),
  format: Flag.Literals("format", ["table", "md", "csv", "json"]).pipe(Flag.withDefault("table")),
  ledger: ledgerFlag
}, (o) =>
  withReadOnly(o.ledger, Effect.gen(function*() {
    const l = yield* Ledger
    const t = yield* l.rowsJson(o.query).pipe(Effect.mapError((e) => new UserError({ message: friendly(e.message) })))
    yield* Console.log(render(t.columns, t.rows, o.format))
  }), false) // no file or network access either: COPY … TO / ATTACH would write outside the ledger
).pipe(Command.withDescription("Run a read-only SQL query on the ledger (tables: runs, steps, samples, results, cells, grids, environments; views: table1, table2, run_summary, failures)"))
