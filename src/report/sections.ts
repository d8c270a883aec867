// Extra report sections beside the cells and the study's two tables. A section loads its own rows
// for the report's grid filter and returns a title with a table and/or lines; the report renders
// it in every format (terminal, --wide, md, json; csv carries only the per-run table). To add one
// (measured vs published figures, the fit frontier…), write it in its own module and list it in
// `extraSections`.
import type { Effect } from "effect"
import type { Ledger, LedgerError } from "../ledger/Ledger.ts"
import type { ReportFilter } from "./data.ts"
import type { Table } from "./query.ts"
import { fitFrontier, vramBudgets } from "../fit/report.ts"
import { measuredVsPublished, publishedArithmetic } from "../references/report.ts"

export interface SectionOutput {
  readonly title: string
  readonly table?: Table
  readonly lines?: ReadonlyArray<string>
}

export interface ReportSection {
  /** Its key in `report --format json`. */
  readonly id: string
  /** What the section shows for this filter; null leaves it out (nothing to say). */
  readonly load: (filter: ReportFilter) => Effect.Effect<SectionOutput | null, LedgerError, Ledger>
}

export const extraSections: ReadonlyArray<ReportSection> = [measuredVsPublished, publishedArithmetic, vramBudgets, fitFrontier]
