// Which file format an export writes, and its DuckDB COPY options: from --format, else from the
// --out file's extension (.parquet, .csv, .json), else Parquet; a flag that contradicts the
// extension is refused rather than writing Parquet into q.csv. Every format is one valid file
// with full precision and native types (JSON: one array document). And the --grid filter: each
// ledger table cut to that grid's runs. Pure.
import { extname } from "node:path"

export const exportFormats = ["parquet", "csv", "json"] as const
export type ExportFormat = (typeof exportFormats)[number]

const byExtension: Record<string, ExportFormat> = { ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".json": "json" }

/** The format to write `out` in, or why not. `file`: out names one file (--query), not a folder. */
export const exportFormat = (out: string, flag: ExportFormat | null, file: boolean): { format: ExportFormat } | { problem: string } => {
  const ext = extname(out).toLowerCase()
  const fromExt = file ? byExtension[ext] ?? null : null
  if (file && ext !== "" && fromExt === null) {
    return { problem: `--out ${out}: unknown extension ${ext}; use .parquet, .csv or .json (or no extension with --format)` }
  }
  if (flag !== null && fromExt !== null && flag !== fromExt) {
    return { problem: `--out ${out} says ${fromExt} but --format says ${flag}; give one (or make them agree)` }
  }
  if (!file && ext !== "" && byExtension[ext]) {
    return { problem: `--out ${out}: without --query export writes one file per table into a folder; give a folder name (and --format ${byExtension[ext]})` }
  }
  return { format: flag ?? fromExt ?? "parquet" }
}

export const copyOptions = (format: ExportFormat): string =>
  format === "parquet" ? "(FORMAT parquet)" : format === "csv" ? "(FORMAT csv, HEADER true)" : "(FORMAT json, ARRAY true)"

/** A table's rows that belong to grid `$1` (by grid name); tables not tied to runs come whole. */
export const gridRows = (table: string): string => {
  const runs = `SELECT run_id FROM runs WHERE grid_hash IN (SELECT grid_hash FROM grids WHERE name = $1)`
  const of = (column: string) => `SELECT * FROM "${table}" WHERE ${column} IN (SELECT ${column} FROM runs WHERE grid_hash IN (SELECT grid_hash FROM grids WHERE name = $1))`
  switch (table) {
    case "grids": return `SELECT * FROM grids WHERE name = $1`
    case "runs": return `SELECT * FROM runs WHERE run_id IN (${runs})`
    case "cells": return of("cell_hash")
    case "environments": return of("env_hash")
    case "steps": case "samples": case "results": return `SELECT * FROM "${table}" WHERE run_id IN (${runs})`
    default: return `SELECT * FROM "${table}"`
  }
}
