// A query's result as a table with DuckDB's native values (bigints, Dates, nested values) and its
// column names, even when it has no rows (then from DESCRIBE, where DuckDB can describe it).
import { Effect } from "effect"
import type { LedgerError, LedgerShape, Param, Row } from "./Ledger.ts"

export interface Table {
  readonly columns: Array<string>
  readonly rows: Array<Row>
}

export const queryTable = (l: LedgerShape, sql: string, params: ReadonlyArray<Param> = []): Effect.Effect<Table, LedgerError> =>
  l.rows(sql, params).pipe(
    Effect.flatMap((rows) =>
      rows.length > 0
        ? Effect.succeed({ columns: Object.keys(rows[0]!), rows })
        : l.rows(`DESCRIBE ${sql.trim().replace(/;\s*$/, "")}`, params).pipe(
            Effect.map((d) => ({ columns: d.map((r) => String(r.column_name)), rows })),
            Effect.orElseSucceed(() => ({ columns: [] as Array<string>, rows }))
          )
    )
  )
