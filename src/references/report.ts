// The report's "measured vs published" sections: every published figure a grid carries beside
// tunegrid's measurement (ledger view reference_check), and each reference's own arithmetic
// (reference_arithmetic). Empty when no cell carries a reference.
import { Effect } from "effect"
import { Ledger } from "../ledger/Ledger.ts"

export interface ReportSection {
  readonly key: string
  readonly title: string
  readonly table: { readonly columns: Array<string>; readonly rows: Array<Record<string, unknown>> }
}

/** Whether the ledger has a view: one written by an older tunegrid and opened read-only lacks the
 * tables newer views need, so those views are not there and their sections are left out. */
export const hasView = (name: string) =>
  Effect.map(Effect.flatMap(Ledger, (l) => l.rows(`SELECT count(*)::INTEGER AS n FROM duckdb_views() WHERE view_name = $1`, [name])),
    (rows) => Number(rows[0]?.n ?? 0) > 0)

export const publishedSections = Effect.gen(function*() {
  const l = yield* Ledger
  if (!(yield* hasView("reference_check"))) return []
  const check = yield* l.rowsJson(`
    SELECT cell, run, budget, figure, published, unit, CASE WHEN figure = 'vram_peak' THEN round(published_in, 1) ELSE published_in END AS published_in, round(published_alt, 1) AS published_alt,
      round(measured, 4) AS measured,
      CASE WHEN ci_low IS NOT NULL THEN printf('%.4g–%s', ci_low, coalesce(printf('%.4g', ci_high), '∞')) END AS measured_ci95,
      ratio, ratio_alt, inside_ci, closest, published_method, measured_method, note
    FROM reference_check`)
  const arithmetic = yield* l.rowsJson(`
    SELECT source, "check", printed, round(recomputed, 4) AS recomputed, gap_pct, holds FROM reference_arithmetic`)
  const sections: Array<ReportSection> = [
    {
      key: "measured_vs_published",
      title: "Measured vs published — each figure a grid's reference prints beside tunegrid's run (ratio = measured / published; " +
        "inside_ci: the published value lies in the measured 95% CI; closest: the reading nearest the published value; " +
        "published_in: in tunegrid's unit (MiB for memory), published_alt: a printed MB read as MiB)",
      table: check
    },
    {
      key: "published_arithmetic",
      title: "Published arithmetic — derived figures recomputed from the reference's own (holds: equal at the printed precision)",
      table: arithmetic
    }
  ]
  return sections.filter((s) => s.table.rows.length > 0)
})
