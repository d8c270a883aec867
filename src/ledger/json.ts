// A query's result as JSON-safe rows (bigints and timestamps as strings, INTERVALs as DuckDB
// writes them), for printing: the one conversion a local read (Ledger.ts) and a read through the
// runner's socket (readServer.ts) share.
import { DuckDBTypeId, type DuckDBResultReader } from "@duckdb/node-api"

export const jsonRows = (reader: DuckDBResultReader): { columns: Array<string>; rows: Array<Record<string, unknown>> } => {
  const columns = reader.columnNames()
  const rows: Array<Record<string, unknown>> = reader.getRowObjectsJson()
  // INTERVALs as DuckDB writes them ("01:30:00", "2 days 03:00:00"), not {months, days, micros}
  const intervals = columns.filter((_, i) => reader.columnTypeId(i) === DuckDBTypeId.INTERVAL)
  if (intervals.length > 0) {
    const values = reader.getRowObjects()
    rows.forEach((row, i) => {
      for (const c of intervals) row[c] = values[i]![c] === null ? null : String(values[i]![c])
    })
  }
  return { columns, rows }
}
