// What the report shows (src/ledger/report.ts reads it from the ledger's views): one row per cell
// (cell_report), the study's Table 1 and Table 2 per run, failed runs, all optionally for one
// grid; and the one per-run table the csv report writes. The figures are computed in SQL only.
import { Effect } from "effect"
import type { Ledger, LedgerError, Row } from "../ledger/Ledger.ts"
import type { Table } from "../ledger/query.ts"
import { reportTables, type ReportFilter } from "../ledger/report.ts"

export type { ReportFilter } from "../ledger/report.ts"

export interface ReportData {
  readonly filter: ReportFilter
  readonly cells: Table
  readonly table1: Table
  readonly table2: Table
  readonly failures: Table
}

export const loadReport = (filter: ReportFilter): Effect.Effect<ReportData, LedgerError, Ledger> =>
  Effect.map(reportTables(filter), (tables) => ({ filter, ...tables }))

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
