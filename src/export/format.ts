// Which file format an export writes: from --format, else from the --out file's extension
// (.parquet, .csv, .json), else Parquet; a flag that contradicts the extension is refused rather
// than writing Parquet into q.csv. (How each is written: src/ledger/export.ts.) Pure.
import { extname } from "node:path"

export const exportFormats = ["parquet", "csv", "json"] as const
export type ExportFormat = (typeof exportFormats)[number]

const byExtension: Record<string, ExportFormat> = { ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".json": "json" }

/** The format to write `out` in, or why not. `file`: out names one file (--query), not a folder. */
export const exportFormat = (out: string, flag: ExportFormat | null, file: boolean): { format: ExportFormat } | { problem: string } => {
  const ext = extname(out).toLowerCase()
  const fromExt = file ? (byExtension[ext] ?? null) : null
  if (file && ext !== "" && fromExt === null) {
    return { problem: `--out ${out}: unknown extension ${ext}; use .parquet, .csv or .json (or no extension with --format)` }
  }
  if (flag !== null && fromExt !== null && flag !== fromExt) {
    return { problem: `--out ${out} says ${fromExt} but --format says ${flag}; give one (or make them agree)` }
  }
  if (!file && ext !== "" && byExtension[ext]) {
    return {
      problem: `--out ${out}: without --query export writes one file per table into a folder; give a folder name (and --format ${byExtension[ext]})`
    }
  }
  return { format: flag ?? fromExt ?? "parquet" }
}
