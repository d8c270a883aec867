// Printing the report to the terminal, as `report`, `run`, `fit` and `ingest` end: the compact
// view sized to the terminal's width unless the caller asks for another format.
import { Console, Effect } from "effect"
import type { ReportFilter } from "../ledger/report.ts"
import { buildReport, renderReport, type RenderOptions } from "./document.ts"

/** Columns of the terminal the report is for: the TTY's, else $COLUMNS, else 100. */
export const terminalWidth = (): number => {
  const env = Number(process.env.COLUMNS)
  return process.stdout.columns ?? (Number.isInteger(env) && env > 20 ? env : 100)
}

export const printReport = (filter: ReportFilter, options: Partial<RenderOptions> = {}) =>
  Effect.flatMap(buildReport(filter), (report) =>
    Console.log(renderReport(report, { format: "table", wide: false, width: terminalWidth(), ...options }))
  )
