// The report on a real DuckDB ledger with known figures: cells named by their axis values (a
// one-cell grid by its config, never JSON), repeats aggregated as n with the 95% interval over
// runs, intervals of positive figures stopping at 0, noisy cells marked, the study's 95 W
// estimate only under its own name, the terminal view held to the terminal's width, and the
// machine formats (csv, json) one valid document each with every digit and native types.
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { Ledger } from "../../src/ledger/Ledger.ts"
import { buildReport, renderReport } from "../../src/report/document.ts"
import { CI_SANITY_BOUND } from "../../src/report/noise.ts"
import { query as readLedger } from "../faults/harness.ts"
import { makeFixtureLedger } from "./fixture.ts"

const dir = mkdtempSync(join(tmpdir(), "tunegrid-report-"))
const ledger = join(dir, "l.duckdb")
const t = 12.706 // t(0.975, 1 df)

const query = (sql: string) => readLedger(ledger, sql)

const report = (grid: string | null) =>
  Effect.runPromise(Effect.scoped(buildReport({ grid }).pipe(Effect.provide(Ledger.layerReadOnly(ledger)))))

beforeAll(() => makeFixtureLedger(ledger))

describe("the ledger's views for the report", () => {
  it("names cells by their axis values (lists joined by +), a one-cell grid by its config, never JSON", async () => {
    const rows = await query(`SELECT cell FROM cell_report ORDER BY first_started_at`)
    expect(rows.map((r) => r.cell)).toEqual([
      "r=4 targetModules=q_proj+v_proj",
      "r=16 targetModules=q_proj+v_proj",
      "r=64 targetModules=q_proj+v_proj",
      "preset:qwen2.5-1.5b qlora bf16 batch 4 × 1024"
    ])
    for (const view of ["table1", "table2", "cell_summary", "failures"]) {
      for (const r of await query(`SELECT cell FROM ${view}`)) expect(String(r.cell)).not.toMatch(/^[{[]/)
    }
  })

  it("names a labelled cell expanded over axes by its label and its non-null axis values, so the expansions differ", async () => {
    const axes = `'{"method":["qlora","lora"],"torchDtype":[null,"fp32"]}'::JSON`
    const label = async (values: string) => (await query(`SELECT cell_label('run1', '${values}'::JSON, NULL, ${axes}) AS c`))[0]!.c
    expect(await label(`{"batchSize":1,"method":"qlora","torchDtype":null}`)).toBe("run1 method=qlora")
    expect(await label(`{"batchSize":1,"method":"lora","torchDtype":"fp32"}`)).toBe("run1 method=lora torchDtype=fp32")
    // a grid without axes: the label alone
    expect((await query(`SELECT cell_label('run1', '{"batchSize":1}'::JSON, NULL, NULL) AS c`))[0]!.c).toBe("run1")
  })

  it("aggregates repeats as n with the t-interval over runs, stopping at 0, and marks a CI beyond the sanity bound unreliable", async () => {
    const [r4, r16] = await query(`SELECT * FROM cell_report WHERE grid = 'sweep' AND n > 0 ORDER BY first_started_at`)
    const mean = (1234.5678901234 + 1250.25) / 2
    const half = (t * (Math.abs(1234.5678901234 - 1250.25) / Math.SQRT2)) / Math.SQRT2
    expect(r4).toMatchObject({ n: 2, runs: 2, ci_method: "runs", reliable: true })
    expect(r4!.tok_s_mean as number).toBeCloseTo(mean, 9)
    expect(r4!.tok_s_ci_high as number).toBeCloseTo(mean + half, 9)
    // 100 and 1000 tok/s: the t-interval reaches far below 0; tok/s cannot
    expect(r16).toMatchObject({ n: 2, tok_s_ci_low: 0, reliable: false })
    const [summary] = await query(`SELECT tok_s_ci_low, reliable FROM cell_summary WHERE cell LIKE 'r=16%'`)
    expect(summary).toEqual({ tok_s_ci_low: 0, reliable: false })
    expect((await query(`SELECT min(tok_s_ci_low) AS low FROM table1`))[0]!.low as number).toBeGreaterThanOrEqual(0)
    expect((await query(`SELECT ci_sanity_bound() AS b`))[0]!.b).toBe(CI_SANITY_BOUND)
  })

  it("keeps the study's 95 W / 115 W estimate out of the measured J/token column, under its own name", async () => {
    const [b1] = await query(`SELECT * FROM table2 WHERE run = 'run-b1'`)
    expect(b1!.j_per_token).toBeNull() // not measured: no estimate stands in
    expect(b1!.study_estimate_95w_j_per_token).toBeCloseTo(0.95, 12)
    expect(Object.keys(b1!)).not.toContain("j_per_token_est_95")
  })
})

describe("the report", () => {
  it("in an 80-column terminal: one line per cell within 80 columns, the failure, the noise warning and the closing summary", async () => {
    const text = renderReport(await report(null), { format: "table", wide: false, width: 80 })
    for (const l of text.split("\n")) expect(l.length, l).toBeLessThanOrEqual(80)
    expect(text).toMatch(/^grid sweep · 3 cells · NVIDIA H100$/m)
    // long names shortened in the middle to fit (both ends stay readable); T10k (10,000 / tok/s) is the first column to give way
    expect(text).toMatch(/^r=4 target…oj\+v_proj\s+ok\s+2\s+1242 ±8\.0%\s+6010\s+0\.015\s+yes$/m)
    expect(text).toMatch(/^r=16 targe…oj\+v_proj\s+ok\s+2\s+550 ±1040%\s+6600\s+—\s+noisy$/m)
    expect(text).toMatch(/^r=64 targe…oj\+v_proj\s+failed: oom\s+0\s+—/m)
    expect(text).toContain("(T10k s left out to fit 80 columns: tunegrid report --wide)")
    expect(text).toContain("failed: r=64 targetModules=q_proj+v_proj (oom): CUDA out of memory at step 3")
    expect(text).toMatch(/warning: 1 of 3 measured cells have a tok\/s CI wider than ±25%/)
    expect(text).toMatch(
      /sweep: r=4 targetModules=q_proj\+v_proj ran\n {2}2\.26 ± \d+\.\d\d × faster than r=16 targetModules=q_proj\+v_proj \(the interval\s+includes 1/
    )
    expect(text).not.toMatch(/[{}]/)
  })

  it("sizes to a wide terminal with every column, and shortens names then drops columns on a narrow one", async () => {
    const r = await report("sweep")
    const wide = renderReport(r, { format: "table", wide: false, width: 160 })
    expect(wide).toMatch(/cell\s+status\s+n\s+tok\/s ±95% CI\s+T10k s\s+VRAM MiB\s+J\/token\s+steady/)
    const narrow = renderReport(r, { format: "table", wide: false, width: 50 })
    for (const l of narrow.split("\n")) expect(l.length, l).toBeLessThanOrEqual(50)
    expect(narrow).toMatch(/left out to\s+fit\s+50\s+columns:\s+tunegrid report --wide/)
    expect(narrow).toMatch(/tok\/s ±95% CI/)
  })

  it("--grid shows one grid only", async () => {
    const text = renderReport(await report("solo"), { format: "table", wide: false, width: 120 })
    expect(text).toContain("grid solo")
    expect(text).not.toContain("sweep")
  })

  it("csv is one file: one row per run with Table 1 and Table 2's columns, every digit kept, read back by DuckDB", async () => {
    const csv = renderReport(await report(null), { format: "csv", wide: false, width: 80 })
    const file = join(dir, "report.csv")
    writeFileSync(file, csv)
    const back = await query(`SELECT run, tok_s, tokens, study_estimate_95w_j_per_token FROM read_csv('${file}') ORDER BY run`)
    expect(back.map((r) => r.run)).toEqual(["run-a1", "run-a2", "run-b1", "run-b2", "run-s1"])
    expect(back[0]!.tok_s).toBe(1234.5678901234)
    expect(back[0]!.tokens).toBe(123456789n)
    expect(csv.match(/^grid,/gm)).toHaveLength(1) // one header: one CSV
  })

  it("json is one document with native types: numbers as numbers, counts as numbers, intervals as two numbers", async () => {
    const doc = JSON.parse(renderReport(await report(null), { format: "json", wide: false, width: 80 })) as Record<
      string,
      Array<Record<string, unknown>>
    >
    const a1 = doc.table1!.find((r) => r.run === "run-a1")!
    expect(a1.tok_s).toBe(1234.5678901234)
    expect(a1.tokens).toBe(123456789)
    expect(typeof a1.t10k_ci_low_s === "number" || a1.t10k_ci_low_s === null).toBe(true)
    expect(doc.cells!.find((c) => c.cell === "r=4 targetModules=q_proj+v_proj")).toMatchObject({ n: 2, runs: 2, reliable: true })
    expect(doc.summary![0]).toMatchObject({ grid: "sweep", faster: "r=4 targetModules=q_proj+v_proj" })
  })

  it("md is GitHub markdown: every table row has its header's number of cells", async () => {
    const md = renderReport(await report(null), { format: "md", wide: false, width: 80 })
    const tables = md.split(/\n\n/).filter((b) => b.startsWith("| "))
    expect(tables.length).toBeGreaterThanOrEqual(3)
    for (const table of tables) {
      const cells = (row: string) => row.replace(/\\\|/g, "").split("|").length
      const [head, ...rows] = table.split("\n")
      for (const row of rows) expect(cells(row), row).toBe(cells(head!))
    }
    expect(md).toContain("## Table 2")
  })
})
