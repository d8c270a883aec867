// The report's reads: one row per cell (view cell_report), the study's Table 1 and Table 2 per
// run, failed runs, each cell's figures for plotting, and the extra sections' views (measured vs
// published, VRAM budgets, the fit frontier), all optionally cut to one grid. The figures are
// computed in ledger/*.sql; this file only selects and filters.
import { Effect } from "effect"
import { boolOrNull, finiteOrNull, jsonObject, str } from "./decode.ts"
import { Ledger, type LedgerError } from "./Ledger.ts"
import { queryTable, type Table } from "./query.ts"

export interface ReportFilter {
  /** Only this grid's runs (by grid name); null: every grid in the ledger. */
  readonly grid: string | null
}

/** SQL condition and parameters for the grid filter on a view with a `grid` column. */
export const gridWhere = (filter: ReportFilter, column = "grid") =>
  filter.grid === null ? { where: "", params: [] as Array<string> } : { where: ` WHERE ${column} = $1`, params: [filter.grid] }

export interface ReportTables {
  readonly cells: Table
  readonly table1: Table
  readonly table2: Table
  readonly failures: Table
}

export const reportTables = (filter: ReportFilter): Effect.Effect<ReportTables, LedgerError, Ledger> =>
  Effect.gen(function* () {
    const l = yield* Ledger
    const { where, params } = gridWhere(filter)
    return {
      cells: yield* queryTable(l, `SELECT * EXCLUDE (axis_values, first_started_at) FROM cell_report${where}`, params),
      table1: yield* queryTable(l, `SELECT * FROM table1${where}`, params),
      table2: yield* queryTable(l, `SELECT * FROM table2${where}`, params),
      failures: yield* queryTable(
        l,
        `SELECT left(run_id, 8) AS run, grid, cell, status, error_kind, error_message FROM failures${where}`,
        params
      )
    }
  })

/** One run per row, oldest first: what `tunegrid runs` lists. */
export const runList = (filter: ReportFilter): Effect.Effect<Table, LedgerError, Ledger> =>
  Effect.flatMap(Ledger, (l) => {
    const { where, params } = gridWhere(filter)
    return queryTable(
      l,
      `SELECT left(run_id, 8) AS run, left(cell_hash, 12) AS cell_hash, grid, cell, status, coalesce(finish_reason, error_kind) AS why,
      tok_s, tok_s_ci_rel, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started
      FROM run_summary${where} ORDER BY started_at`,
      params
    )
  })

/** A cell's figures with their 95% intervals, as cell_report aggregates its runs (n: succeeded runs). */
export interface CellFigures {
  readonly grid: string
  readonly label: string
  readonly axes: Readonly<Record<string, unknown>>
  readonly n: number
  readonly reliable: boolean | null
  readonly tokS: number | null
  readonly tokSLow: number | null
  readonly tokSHigh: number | null
  readonly t10k: number | null
  readonly t10kLow: number | null
  readonly t10kHigh: number | null
  readonly jPerToken: number | null
  readonly jLow: number | null
  readonly jHigh: number | null
  readonly vramMib: number | null
}

/** Every cell's figures, grid by grid in the order the grids first ran. */
export const cellFigures = (filter: ReportFilter): Effect.Effect<Array<CellFigures>, LedgerError, Ledger> =>
  Effect.flatMap(Ledger, (l) => {
    const { where, params } = gridWhere(filter)
    return l.rows(`SELECT * FROM cell_report${where} ORDER BY grid, first_started_at`, params).pipe(
      Effect.map((rows) =>
        rows.map(
          (r): CellFigures => ({
            grid: str(r.grid),
            label: str(r.cell),
            axes: jsonObject(r.axis_values),
            n: finiteOrNull(r.n) ?? 0,
            reliable: boolOrNull(r.reliable),
            tokS: finiteOrNull(r.tok_s_mean),
            tokSLow: finiteOrNull(r.tok_s_ci_low),
            tokSHigh: finiteOrNull(r.tok_s_ci_high),
            t10k: finiteOrNull(r.t10k_mean),
            t10kLow: finiteOrNull(r.t10k_ci_low),
            t10kHigh: finiteOrNull(r.t10k_ci_high),
            jPerToken: finiteOrNull(r.j_per_token_mean),
            jLow: finiteOrNull(r.j_per_token_ci_low),
            jHigh: finiteOrNull(r.j_per_token_ci_high),
            vramMib: finiteOrNull(r.vram_peak_mib)
          })
        )
      )
    )
  })

/** The extra sections' queries, by the view each reads (src/report/sections.ts lists the sections). */
const sectionSql = {
  // VRAM budgets (#17): what the cap held and what it could not, per budgeted run
  budget_runs: (where: string) => `
    SELECT cell, run, status, budget, cap_mib, torch_alloc_mib, torch_reserved_mib, outside_torch_mib, paged_mib, on_card_mib, usable_mib,
      fits_card, tok_s, tok_s_ci_pct, measured_on, held, CASE WHEN status = 'failed' THEN error_message END AS error
    FROM budget_runs${where}`,
  // the largest micro-batch that fits each budget (#17)
  fit_frontier: (where: string) => `
    SELECT budget, cell, field, frontier, reason, headroom, cap_mib, torch_alloc_mib, torch_reserved_mib, outside_torch_mib, paged_mib,
      tok_s, tok_s_ci_pct, steady, measured_on, probes, run
    FROM fit_frontier${where}`,
  // published figures beside the measurement (#16)
  reference_check: (where: string) => `
    SELECT cell, run, budget, figure, published, unit,
      CASE WHEN figure = 'vram_peak' THEN round(published_in, 1) ELSE published_in END AS published_in, round(published_alt, 1) AS published_alt,
      round(measured, 4) AS measured,
      CASE WHEN ci_low IS NOT NULL THEN printf('%.4g–%s', ci_low, coalesce(printf('%.4g', ci_high), '∞')) END AS measured_ci95,
      ratio, ratio_alt, inside_ci, closest, published_method, measured_method, note
    FROM reference_check${where}`,
  // each reference's own arithmetic, for the grid's references when filtered
  reference_arithmetic: (where: string) => `
    SELECT source, "check", printed, round(recomputed, 4) AS recomputed, gap_pct, holds FROM reference_arithmetic
    ${where ? `WHERE source IN (SELECT source FROM reference_check${where})` : ""}`
} as const

export type SectionView = keyof typeof sectionSql

/** Whether the ledger has a view: one written by an older tunegrid and opened read-only lacks the
 * tables newer views need, so those views are not there. */
export const hasView = (name: string): Effect.Effect<boolean, LedgerError, Ledger> =>
  Effect.map(
    Effect.flatMap(Ledger, (l) => l.rows(`SELECT count(*)::INTEGER AS n FROM duckdb_views() WHERE view_name = $1`, [name])),
    (rows) => Number(rows[0]?.n ?? 0) > 0
  )

/** A section's rows for this filter; null when the ledger lacks the view. */
export const sectionTable = (view: SectionView, filter: ReportFilter): Effect.Effect<Table | null, LedgerError, Ledger> =>
  Effect.gen(function* () {
    if (!(yield* hasView(view))) return null
    const { where, params } = gridWhere(filter)
    return yield* queryTable(yield* Ledger, sectionSql[view](where), params)
  })
