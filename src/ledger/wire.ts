// The wire between a runner that holds the ledger and the readers beside it (readServer.ts,
// readClient.ts): where the socket is, and DuckDB's JavaScript values (bigint, Date, bytes, NaN,
// nested lists and structs) as JSON lines and back, so a reader gets the values a local read-only
// open would give it. Pure, except for where the socket lives.
import { createHash } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ExportFormat } from "../export/format.ts"

/** The runner's socket for ledger `file` (an absolute path): beside it, or in the temp folder
 * under a name made from the path when that path would be too long for a Unix socket (108 bytes
 * on Linux, 104 on macOS). Readers compute the same path. */
export const socketFile = (file: string): string => {
  const beside = `${file}.sock`
  return Buffer.byteLength(beside) <= 100
    ? beside
    : join(tmpdir(), `tunegrid-${createHash("sha256").update(file).digest("hex").slice(0, 24)}.sock`)
}

/** What a reader asks: rows (as DuckDB's JS values, or JSON-safe ones), or a query's result
 * written to a file by COPY (export). */
export type Ask =
  | { readonly op: "rows" | "rowsJson"; readonly sql: string; readonly params: ReadonlyArray<unknown>; readonly fileAccess: boolean }
  | {
      readonly op: "copy"
      readonly sql: string
      readonly params: ReadonlyArray<unknown>
      readonly file: string
      readonly format: ExportFormat
    }

export type Request = Ask & { readonly id: number }

export type Response =
  /** `more`: a part of the rows; the answer without it carries the columns (and ends it). */
  | {
      readonly id: number
      readonly ok: true
      readonly more?: boolean
      readonly columns?: Array<string>
      readonly rows?: Array<Array<unknown>>
    }
  | { readonly id: number; readonly ok: false; readonly message: string }

/** A value as JSON: every non-JSON value (and every object, so a column named "$t" is no tag)
 * tagged with its kind. */
export const encodeValue = (v: unknown): unknown => {
  if (v === undefined || v === null) return null
  if (typeof v === "bigint") return { $t: "bigint", v: v.toString() }
  if (typeof v === "number") return Number.isFinite(v) ? v : { $t: "number", v: String(v) }
  if (v instanceof Date) return { $t: "date", v: v.getTime() }
  if (v instanceof Uint8Array) return { $t: "bytes", v: Buffer.from(v).toString("base64") }
  if (Array.isArray(v)) return v.map(encodeValue)
  if (typeof v === "object") return { $t: "object", v: Object.entries(v).map(([k, x]) => [k, encodeValue(x)]) }
  return v
}

export const decodeValue = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(decodeValue)
  if (v === null || typeof v !== "object") return v
  const { $t: tag, v: inner } = v as { $t?: unknown; v?: unknown }
  switch (tag) {
    case "bigint":
      return BigInt(String(inner))
    case "number":
      return Number(inner)
    case "date":
      return new Date(Number(inner))
    case "bytes":
      return new Uint8Array(Buffer.from(String(inner), "base64"))
    case "object":
      return Object.fromEntries((inner as Array<[string, unknown]>).map(([k, x]) => [k, decodeValue(x)]))
    default:
      throw new Error(`unknown value tag ${JSON.stringify(tag)} from the runner's socket`)
  }
}

/** Rows as column names and value lists, so the order of the columns survives the wire. */
export const encodeRows = (columns: ReadonlyArray<string>, rows: ReadonlyArray<Record<string, unknown>>): Array<Array<unknown>> =>
  rows.map((r) => columns.map((c) => encodeValue(r[c])))

export const decodeRows = (columns: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>): Array<Record<string, unknown>> =>
  rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, decodeValue(r[i])])))
