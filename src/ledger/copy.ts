// DuckDB's COPY for an export: a query's result into one file of the chosen format, each one
// valid file with full precision and native types (JSON: one array document). Pure.
import type { ExportFormat } from "../export/format.ts"

export const copyOptions = (format: ExportFormat): string =>
  format === "parquet" ? "(FORMAT parquet)" : format === "csv" ? "(FORMAT csv, HEADER true)" : "(FORMAT json, ARRAY true)"

const quote = (path: string) => `'${path.replace(/'/g, "''")}'`

export const copyStatement = (query: string, file: string, format: ExportFormat): string =>
  `COPY (${query}) TO ${quote(file)} ${copyOptions(format)}`
