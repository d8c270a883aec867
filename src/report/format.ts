// Rendering a table of rows as text for people (an aligned terminal table, or GitHub markdown,
// numbers rounded to what a reader can use) or for programs (CSV and JSON with every digit and
// native types: one valid document each). Pure.
import type { Row } from "../ledger/Ledger.ts"
import { printable } from "../printable.ts"
import { csvText, nativeRows } from "./values.ts"

export type Format = "md" | "csv" | "json" | "table"

/** A number for people: integers as they are, else 4 significant digits (no exponent above 1e-3). */
export const human = (value: number): string => {
  if (!Number.isFinite(value)) return value > 0 ? "∞" : value < 0 ? "-∞" : "—"
  if (Number.isInteger(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000) return String(Math.round(value))
  if (abs !== 0 && abs < 1e-3) return value.toExponential(2)
  return String(Number(value.toPrecision(4)))
}

/** One value as text for people: a newline or an escape sequence in a value (a label) would
 * break the row or rewrite the screen, so it is shown escaped (CSV and JSON carry it as it is). */
export const text = (value: unknown): string => printable(rawText(value))

const rawText = (value: unknown): string => {
  if (value === null || value === undefined) return ""
  if (typeof value === "number") return human(value)
  if (typeof value === "bigint") return value.toString()
  if (value instanceof Date) return csvText(value)
  if (typeof value === "object") return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v))
  return String(value)
}

const csvField = (t: string) => (/[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t)

export const csv = (columns: ReadonlyArray<string>, rows: ReadonlyArray<Row>): string =>
  [columns.map(csvField).join(","), ...rows.map((r) => columns.map((c) => csvField(csvText(r[c]))).join(","))].join("\n")

/** GitHub markdown: pipes escaped, line breaks inside a value become spaces. */
export const markdown = (columns: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const esc = (t: string) => t.replace(/\|/g, "\\|").replace(/\r?\n/g, " ")
  return [
    `| ${columns.map(esc).join(" | ")} |`,
    `| ${columns.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)
  ].join("\n")
}

/** Aligned columns, numbers to the right; `footer` adds the row count. */
export const aligned = (
  columns: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  numeric: ReadonlyArray<boolean> = [],
  footer = true
): string => {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)))
  const line = (values: ReadonlyArray<string>) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    ...(footer ? [`(${rows.length} row${rows.length === 1 ? "" : "s"})`] : [])
  ].join("\n")
}

export const render = (columns: ReadonlyArray<string>, rows: ReadonlyArray<Row>, format: Format): string => {
  if (format === "json") return JSON.stringify(nativeRows(rows), null, 2)
  if (format === "csv") return csv(columns, rows)
  const table = rows.map((r) => columns.map((c) => text(r[c])))
  if (format === "md") return markdown(columns, table)
  const numeric = columns.map(
    (c) => rows.length > 0 && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number" || typeof r[c] === "bigint")
  )
  return aligned(columns, table, numeric)
}
