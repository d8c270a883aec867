// What the ledger holds, for the sql prompt and its errors: its tables, views and macros once each
// (a read-only session shadows the stored views with current temporary copies, which DuckDB's own
// SHOW TABLES would list twice), and their CREATE statements for `.schema`.
import { Effect } from "effect"
import type { LedgerShape } from "./Ledger.ts"

export interface CatalogItem {
  readonly name: string
  readonly kind: string
}

/** What the ledger holds, to name in errors and in `.tables`. */
export const catalog = (l: LedgerShape): Effect.Effect<Array<CatalogItem>> =>
  l
    .rows(`SELECT table_name AS name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS kind
      FROM information_schema.tables WHERE table_schema = 'main'
    UNION -- the temporary copies of the views (Ledger.ts) once
    SELECT DISTINCT function_name || '(' || array_to_string(parameters, ', ') || ')', 'macro'
      FROM duckdb_functions() WHERE function_type = 'table_macro' AND NOT internal AND schema_name = 'main'
    ORDER BY kind, name`)
    .pipe(
      Effect.map((rows) => rows.map((r) => ({ name: String(r.name), kind: String(r.kind) }))),
      Effect.orElseSucceed((): Array<CatalogItem> => [])
    )

/** DuckDB's SHOW TABLES with every name once, or null for any other statement. */
export const showTablesQuery = (statement: string): string | null =>
  /^\s*show\s+(all\s+)?tables\s*;?\s*$/i.test(statement)
    ? `SELECT DISTINCT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY name`
    : null

/** CREATE statements of the ledger's tables, views and macros (or of the one named), each once:
 * the current (temporary) copy where a stored one is shadowed. */
export const schemaOf = (l: LedgerShape, name: string | null) =>
  l
    .rows(
      `WITH objects AS (
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
    GROUP BY name ORDER BY kind, name`,
      [name]
    )
    .pipe(
      Effect.map((rows) =>
        rows.length === 0 ? `no table, view or macro named ${name}` : rows.map((r) => String(r.sql).trim()).join("\n\n")
      ),
      Effect.orElseSucceed(() => "(the schema could not be read)")
    )
