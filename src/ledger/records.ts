// Domain writes and reads on the ledger: environments, grids, cells, runs, and the trainer's and
// sampler's events as they arrive. Live runs and ingested runs both write through here, so the
// rows (and the results computed from them by ledger/results.sql) are the same either way.
import { Effect } from "effect"
import type { Environment } from "../env.ts"
import { explainIoError } from "../ioerror.ts"
import type { SamplerEvent, TrainerEvent } from "../protocol.ts"
import { Ledger, type LedgerError, resultsSql, sentinelSql, type Param, type Statement } from "./Ledger.ts"
import { recordMemory } from "./memory.ts"

const json = (value: unknown) => JSON.stringify(value ?? null)
const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString()

export const environmentInsert = (env: Environment) => ({
  sql: `INSERT OR IGNORE INTO environments (env_hash, hashed, facts, gpu_name, gpu_memory_mib, driver, cuda, torch, python, hostname, git_commit, git_dirty)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
  params: [
    env.envHash,
    json(env.hashed),
    json(env.facts),
    env.facts.gpu_name,
    env.facts.gpu_memory_mib,
    env.facts.driver,
    env.facts.cuda,
    env.facts.torch,
    env.facts.python,
    env.facts.hostname,
    env.facts.git_commit,
    env.facts.git_dirty
  ]
})

const execute = (s: { readonly sql: string; readonly params: ReadonlyArray<Param> }) =>
  Effect.flatMap(Ledger, (l) => l.exec(s.sql, s.params))

export const putEnvironment = (env: Environment) => execute(environmentInsert(env))

export interface GridRow {
  readonly gridHash: string
  readonly name: string
  readonly description: string | null
  readonly sourcePath: string | null
  readonly sourceText: string | null
  readonly sourceHash: string | null
  readonly definition: unknown
  readonly overrides: ReadonlyArray<string>
  readonly measure: unknown
}

export const gridInsert = (g: GridRow) => ({
  sql: `INSERT OR IGNORE INTO grids (grid_hash, name, description, source_path, source_text, source_hash, definition, overrides, measure)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  params: [
    g.gridHash,
    g.name,
    g.description,
    g.sourcePath,
    g.sourceText,
    g.sourceHash,
    json(g.definition),
    json(g.overrides),
    json(g.measure)
  ]
})

export const putGrid = (g: GridRow) => execute(gridInsert(g))

export interface CellRow {
  readonly cellHash: string
  readonly label: string | null
  readonly config: unknown
  readonly seed: number
  readonly measure: unknown
  readonly axisValues: unknown
  readonly trainerDigest: string
  readonly datasetDigest: string
  /** Trainer "script" cells: the user's script (path, sha256 of its content). */
  readonly script?: { readonly path: string; readonly digest: string } | null
}

const cellColumns = `cell_hash, label, config, seed, measure, axis_values, trainer_digest, dataset_digest`
const cellValues = (c: CellRow) => [
  c.cellHash,
  c.label,
  json(c.config),
  c.seed,
  json(c.measure),
  json(c.axisValues),
  c.trainerDigest,
  c.datasetDigest
]

/** Statements (for `batch`) that add cells not yet in the ledger: appended into a TEMP table,
 * then copied with INSERT OR IGNORE. For 10,000 cells on the 2-core dev box (bench/grid-start.ts):
 * 0.42 s into a new ledger, 0.22 s on resume; one INSERT per cell took 46.9 s and 32.7 s. */
export const cellInserts = (cells: ReadonlyArray<CellRow>): Array<Statement> => [
  {
    sql: `CREATE OR REPLACE TEMP TABLE new_cells (cell_hash VARCHAR, label VARCHAR, config VARCHAR, seed INTEGER, measure VARCHAR,
      axis_values VARCHAR, trainer_digest VARCHAR, dataset_digest VARCHAR)`
  },
  { appendTo: "new_cells", rows: cells.map(cellValues) },
  { sql: `INSERT OR IGNORE INTO cells (${cellColumns}) SELECT ${cellColumns} FROM new_cells` },
  { sql: `DROP TABLE new_cells` },
  // trainer "script" cells: the user's script is one of the cell's inputs (rerun diffs it)
  ...cells.flatMap((c) =>
    c.script
      ? [
          {
            sql: `INSERT OR IGNORE INTO cell_scripts (cell_hash, path, digest) VALUES ($1, $2, $3)`,
            params: [c.cellHash, c.script.path, c.script.digest]
          }
        ]
      : []
  )
]

export const putCell = (c: CellRow) => Effect.flatMap(Ledger, (l) => l.batch(cellInserts([c])))

export interface RunStart {
  readonly runId: string
  readonly cellHash: string
  readonly envHash: string
  readonly gridHash: string | null
  readonly seed: number
  readonly repeat: number
  readonly origin: "live" | "ingest"
  readonly startedAt: number
  readonly rerunOf: string | null
  /** Occurrence of the grid's sentinel cell (order-effect check); absent for the grid's own runs. */
  readonly sentinel?: number | null
}

export const startRun = (r: RunStart) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(
      `INSERT INTO runs (run_id, cell_hash, env_hash, grid_hash, seed, repeat, status, origin, started_at, rerun_of, sentinel)
       VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8::TIMESTAMP, $9, $10)`,
      [r.runId, r.cellHash, r.envHash, r.gridHash, r.seed, r.repeat, r.origin, iso(r.startedAt), r.rerunOf, r.sentinel ?? null]
    )
  )

const nums = (...values: Array<number | null>): Array<Param> => values

