// The interactive sql prompt's helpers: `SHOW TABLES` listing each table and view once (a
// read-only session shadows the stored views with current temporary copies, which DuckDB would
// list twice), `.schema`, and a history that keeps a statement typed over several lines as one
// entry, saved in ~/.cache/tunegrid/sql_history between sessions.
import { Effect } from "effect"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { dirname, join } from "node:path"
import type { LedgerShape } from "../ledger/Ledger.ts"

/** DuckDB's SHOW TABLES with every name once, or null for any other statement. */
export const showTablesQuery = (statement: string): string | null =>
  /^\s*show\s+(all\s+)?tables\s*;?\s*$/i.test(statement)
    ? `SELECT DISTINCT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY name`
    : null

/** CREATE statements of the ledger's tables, views and macros (or of the one named), each once:
 * the current (temporary) copy where a stored one is shadowed. */
export const schemaOf = (l: LedgerShape, name: string | null) =>
  l.rows(`WITH objects AS (
      SELECT table_name AS name, sql, database_name = 'temp' AS current, 1 AS kind FROM duckdb_tables() WHERE schema_name = 'main'
      UNION ALL
      SELECT view_name, sql, database_name = 'temp', 2 FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'
      UNION ALL
      SELECT DISTINCT function_name, 'CREATE MACRO ' || function_name || '(' || array_to_string(parameters, ', ') || ') AS ' ||
        CASE WHEN function_type = 'table_macro' THEN 'TABLE ' ELSE '' END || macro_definition || ';',
        database_name = 'temp', 3
      FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro') AND NOT internal AND schema_name = 'main'
    )
    SELECT name, arg_max(sql, current) AS sql, min(kind) AS kind FROM objects
    WHERE $1::VARCHAR IS NULL OR lower(name) = lower($1::VARCHAR)
    GROUP BY name ORDER BY kind, name`, [name]).pipe(
    Effect.map((rows) => rows.length === 0 ? `no table, view or macro named ${name}` : rows.map((r) => String(r.sql).trim()).join("\n\n")),
    Effect.orElseSucceed(() => "(the schema could not be read)")
  )

/** readline's history (newest first) after a statement that took the last `lines` entries:
 * those entries become the one statement. */
export const foldHistory = (history: ReadonlyArray<string>, lines: number, statement: string): Array<string> => {
  const oneLine = statement.replace(/\s*\n\s*/g, " ").trim()
  return [oneLine, ...history.slice(Math.max(1, lines)).filter((h, i) => !(i === 0 && h === oneLine))]
}

export const historyFile = () => join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tunegrid", "sql_history")

export const loadHistory = (file: string): Array<string> => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).reverse()
  } catch {
    return []
  }
}

export const saveHistory = (file: string, history: ReadonlyArray<string>) => {
  try {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, [...history].slice(0, 1000).reverse().join("\n") + "\n")
  } catch {
    // a history that cannot be saved is not worth failing the session for
  }
}
