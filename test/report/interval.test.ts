// INTERVAL values in csv/json output are written as DuckDB itself writes them.
import { DuckDBInstance } from "@duckdb/node-api"
import { describe, expect, it } from "vitest"
import { csv } from "../../src/report/format.ts"
import { intervalText, toNative } from "../../src/report/values.ts"

describe("intervalText", () => {
  it("writes every interval exactly as DuckDB's own text form", async () => {
    const db = await DuckDBInstance.create(":memory:")
    const c = await db.connect()
    const sql = `SELECT INTERVAL 90 MINUTE AS a, INTERVAL '2 days 3 hours' AS b, INTERVAL 2 DAY AS c,
      INTERVAL '14 months 1.5 seconds' AS d, INTERVAL 0 SECOND AS e, -INTERVAL 90 SECOND AS f`
    const reader = await c.runAndReadAll(sql)
    const duck = reader.getRowObjects()[0]!
    const js = reader.getRowObjectsJS()[0]!
    for (const key of Object.keys(duck)) expect(toNative(js[key]), key).toBe(String(duck[key]))
    expect(intervalText({ months: 0, days: 0, micros: 5_400_000_000n })).toBe("01:30:00")
  })

  it("writes an interval into CSV as its text, unquoted, and nested values still as JSON", () => {
    const row = { t: { months: 0, days: 0, micros: 5_400_000_000n }, list: [1, 2] }
    expect(csv(["t", "list"], [row])).toBe('t,list\n01:30:00,"[1,2]"')
  })
})
