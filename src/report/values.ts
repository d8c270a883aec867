// DuckDB's JavaScript values (bigint, Date, Buffer, nested lists and structs) as plain JSON-able
// values with their type kept: numbers stay numbers at full precision, counts stay numbers, time
// is DuckDB's own text form. What csv and json output are built from. Pure.
import type { Row } from "../ledger/Ledger.ts"

/** A DuckDB TIMESTAMP (naive, no zone) as DuckDB writes it: "2026-01-02 10:00:00.5". */
const timestampText = (d: Date): string => d.toISOString().replace("T", " ").replace(/\.?0*Z$/, "")

export const toNative = (value: unknown): unknown => {
  if (value === null || value === undefined) return null
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (typeof value === "number") return Number.isFinite(value) ? value : null // JSON has no Infinity / NaN
  if (value instanceof Date) return timestampText(value)
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex")
  if (Array.isArray(value)) return value.map(toNative)
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
    // an INTERVAL: seconds are what a reader can use
    if (entries.length === 3 && "months" in value && "days" in value && "micros" in value) {
      const v = value as { months: number; days: number; micros: bigint }
      return v.months * 30 * 86400 + v.days * 86400 + Number(v.micros) / 1e6
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, toNative(v)]))
  }
  return value
}

export const nativeRows = (rows: ReadonlyArray<Row>): Array<Row> => rows.map((r) => toNative(r) as Row)

/** A value as CSV text: numbers in full (shortest round-trip) precision, nested values as JSON. */
export const csvText = (value: unknown): string => {
  if (value === null || value === undefined) return ""
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : value > 0 ? "inf" : value < 0 ? "-inf" : "nan"
  if (typeof value === "bigint") return value.toString()
  if (value instanceof Date) return timestampText(value)
  if (typeof value === "object") return JSON.stringify(toNative(value))
  return String(value)
}
