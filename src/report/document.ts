// The whole report in each format: the default terminal view (cells, warnings, closing summary),
// --wide (the study's Table 1 and Table 2 and the failures as aligned text), md (all of it as
// GitHub markdown), csv (one file: Table 1 and Table 2 joined per run) and json (one document,
// native types). Data comes from data.ts and the sections; this file only lays it out.
import { Effect } from "effect"
import type { Ledger, LedgerError } from "../ledger/Ledger.ts"
import { loadReport, perRunTable, type ReportData, type ReportFilter } from "./data.ts"
import { csv, render } from "./format.ts"
import type { Table } from "../ledger/query.ts"
import { extraSections, type SectionOutput } from "./sections.ts"
import { comparisons, summaryLines, type Comparison } from "./summary.ts"
import { renderTerminal, statusText, steadyText, tokSText } from "./terminal.ts"
import { nativeRows } from "./values.ts"

export interface Report {
  readonly data: ReportData
  readonly comparisons: ReadonlyArray<Comparison>
  readonly sections: ReadonlyArray<SectionOutput & { readonly id: string }>
}

export const TABLE1_TITLE =
  "Table 1: throughput and memory per run (steady window, real tokens; tok/s ± 95% CI by batch means; MFU/HFU against the GPU's dense 16-bit peak)"
export const TABLE2_TITLE =
  "Table 2: energy per token, measured (energy_method), above idle; last, the study's estimate (assumed 95 W / 115 W board power × time ÷ tokens: an estimate, not a measurement)"

const num = (v: unknown) => (typeof v === "number" ? v : null)

export const buildReport = (filter: ReportFilter): Effect.Effect<Report, LedgerError, Ledger> =>
  Effect.gen(function* () {
    const data = yield* loadReport(filter)
    const sections: Array<SectionOutput & { id: string }> = []
    for (const s of extraSections) {
      const out = yield* s.load(filter)
      if (out !== null) sections.push({ ...out, id: s.id })
    }
    const list = comparisons(
      data.cells.rows.map((r) => ({
        grid: String(r.grid),
        envHash: String(r.env_hash),
        cell: String(r.cell),
        tokS: num(r.tok_s_mean),
        tokSCiRel: num(r.tok_s_ci_rel)
      }))
    )
    return { data, comparisons: list, sections }
  })

const sectionText = (s: SectionOutput, format: "table" | "md"): string =>
  [
    format === "md" ? `## ${s.title}` : s.title,
    ...(s.table ? ["", s.table.rows.length ? render(s.table.columns, s.table.rows, format) : "(none)"] : []),
    ...(s.lines ?? [])
  ].join("\n")

/** The cells as a table for markdown: the terminal's columns, nothing dropped. */
const cellsTable = (t: Table): Table => ({
  columns: ["grid", "cell", "status", "n", "tok/s ±95% CI", "T10k s", "VRAM MiB", "J/token", "steady"],
  rows: t.rows.map((r) => ({
    grid: r.grid,
    cell: r.cell,
    status: statusText(r),
    n: r.n,
    "tok/s ±95% CI": tokSText(r),
    "T10k s": r.t10k_mean,
    "VRAM MiB": typeof r.vram_peak_mib === "number" ? Math.round(r.vram_peak_mib) : null,
    "J/token": r.j_per_token_mean,
    steady: steadyText(r)
  }))
})

export interface RenderOptions {
  readonly format: "table" | "md" | "csv" | "json"
  readonly wide: boolean
  /** Terminal width in columns, for the default view. */
  readonly width: number
}

export const renderReport = (report: Report, o: RenderOptions): string => {
  const { data } = report
  if (o.format === "csv") {
    const t = perRunTable(data)
    return csv(t.columns, t.rows)
  }
  if (o.format === "json") {
    return JSON.stringify(
      {
        grid: data.filter.grid,
        cells: nativeRows(data.cells.rows),
        table1: nativeRows(data.table1.rows),
        table2: nativeRows(data.table2.rows),
        failures: nativeRows(data.failures.rows),
        summary: report.comparisons,
        ...Object.fromEntries(
          report.sections.map((s) => [s.id, { title: s.title, rows: nativeRows(s.table?.rows ?? []), lines: s.lines ?? [] }])
        )
      },
      null,
      2
    )
  }
  if (o.format === "md") {
    const cells = cellsTable(data.cells)
    const summary = summaryLines(report.comparisons, Number.POSITIVE_INFINITY)
    return [
      "## Cells",
      "",
      cells.rows.length ? render(cells.columns, cells.rows, "md") : "(none)",
      "",
      "± is the 95% CI: over the runs when n ≥ 2, else the run's own window (batch means). steady: noisy = CI wider than ±25%.",
      ...(summary.length ? ["", "```", ...summary, "```"] : []),
      "",
      `## ${TABLE1_TITLE}`,
      "",
      data.table1.rows.length ? render(data.table1.columns, data.table1.rows, "md") : "(none)",
      "",
      `## ${TABLE2_TITLE}`,
      "",
      data.table2.rows.length ? render(data.table2.columns, data.table2.rows, "md") : "(none)",
      ...(data.failures.rows.length
        ? ["", "## Failed or interrupted runs", "", render(data.failures.columns, data.failures.rows, "md")]
        : []),
      ...report.sections.flatMap((s) => ["", sectionText(s, "md")])
    ].join("\n")
  }
  if (o.wide) {
    return [
      TABLE1_TITLE,
      "",
      render(data.table1.columns, data.table1.rows, "table"),
      "",
      TABLE2_TITLE,
      "",
      render(data.table2.columns, data.table2.rows, "table"),
      ...(data.failures.rows.length
        ? ["", "Failed or interrupted runs", "", render(data.failures.columns, data.failures.rows, "table")]
        : []),
      ...report.sections.flatMap((s) => ["", sectionText(s, "table")])
    ].join("\n")
  }
  return renderTerminal(
    { cells: data.cells.rows, comparisons: report.comparisons, sections: report.sections.map((s) => sectionText(s, "table")) },
    o.width
  )
}
