// The rerun's reads (src/rerun/rerun.ts): the runs a prefix names, the source run with its cell,
// environment, grid and script as recorded, the reruns of a run, and the two runs' figures and
// losses for the comparison. Typed rows; stored JSON is decoded by the caller against its schema.
import { Effect } from "effect"
import { jsonObject, num, str, strOrNull } from "./decode.ts"
import { Ledger, type LedgerError, type Param, type Row } from "./Ledger.ts"

/** A run whose id or cell hash starts with the prefix. */
export interface RunMatch {
  readonly runId: string
  readonly cellHash: string
  readonly status: string
  /** "YYYY-MM-DD HH:MM:SS", UTC */
  readonly startedAt: string
  readonly label: string
}

/** The source run's row, named as its columns are. */
export interface SourceRun {
  readonly run_id: string
  readonly env_hash: string
  readonly grid_hash: string | null
  readonly repeat: number
}

export interface StoredCell {
  readonly cellHash: string
  readonly label: string | null
  /** The resolved cell as stored (JSON): decoded against today's CellConfig by the caller. */
  readonly config: Record<string, unknown>
  readonly seed: number
  readonly measure: Record<string, unknown>
  readonly axisValues: Record<string, unknown>
  readonly trainerDigest: string
  readonly datasetDigest: string
}

export interface StoredEnvironment {
  readonly hashed: Record<string, unknown>
  readonly facts: Record<string, unknown>
}

/** A figure with its 95% CI (null bounds without one). */
export interface FigureCi {
  readonly value: number | null
  readonly ciLow: number | null
  readonly ciHigh: number | null
}

export interface RunFigures {
  readonly tokS: FigureCi
  readonly jPerToken: FigureCi
}

const rows = (sql: string, params: ReadonlyArray<Param>): Effect.Effect<Array<Row>, LedgerError, Ledger> =>
  Effect.flatMap(Ledger, (l) => l.rows(sql, params))

const first = <A>(sql: string, params: ReadonlyArray<Param>, decode: (r: Row) => A): Effect.Effect<A | null, LedgerError, Ledger> =>
  Effect.map(rows(sql, params), (rs) => (rs[0] === undefined ? null : decode(rs[0])))

export const runsMatching = (prefix: string): Effect.Effect<Array<RunMatch>, LedgerError, Ledger> =>
  Effect.map(
    rows(
      `SELECT r.run_id, r.cell_hash, r.status, strftime(r.started_at, '%Y-%m-%d %H:%M:%S') AS started_at, coalesce(c.label, CAST(c.axis_values AS VARCHAR), '') AS label
     FROM runs r LEFT JOIN cells c USING (cell_hash) WHERE starts_with(lower(r.run_id), $1) OR starts_with(lower(r.cell_hash), $1)`,
      [prefix.trim().toLowerCase()]
    ),
    (rs) =>
      rs.map((m) => ({
        runId: str(m.run_id),
        cellHash: str(m.cell_hash),
        status: str(m.status),
        startedAt: str(m.started_at),
        label: str(m.label)
      }))
  )

export const sourceRun = (runId: string) =>
  first(
    `SELECT run_id, env_hash, grid_hash, repeat FROM runs WHERE run_id = $1`,
    [runId],
    (r): SourceRun => ({
      run_id: str(r.run_id),
      env_hash: str(r.env_hash),
      grid_hash: strOrNull(r.grid_hash),
      repeat: num(r.repeat)
    })
  )

export const storedCell = (cellHash: string) =>
  first(
    `SELECT * FROM cells WHERE cell_hash = $1`,
    [cellHash],
    (r): StoredCell => ({
      cellHash: str(r.cell_hash),
      label: strOrNull(r.label),
      config: jsonObject(r.config),
      seed: num(r.seed),
      measure: jsonObject(r.measure),
      axisValues: jsonObject(r.axis_values),
      trainerDigest: str(r.trainer_digest),
      datasetDigest: str(r.dataset_digest)
    })
  )

export const storedEnvironment = (envHash: string) =>
  first(
    `SELECT hashed, facts FROM environments WHERE env_hash = $1`,
    [envHash],
    (r): StoredEnvironment => ({
      hashed: jsonObject(r.hashed),
      facts: jsonObject(r.facts)
    })
  )

/** Where the run's grid file was (its folder resolves the cell's relative paths); null if unknown. */
export const gridSourcePath = (gridHash: string | null) =>
  first(`SELECT source_path FROM grids WHERE grid_hash = $1`, [gridHash ?? ""], (r) => strOrNull(r.source_path))

/** A script cell's script as recorded: its path and content digest. */
export const cellScript = (cellHash: string) =>
  first(`SELECT path, digest FROM cell_scripts WHERE cell_hash = $1`, [cellHash], (r) => ({ path: str(r.path), digest: str(r.digest) }))

/** Runs recorded as reruns of `runId`, newest first. */
export const rerunsOf = (runId: string): Effect.Effect<Array<string>, LedgerError, Ledger> =>
  Effect.map(rows(`SELECT run_id FROM runs WHERE rerun_of = $1 ORDER BY started_at DESC`, [runId]), (rs) => rs.map((r) => str(r.run_id)))

const figure = (row: Row, name: string): FigureCi => {
  const v = row[name]
  const half = row[`${name}_ci_half`]
  const value = typeof v === "number" ? v : null
  const ci = value !== null && typeof half === "number"
  return { value, ciLow: ci ? value - half : null, ciHigh: ci ? value + half : null }
}

// SELECT *: the CI columns (`<figure>_ci_half`, 95% batch-means half-width) are used when present.
export const runFigures = (runId: string): Effect.Effect<RunFigures, LedgerError, Ledger> =>
  Effect.map(rows(`SELECT * FROM results WHERE run_id = $1`, [runId]), (rs) => {
    const r = rs[0] ?? {}
    return { tokS: figure(r, "tok_s"), jPerToken: figure(r, "j_per_token") }
  })

export const runLosses = (runId: string): Effect.Effect<Array<{ step: number; loss: number }>, LedgerError, Ledger> =>
  Effect.map(rows(`SELECT step, loss FROM steps WHERE run_id = $1 ORDER BY step`, [runId]), (rs) =>
    rs.map((r) => ({ step: num(r.step), loss: num(r.loss) }))
  )
