// What an extra report section is (src/report/sections.ts lists them): it loads its own rows for
// the report's grid filter and returns a title with a table and/or lines, or null to be left out.
// Most are one view of the ledger (viewSection); the modules that own a feature (fit, references)
// declare theirs with it.
import { Effect } from "effect"
import type { Ledger, LedgerError } from "../ledger/Ledger.ts"
import type { Table } from "../ledger/query.ts"
import { sectionTable, type ReportFilter, type SectionView } from "../ledger/report.ts"

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

/** A section from one view's query (src/ledger/report.ts), left out when the ledger lacks the view
 * (one written by an older tunegrid, opened read-only) or the query has no rows. */
export const viewSection = (id: string, view: SectionView, title: (table: Table) => string): ReportSection => ({
  id,
  load: (filter) =>
    Effect.map(sectionTable(view, filter), (table) => (table !== null && table.rows.length > 0 ? { title: title(table), table } : null))
})
