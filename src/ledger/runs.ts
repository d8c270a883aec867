// Reads about runs. What the runner reads back while it runs a grid: a run's figures once it
// ended, and the latest figures of every cell already done in an environment (resume) — typed
// rows, the figures the watchers print, with any newer results columns passed along as they are.
// And small reads for the commands that add to the ledger or filter by it: run ids (ingest skips
// them), run statuses (Slurm resubmits what did not succeed), the grid names (--grid refuses one
// the ledger lacks).
import { Effect } from "effect"
import { str as text } from "./decode.ts"
import { Ledger, type LedgerError, type Row } from "./Ledger.ts"

export interface RunFigures {
  readonly tok_s: number | null
  readonly t10k_s: number | null
  readonly vram_peak_mib: number | null
  readonly torch_peak_reserved_mib: number | null
  readonly j_per_token: number | null
  readonly energy_method: string | null
  readonly window_steps: number | null
  readonly window_seconds: number | null
  readonly tok_s_ci_rel: number | null
  readonly steady: boolean
  readonly steady_reason: string | null
  /** Half-width of the 95% CI of tok_s (batch means), when the window allowed one. */
  readonly tok_s_ci_half?: number | null
}

const num = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : null)
const str = (v: unknown): string | null => (typeof v === "string" ? v : null)

/** A results row as figures; BIGINTs as numbers (JSON cannot carry them). */
export const toFigures = (row: Row): RunFigures & Readonly<Record<string, unknown>> => {
  const plain = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]))
  return {
    ...plain,
    tok_s: num(plain.tok_s),
    t10k_s: num(plain.t10k_s),
    vram_peak_mib: num(plain.vram_peak_mib),
    torch_peak_reserved_mib: num(plain.torch_peak_reserved_mib),
    j_per_token: num(plain.j_per_token),
    energy_method: str(plain.energy_method),
    window_steps: num(plain.window_steps),
    window_seconds: num(plain.window_seconds),
    tok_s_ci_rel: num(plain.tok_s_ci_rel),
    steady: plain.steady === true,
    steady_reason: str(plain.steady_reason),
    ...("tok_s_ci_half" in plain ? { tok_s_ci_half: num(plain.tok_s_ci_half) } : {})
  }
}

// SELECT * so that columns added to results later (the tok/s CI) reach the watchers when present.
/** One run's figures, or null when it has no results row (it did not succeed). */
export const figuresOf = (runId: string) =>
  Effect.flatMap(Ledger, (l) => l.rows(`SELECT * FROM results WHERE run_id = $1`, [runId])).pipe(
    Effect.map((rows) => (rows[0] === undefined ? null : toFigures(rows[0])))
  )

/** The latest succeeded run's figures for each cell already done in this environment, by
 * `${cell_hash}#${repeat}` (shown by the TUI's table): one query, however many cells are done. */
export const priorFigures = (envHash: string) =>
  Effect.flatMap(Ledger, (l) =>
    l.rows(
      `SELECT k.key AS _key, x.* FROM (
        SELECT cell_hash || '#' || repeat AS key, arg_max(run_id, ended_at) AS run_id FROM runs
        WHERE env_hash = $1 AND status = 'succeeded' GROUP BY cell_hash, repeat
      ) k JOIN results x USING (run_id)`,
      [envHash]
    )
  ).pipe(Effect.map((rows) => new Map(rows.map(({ _key, ...row }) => [String(_key), toFigures(row)]))))

const column = (sql: string, name: string): Effect.Effect<Array<string>, LedgerError, Ledger> =>
  Effect.map(
    Effect.flatMap(Ledger, (l) => l.rows(sql)),
    (rows) => rows.map((r) => text(r[name]))
  )

/** Every run id in the ledger. */
export const runIds: Effect.Effect<Set<string>, LedgerError, Ledger> = Effect.map(
  column(`SELECT run_id FROM runs`, "run_id"),
  (ids) => new Set(ids)
)

/** Every run's status by run id. */
export const runStatuses: Effect.Effect<Map<string, string>, LedgerError, Ledger> = Effect.map(
  Effect.flatMap(Ledger, (l) => l.rows(`SELECT run_id, status FROM runs`)),
  (rows) => new Map(rows.map((r) => [text(r.run_id), text(r.status)]))
)

/** The grid names in the ledger, for refusing an unknown --grid with the list of known ones. */
export const gridNames: Effect.Effect<Array<string>, LedgerError, Ledger> = column(`SELECT DISTINCT name FROM grids ORDER BY name`, "name")
