// Machine-readable output keeps its data, through the real CLI: `sql --format csv|json` with every
// digit and native types, `export` writing the format the flag or the file's extension names (and
// refusing a mismatch), each one valid file read back by DuckDB; plus the reading commands' small
// manners: --grid on report/runs/export, SHOW TABLES listing each view once, .schema, and a
// missing --out answered in one line.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { makeFixtureLedger } from "../report/fixture.ts"
import { cli, query, tempDir } from "../faults/harness.ts"

const dir = tempDir("formats")
const ledger = join(dir, "l.duckdb")
const probe = `SELECT 1234567.891::DOUBLE AS x, 0.1::DOUBLE + 0.2::DOUBLE AS sum, 12345678901::BIGINT AS n, 'a,b"c' AS s, NULL::DOUBLE AS missing,
  TIMESTAMP '2026-01-02 10:00:00.5' AS at_time, [1, 2] AS list`

// files read back through DuckDB (the ledger opened read-only can still read them)
const read = (sql: string) => query(ledger, sql)

beforeAll(() => makeFixtureLedger(ledger))

describe("sql output", () => {
  it("--format csv keeps every digit and reads back through DuckDB as the same values", async () => {
    const r = await cli(["sql", "--ledger", ledger, "--format", "csv", probe])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const file = join(dir, "probe.csv")
    writeFileSync(file, String(r.stdout))
    const [back] = await read(`SELECT * FROM read_csv('${file}')`)
    expect(back).toMatchObject({ x: 1234567.891, sum: 0.30000000000000004, n: 12345678901n, s: 'a,b"c', missing: null })
    expect((back!.at_time as Date).toISOString()).toBe("2026-01-02T10:00:00.500Z") // read back as a TIMESTAMP
  }, 60_000)

  it("--format json gives numbers as numbers (counts too) and one valid document", async () => {
    const r = await cli(["sql", "--ledger", ledger, "--format", "json", probe])
    const [row] = JSON.parse(String(r.stdout)) as Array<Record<string, unknown>>
    expect(row).toEqual({
      x: 1234567.891,
      sum: 0.30000000000000004,
      n: 12345678901,
      s: 'a,b"c',
      missing: null,
      at_time: "2026-01-02 10:00:00.5",
      list: [1, 2]
    })
  }, 60_000)

  it("SHOW TABLES lists each table and view once, and .schema prints a view's definition", async () => {
    const r = await cli(["sql", "--ledger", ledger, "--format", "csv", "SHOW TABLES"])
    const names = String(r.stdout).trim().split("\n").slice(1)
    expect(names).toContain("table1")
    expect(names).toContain("cell_report")
    expect(new Set(names).size).toBe(names.length)
    const schema = await cli(["sql", "--ledger", ledger], { NO_COLOR: "1" }, { input: ".schema table2\n.quit\n" })
    expect(String(schema.stdout)).toMatch(/^CREATE (TEMP )?VIEW table2 AS/m)
    expect(String(schema.stdout).match(/CREATE (TEMP )?VIEW table2/g)).toHaveLength(1)
  }, 60_000)
})

describe("export", () => {
  it("writes the format the file's extension names: q.csv is CSV and q.json one JSON array, both read back", async () => {
    const csv = join(dir, "q.csv")
    const json = join(dir, "q.json")
    for (const out of [csv, json]) {
      const r = await cli(["export", "--ledger", ledger, "--out", out, "--query", probe])
      expect(r.exitCode, String(r.stderr)).toBe(0)
    }
    expect(readFileSync(csv, "utf8").split("\n")[0]).toBe("x,sum,n,s,missing,at_time,list")
    const [fromCsv] = await read(`SELECT x, sum, n FROM read_csv('${csv}')`)
    expect(fromCsv).toEqual({ x: 1234567.891, sum: 0.30000000000000004, n: 12345678901n })
    const [fromJson] = JSON.parse(readFileSync(json, "utf8")) as Array<Record<string, unknown>>
    expect(fromJson).toMatchObject({ x: 1234567.891, n: 12345678901, list: [1, 2] })
  }, 60_000)

  it("refuses a --format that contradicts the file's extension, and a missing --out in one line", async () => {
    const r = await cli(["export", "--ledger", ledger, "--out", join(dir, "x.csv"), "--format", "parquet", "--query", "SELECT 1"])
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr)).toMatch(/x\.csv says csv but --format says parquet/)
    const none = await cli(["export", "--ledger", ledger])
    expect(none.exitCode).toBe(1)
    expect(String(none.stderr).trim().split("\n")).toHaveLength(1)
    expect(String(none.stderr)).toMatch(/^error: .*--out/)
    expect(String(none.stdout)).toBe("")
  }, 60_000)

  it("--grid exports only that grid's rows", async () => {
    const out = join(dir, "solo")
    const r = await cli(["export", "--ledger", ledger, "--out", out, "--grid", "solo", "--format", "csv"])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const [counts] = await read(`SELECT (SELECT count(*) FROM read_csv('${out}/runs.csv'))::INT AS runs,
      (SELECT count(*) FROM read_csv('${out}/results.csv'))::INT AS results, (SELECT count(*) FROM read_csv('${out}/grids.csv'))::INT AS grids`)
    expect(counts).toEqual({ runs: 1, results: 1, grids: 1 })
  }, 60_000)
})

describe("report and runs", () => {
  it("--grid filters, and an unknown grid is refused naming the grids there are", async () => {
    const runs = await cli(["runs", "--ledger", ledger, "--grid", "sweep", "--format", "csv"])
    expect(String(runs.stdout).trim().split("\n")).toHaveLength(1 + 5)
    const report = await cli(["report", "--ledger", ledger, "--grid", "solo"], { COLUMNS: "90" })
    expect(String(report.stdout)).toContain("grid solo")
    expect(String(report.stdout)).not.toContain("sweep")
    const unknown = await cli(["report", "--ledger", ledger, "--grid", "swep"])
    expect(unknown.exitCode).toBe(1)
    expect(String(unknown.stderr)).toContain("--grid swep: no grid of that name in the ledger (it has: solo, sweep)")
  }, 60_000)

  it("bare tunegrid prints the help and exits 0", async () => {
    const r = await cli([])
    expect(r.exitCode).toBe(0)
    expect(String(r.stdout)).toMatch(/SUBCOMMANDS/)
    expect(String(r.stderr)).not.toContain("Help requested")
  }, 60_000)
})
