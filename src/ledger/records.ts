// Domain writes and reads on the ledger: environments, grids, cells, runs, and the trainer's and
// sampler's events as they arrive. Live runs and ingested runs both write through here, so the
// rows (and the results computed from them by ledger/results.sql) are the same either way.
import { Effect } from "effect"
import type { Environment } from "../env.ts"
import type { SamplerEvent, TrainerEvent } from "../protocol.ts"
import { Ledger, resultsSql, sentinelSql, type Param } from "./Ledger.ts"
import { recordMemory } from "./memory.ts"

const json = (value: unknown) => JSON.stringify(value ?? null)
const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString()

export const putEnvironment = (env: Environment) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(
      `INSERT OR IGNORE INTO environments (env_hash, hashed, facts, gpu_name, gpu_memory_mib, driver, cuda, torch, python, hostname, git_commit, git_dirty)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [env.envHash, json(env.hashed), json(env.facts), env.facts.gpu_name, env.facts.gpu_memory_mib, env.facts.driver, env.facts.cuda,
        env.facts.torch, env.facts.python, env.facts.hostname, env.facts.git_commit, env.facts.git_dirty]
    ))

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

export const putGrid = (g: GridRow) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(
      `INSERT OR IGNORE INTO grids (grid_hash, name, description, source_path, source_text, source_hash, definition, overrides, measure)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [g.gridHash, g.name, g.description, g.sourcePath, g.sourceText, g.sourceHash, json(g.definition), json(g.overrides), json(g.measure)]
    ))

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

export const putCell = (c: CellRow) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(
      `INSERT OR IGNORE INTO cells (cell_hash, label, config, seed, measure, axis_values, trainer_digest, dataset_digest)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [c.cellHash, c.label, json(c.config), c.seed, json(c.measure), json(c.axisValues), c.trainerDigest, c.datasetDigest]
    ).pipe(Effect.andThen(c.script
      ? l.exec(`INSERT OR IGNORE INTO cell_scripts (cell_hash, path, digest) VALUES ($1, $2, $3)`, [c.cellHash, c.script.path, c.script.digest])
      : Effect.void)))

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
    ))

const nums = (...values: Array<number | null>): Array<Param> => values

/** Write one trainer event through to the ledger (steps as rows; started facts on the run). */
export const recordTrainerEvent = (runId: string, event: TrainerEvent) =>
  Effect.gen(function*() {
    const l = yield* Ledger
    switch (event.event) {
      case "started":
        return yield* l.exec(
          `UPDATE runs SET model_facts = $2, data_facts = $3, warnings = $4 WHERE run_id = $1`,
          [runId, json(event.model), json(event.data), json(event.warnings)]
        )
      case "step":
        return yield* l.exec(
          `INSERT INTO steps VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [runId, ...nums(event.step, event.t_start, event.t_end, event.tokens, event.padded_tokens, event.samples, event.loss, event.lr,
            event.grad_norm, event.mem_allocated_mib, event.mem_reserved_mib, event.mem_peak_allocated_mib, event.mem_peak_reserved_mib), event.phase]
        )
      case "memory":
        return yield* recordMemory(runId, event)
      case "finished":
      case "failed":
        return // the run's outcome is written once, by endRun
    }
  })

export const recordSamplerEvent = (runId: string, event: SamplerEvent) =>
  Effect.gen(function*() {
    const l = yield* Ledger
    if (event.event === "sampler") {
      return yield* l.exec(
        `UPDATE runs SET sampler_mode = $2, sampler_reason = $3, gpu_total_mib = $4, energy_counter = $5, idle_power_w = $6 WHERE run_id = $1`,
        [runId, event.mode, event.reason, event.memory_total_mib, event.energy_counter, event.idle_power_w]
      )
    }
    return yield* l.exec(
      `INSERT INTO samples VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [runId, ...nums(event.t, event.energy_mj, event.power_w, event.mem_used_mib, event.util_pct, event.sm_clock_mhz, event.temp_c,
        event.throttle, event.host_rss_mib, event.host_cpu_pct)]
    )
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

/** Close the run with its outcome and compute its results row from the recorded steps/samples. */
export const endRun = (runId: string, end: RunEnd) =>
  Effect.gen(function*() {
    const l = yield* Ledger
    yield* l.exec(
      `UPDATE runs SET status = $2, ended_at = $3::TIMESTAMP, finish_reason = $4, error_kind = $5, error_message = $6,
         error_detail = $7, exit_code = $8, exit_signal = $9, stderr_tail = $10, error_step = $11, error_memory_mib = $12,
         sampler_error = $13 WHERE run_id = $1`,
      [runId, end.status, iso(end.endedAt), end.finishReason, end.errorKind, end.errorMessage, end.errorDetail, end.exitCode,
        end.exitSignal, end.stderrTail, end.errorStep ?? null, end.errorMemoryMib ?? null, end.samplerError ?? null]
    )
    if (end.status === "succeeded") {
      yield* l.exec(resultsSql(), [runId])
      yield* l.exec(sentinelSql())
    }
  })

/** Runs left `running` by a runner that died (SIGKILL, power loss): only one writer holds the
 * file, so at open time none of them can still be running. */
export const markOrphansInterrupted = Effect.gen(function*() {
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
    Effect.flatMap(Ledger, (l) => l.rows(`SELECT DISTINCT cell_hash, repeat FROM runs WHERE env_hash = $1 AND status = 'succeeded'`, [envHash])),
    (rows) => new Set(rows.map((r) => `${r.cell_hash}#${r.repeat}`))
  )
