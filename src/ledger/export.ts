// The ledger's side of `tunegrid export`: its tables, each optionally cut to one grid's runs, or
// a query's result, written through DuckDB's own COPY. Every format is one valid file with full
// precision and native types (JSON: one array document).
import { Effect } from "effect"
import type { ExportFormat } from "../export/format.ts"
import { copyStatement } from "./copy.ts"
import { str } from "./decode.ts"
import { Ledger, type LedgerError, type Param } from "./Ledger.ts"

/** A table's rows that belong to grid `$1` (by grid name); tables not tied to runs come whole. */
export const gridRows = (table: string): string => {
  const runs = `SELECT run_id FROM runs WHERE grid_hash IN (SELECT grid_hash FROM grids WHERE name = $1)`
  const of = (column: string) =>
    `SELECT * FROM "${table}" WHERE ${column} IN (SELECT ${column} FROM runs WHERE grid_hash IN (SELECT grid_hash FROM grids WHERE name = $1))`
  switch (table) {
    case "grids":
      return `SELECT * FROM grids WHERE name = $1`
    case "runs":
      return `SELECT * FROM runs WHERE run_id IN (${runs})`
    case "cells":
      return of("cell_hash")
    case "environments":
      return of("env_hash")
    case "steps":
    case "samples":
    case "results":
      return `SELECT * FROM "${table}" WHERE run_id IN (${runs})`
    default:
      return `SELECT * FROM "${table}"`
  }
}

/** The ledger's base tables (not views), by name. */
export const tableNames: Effect.Effect<Array<string>, LedgerError, Ledger> = Effect.map(
  Effect.flatMap(Ledger, (l) =>
    l.rows(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`)
  ),
  (rows) => rows.map((r) => str(r.table_name))
)

/** What one exported file holds: a whole table, a table cut to grid `grid`'s runs, or a query. */
export type ExportSource = { readonly table: string; readonly grid: string | null } | { readonly query: string }

const sourceSql = (s: ExportSource): { sql: string; params: Array<Param> } => {
  if ("query" in s) return { sql: s.query.trim().replace(/;\s*$/, ""), params: [] }
  if (s.grid === null) return { sql: `SELECT * FROM "${s.table}"`, params: [] }
  const sql = gridRows(s.table)
  return { sql, params: sql.includes("$1") ? [s.grid] : [] }
}

/** Write `source` to `file` in `format` (COPY … TO). */
export const copyTo = (source: ExportSource, file: string, format: ExportFormat): Effect.Effect<void, LedgerError, Ledger> =>
  Effect.flatMap(Ledger, (l) => {
    const { sql, params } = sourceSql(source)
    return l.copyTo ? l.copyTo(sql, params, file, format) : l.exec(copyStatement(sql, file, format), params)
  })
