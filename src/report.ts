// Rendering query results: markdown, CSV, JSON or an aligned text table. Pure.
import type { Row } from "./ledger/Ledger.ts"
import { printable } from "./printable.ts"

export type Format = "md" | "csv" | "json" | "table"

const cell = (value: unknown): string => {
  if (value === null || value === undefined) return ""
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value)
    const abs = Math.abs(value)
    return abs !== 0 && (abs < 1e-3 || abs >= 1e7) ? value.toExponential(3) : String(Number(value.toPrecision(6)))
  }
  if (typeof value === "object") return JSON.stringify(value)
  return String(value)
}

const csvField = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text)

export const render = (columns: ReadonlyArray<string>, rows: ReadonlyArray<Row>, format: Format): string => {
  if (format === "json") return JSON.stringify(rows, null, 2)
  const data = rows.map((r) => columns.map((c) => cell(r[c])))
  if (format === "csv") return [columns.map(csvField).join(","), ...data.map((r) => r.map(csvField).join(","))].join("\n")
  // on a terminal and in Markdown, a newline or an escape sequence in a value (a label) would
  // break the row or rewrite the screen: shown escaped (CSV and JSON carry it as it is)
  const table = data.map((r) => r.map(printable))
  if (format === "md") {
    const esc = (t: string) => t.replace(/\|/g, "\\|")
    return [
      `| ${columns.map(esc).join(" | ")} |`,
      `| ${columns.map(() => "---").join(" | ")} |`,
      ...table.map((r) => `| ${r.map(esc).join(" | ")} |`)
    ].join("\n")
  }
  const widths = columns.map((c, i) => Math.max(c.length, ...table.map((r) => r[i]!.length)))
  const line = (values: ReadonlyArray<string>) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...table.map(line), `(${rows.length} row${rows.length === 1 ? "" : "s"})`].join("\n")
}