/** Write one trainer event through to the ledger (steps as rows; started facts on the run). */
export const recordTrainerEvent = (runId: string, event: TrainerEvent) =>
  Effect.gen(function* () {
    const l = yield* Ledger
    switch (event.event) {
      case "started":
        return yield* l.exec(`UPDATE runs SET model_facts = $2, data_facts = $3, warnings = $4 WHERE run_id = $1`, [
          runId,
          json(event.model),
          json(event.data),
          json(event.warnings)
        ])
      case "step":
        return yield* l.exec(`INSERT INTO steps VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, [
          runId,
          ...nums(
            event.step,
            event.t_start,
            event.t_end,
            event.tokens,
            event.padded_tokens,
            event.samples,
            event.loss,
            event.lr,
            event.grad_norm,
            event.mem_allocated_mib,
            event.mem_reserved_mib,
            event.mem_peak_allocated_mib,
            event.mem_peak_reserved_mib
          ),
          event.phase
        ])
      case "memory":
        return yield* recordMemory(runId, event)
      case "finished":
      case "failed":
        return // the run's outcome is written once, by endRun
    }
  })

/** Why the ledger refused an event's row for its content (a repeated key, a value beyond its
 * column's type), or null when the failure is the ledger's own (a full disk, a lost file): the
 * first fails that run as `protocol` and the grid goes on; the second stops the grid. */
export const refusedEvent = (e: LedgerError): string | null => {
  if (explainIoError(e.message) !== null) return null
  return /\b(Constraint|Conversion|Out of Range|Invalid Input) Error: [^\n]*/.exec(e.message)?.[0] ?? null
}

export const recordSamplerEvent = (runId: string, event: SamplerEvent) =>
  Effect.gen(function* () {
    const l = yield* Ledger
    if (event.event === "sampler") {
      return yield* l.exec(
        `UPDATE runs SET sampler_mode = $2, sampler_reason = $3, gpu_total_mib = $4, energy_counter = $5, idle_power_w = $6 WHERE run_id = $1`,
        [runId, event.mode, event.reason, event.memory_total_mib, event.energy_counter, event.idle_power_w]
      )
    }
    return yield* l.exec(`INSERT INTO samples VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
      runId,
      ...nums(
        event.t,
        event.energy_mj,
        event.power_w,
        event.mem_used_mib,
        event.util_pct,
        event.sm_clock_mhz,
        event.temp_c,
        event.throttle,
        event.host_rss_mib,
        event.host_cpu_pct
      )
    ])
  })

export type RunStatus = "succeeded" | "failed" | "interrupted" | "skipped"

export interface RunEnd {
  readonly status: RunStatus
  readonly endedAt: number
  readonly finishReason: string | null
  readonly errorKind: string | null
  readonly errorMessage: string | null
  readonly errorDetail: string | null
  readonly exitCode: number | null
  readonly exitSignal: string | null
  readonly stderrTail: string | null
  /** Step and memory (MiB) at failure, as the trainer's `failed` event gave them. */
  readonly errorStep?: number | null
  readonly errorMemoryMib?: number | null
  /** Why the sampler stopped before the trainer: energy and device memory are missing for this run. */
  readonly samplerError?: string | null
}

/** Close the run with its outcome and compute its results row from the recorded steps/samples,
 * in one transaction: a runner killed in between leaves the run `running` (marked interrupted at
 * the next open, and run again), never `succeeded` without its results. */
export const endRun = (runId: string, end: RunEnd) =>
  Effect.flatMap(Ledger, (l) =>
    l.batch([
      {
        sql: `UPDATE runs SET status = $2, ended_at = $3::TIMESTAMP, finish_reason = $4, error_kind = $5, error_message = $6,
         error_detail = $7, exit_code = $8, exit_signal = $9, stderr_tail = $10, error_step = $11, error_memory_mib = $12,
         sampler_error = $13 WHERE run_id = $1`,
        params: [
          runId,
          end.status,
          iso(end.endedAt),
          end.finishReason,
          end.errorKind,
          end.errorMessage,
          end.errorDetail,
          end.exitCode,
          end.exitSignal,
          end.stderrTail,
          end.errorStep ?? null,
          end.errorMemoryMib ?? null,
          end.samplerError ?? null
        ]
      },
      ...(end.status === "succeeded" ? [{ sql: resultsSql(), params: [runId] }, { sql: sentinelSql() }] : [])
    ])
  )

/** Runs left `running` by a runner that died (SIGKILL, power loss): only one writer holds the
 * file, so at open time none of them can still be running. (current_timestamp is UTC: the
 * ledger's connection runs with TimeZone UTC, like started_at.) */
export const markOrphansInterrupted = Effect.gen(function* () {
  const l = yield* Ledger
  const orphans = yield* l.rows(`SELECT run_id FROM runs WHERE status = 'running'`)
  if (orphans.length > 0) {
    yield* l.exec(
      `UPDATE runs SET status = 'interrupted', ended_at = current_timestamp,
         error_message = 'the runner stopped before this run ended (found running when the ledger was next opened)'
       WHERE status = 'running'`
    )
  }
  return orphans.map((r) => String(r.run_id))
})

/** Keys `${cell_hash}#${repeat}` that already succeeded in this environment. */
export const succeededKeys = (envHash: string) =>
  Effect.map(
    Effect.flatMap(Ledger, (l) =>
      l.rows(`SELECT DISTINCT cell_hash, repeat FROM runs WHERE env_hash = $1 AND status = 'succeeded'`, [envHash])
    ),
    (rows) => new Set(rows.map((r) => `${r.cell_hash}#${r.repeat}`))
  )
