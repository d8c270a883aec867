// The report's "measured vs published" sections (src/report/sections.ts lists them): every
// published figure a grid carries beside tunegrid's measurement (ledger view reference_check), and
// each reference's own arithmetic (reference_arithmetic). Left out when no cell carries a reference.
import { Effect } from "effect"
import { Ledger } from "../ledger/Ledger.ts"
import { gridWhere } from "../report/data.ts"
import { queryTable, type Table } from "../report/query.ts"
import type { ReportSection } from "../report/sections.ts"

/** Whether the ledger has a view: one written by an older tunegrid and opened read-only lacks the
 * tables newer views need, so those views are not there and their sections are left out. */
export const hasView = (name: string) =>
  Effect.map(Effect.flatMap(Ledger, (l) => l.rows(`SELECT count(*)::INTEGER AS n FROM duckdb_views() WHERE view_name = $1`, [name])),
    (rows) => Number(rows[0]?.n ?? 0) > 0)

/** A section from one query over a view, left out when the view is missing or the query has no rows. */
export const viewSection = (id: string, view: string, title: (table: Table) => string, sql: (where: string) => string): ReportSection => ({
  id,
  load: (filter) =>
    Effect.gen(function*() {
      if (!(yield* hasView(view))) return null
      const { where, params } = gridWhere(filter)
      const table = yield* queryTable(yield* Ledger, sql(where), params)
      return table.rows.length > 0 ? { title: title(table), table } : null
    })
})

export const measuredVsPublished = viewSection("measured_vs_published", "reference_check",
  () => "Measured vs published: each figure a grid's reference prints beside tunegrid's run (ratio = measured / published; " +
    "inside_ci: the published value lies in the measured 95% CI; closest: the reading nearest the published value; " +
    "published_in: in tunegrid's unit (MiB for memory), published_alt: a printed MB read as MiB)",
  (where) => `
    SELECT cell, run, budget, figure, published, unit,
      CASE WHEN figure = 'vram_peak' THEN round(published_in, 1) ELSE published_in END AS published_in, round(published_alt, 1) AS published_alt,
      round(measured, 4) AS measured,
      CASE WHEN ci_low IS NOT NULL THEN printf('%.4g–%s', ci_low, coalesce(printf('%.4g', ci_high), '∞')) END AS measured_ci95,
      ratio, ratio_alt, inside_ci, closest, published_method, measured_method, note
    FROM reference_check${where}`)

export const publishedArithmetic = viewSection("published_arithmetic", "reference_arithmetic",
  () => "Published arithmetic: derived figures recomputed from the reference's own (holds: equal at the printed precision)",
  (where) => `
    SELECT source, "check", printed, round(recomputed, 4) AS recomputed, gap_pct, holds FROM reference_arithmetic
    ${where ? `WHERE source IN (SELECT source FROM reference_check${where})` : ""}`)
