// Turning a DuckDB row's loosely typed values into the typed fields the ledger's read modules
// return: numbers from DOUBLE, INTEGER and BIGINT alike, text, and JSON stored as VARCHAR. Pure.

/** A number from a DOUBLE / INTEGER / BIGINT column; null for NULL (or anything else). */
export const numOrNull = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : null)

/** A finite number, else null (NaN and ±Infinity say "nothing measured" to a reader). */
export const finiteOrNull = (v: unknown): number | null => {
  const n = numOrNull(v)
  return n !== null && Number.isFinite(n) ? n : null
}

export const num = (v: unknown): number => Number(v)

export const str = (v: unknown): string => String(v)

export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

export const boolOrNull = (v: unknown): boolean | null => (typeof v === "boolean" ? v : null)

/** A JSON object stored as VARCHAR (or already decoded by DuckDB as a struct/map); {} for NULL. */
export const jsonObject = (v: unknown): Record<string, unknown> => {
  const value: unknown = typeof v === "string" ? JSON.parse(v) : v
  return value !== null && typeof value === "object" && !Array.isArray(value) ? { ...value } : {}
}
