// DuckDB's JavaScript values (bigint, Date, Buffer, nested lists and structs) as plain JSON-able
// values with their type kept: numbers stay numbers at full precision, counts stay numbers, time
// is DuckDB's own text form. What csv and json output are built from. Pure.
import type { Row } from "../ledger/Ledger.ts"

/** A DuckDB TIMESTAMP (naive, no zone) as DuckDB writes it: "2026-01-02 10:00:00.5". */
const timestampText = (d: Date): string =>
  d
    .toISOString()
    .replace("T", " ")
    .replace(/\.?0*Z$/, "")

const plural = (n: number, unit: string) => `${n} ${unit}${Math.abs(n) === 1 ? "" : "s"}`

/** A DuckDB INTERVAL as DuckDB writes it ("01:30:00", "2 days 03:00:00", "1 year 2 months"):
 * months and days are not a fixed number of seconds, so no single number stands for them. */
export const intervalText = (v: { months: number; days: number; micros: bigint | number }): string => {
  const micros = BigInt(v.micros)
  const parts = [
    ...(Math.trunc(v.months / 12) !== 0 ? [plural(Math.trunc(v.months / 12), "year")] : []),
    ...(v.months % 12 !== 0 ? [plural(v.months % 12, "month")] : []),
    ...(v.days !== 0 ? [plural(v.days, "day")] : [])
  ]
  if (micros !== 0n || parts.length === 0) {
    const abs = micros < 0n ? -micros : micros
    const pad = (n: bigint) => n.toString().padStart(2, "0")
    const fraction = abs % 1_000_000n === 0n ? "" : `.${(abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "")}`
    parts.push(
      `${micros < 0n ? "-" : ""}${pad(abs / 3_600_000_000n)}:${pad((abs / 60_000_000n) % 60n)}:${pad((abs / 1_000_000n) % 60n)}${fraction}`
    )
  }
  return parts.join(" ")
}

export const toNative = (value: unknown): unknown => {
  if (value === null || value === undefined) return null
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (typeof value === "number") return Number.isFinite(value) ? value : null // JSON has no Infinity / NaN
  if (value instanceof Date) return timestampText(value)
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex")
  if (Array.isArray(value)) return value.map(toNative)
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 3 && "months" in value && "days" in value && "micros" in value) {
      return intervalText(value as { months: number; days: number; micros: bigint | number })
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
  if (typeof value === "object") {
    // an INTERVAL is text already ("01:30:00"): JSON quotes would be doubled by the CSV escaping
    const native = toNative(value)
    return typeof native === "string" ? native : JSON.stringify(native)
  }
  return String(value)
}
