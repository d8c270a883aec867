// What the report shows, read from the ledger's views (ledger/views.sql): one row per cell
// (cell_report), the study's Table 1 and Table 2 per run, failed runs, all optionally for one
// grid. The figures are computed in SQL only; this file selects and filters.
import { Effect } from "effect"
import { Ledger, type LedgerError, type Row } from "../ledger/Ledger.ts"
import { queryTable, type Table } from "./query.ts"

export interface ReportFilter {
  /** Only this grid's runs (by grid name); null: every grid in the ledger. */
  readonly grid: string | null
}

export interface ReportData {
  readonly filter: ReportFilter
  readonly cells: Table
  readonly table1: Table
  readonly table2: Table
  readonly failures: Table
}

/** SQL condition and parameters for the grid filter on a view with a `grid` column. */
export const gridWhere = (filter: ReportFilter, column = "grid") =>
  filter.grid === null ? { where: "", params: [] as Array<string> } : { where: ` WHERE ${column} = $1`, params: [filter.grid] }

/** The grid names in the ledger, for refusing an unknown --grid with the list of known ones. */
export const gridNames = Effect.flatMap(Ledger, (l) => l.rows(`SELECT DISTINCT name FROM grids ORDER BY name`)).pipe(
  Effect.map((rows) => rows.map((r) => String(r.name)))
)

export const loadReport = (filter: ReportFilter): Effect.Effect<ReportData, LedgerError, Ledger> =>
  Effect.gen(function*() {
    const l = yield* Ledger
    const { where, params } = gridWhere(filter)
    return {
      filter,
      cells: yield* queryTable(l, `SELECT * EXCLUDE (axis_values, first_started_at) FROM cell_report${where}`, params),
      table1: yield* queryTable(l, `SELECT * FROM table1${where}`, params),
      table2: yield* queryTable(l, `SELECT * FROM table2${where}`, params),
      failures: yield* queryTable(l, `SELECT left(run_id, 8) AS run, grid, cell, status, error_kind, error_message FROM failures${where}`, params)
    }
  })

/** Table 1 and Table 2 side by side, one row per run: the one CSV the report writes. */
export const perRunTable = (data: ReportData): Table => {
  const t2 = new Map(data.table2.rows.map((r) => [`${String(r.grid)}\u0000${String(r.run)}`, r]))
  const t2Columns = data.table2.columns.filter((c) => !data.table1.columns.includes(c))
  const rows: Array<Row> = data.table1.rows.map((r) => {
    const other = t2.get(`${String(r.grid)}\u0000${String(r.run)}`) ?? {}
    return { ...r, ...Object.fromEntries(t2Columns.map((c) => [c, other[c] ?? null])) }
  })
  return { columns: [...data.table1.columns, ...t2Columns], rows }
}
