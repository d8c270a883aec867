// One run of one cell: its folder (spec, event logs, exit), its ledger row from start to end,
// the trainer process behind the TrainerProcess service, every event written through to the ledger
// and shown to the watchers as it arrives. Used by the scheduler, rerun and fit.
import { Clock, Deferred, Effect, FileSystem } from "effect"
import { randomUUID } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { offlineTokenizerDir, toSpec, type HashedCell } from "./cells.ts"
import type { Measure } from "./grid/schema.ts"
import type { TrainerEvent } from "./protocol.ts"
import { endRun, recordSamplerEvent, recordTrainerEvent, refusedEvent, startRun, type RunStatus } from "./ledger/records.ts"
import { figuresOf } from "./ledger/runs.ts"
import type { Progress, RunControl } from "./progress.ts"
import { recordChild } from "./trainer/leftovers.ts"
import type { Prestarted } from "./trainer/prestart.ts"
import { decideOutcome } from "./trainer/outcome.ts"
import { recordSlot } from "./ledger/slots.ts"
import { binding, type Slot } from "./slots.ts"
import { TrainerProcess } from "./trainer/TrainerProcess.ts"

/** Everything one run needs. */
export interface RunRequest {
  readonly python: string
  readonly samplerMode: "auto" | "nvml" | "smi" | "none"
  readonly progress: Progress
  /** Keyboard requests (skip / quit) from the TUI; absent in plain mode. */
  readonly control?: RunControl | undefined
  /** A trainer silent for this long (ms) is killed and its run recorded failed: stalled (default 10 min). */
  readonly stallTimeoutMs?: number | undefined
  /** The grid file's folder: relative dataset and script paths resolve against it. */
  readonly baseDir: string
  readonly cell: HashedCell
  readonly repeat: number
  /** Occurrence of the grid's sentinel cell (order-effect check); null for the grid's own runs. */
  readonly sentinel?: number | null
  /** Where the run stands for the watchers ("3/12", "rerun", a search's name). */
  readonly position: string
  readonly envHash: string
  readonly gridHash: string | null
  readonly measure: Measure
  /** The folder that gets this run's own folder (named by its run id). */
  readonly artifacts: string
  /** The run this one repeats (rerun), else null. */
  readonly rerunOf?: string | null
  /** The pool slot it runs in (recorded with the run; a GPU slot binds its processes to that GPU). */
  readonly slot?: Slot | undefined
  /** Its folder made ahead (planRun) for a pre-started trainer, and that trainer (sequence.ts). */
  readonly folder?: RunFolder | undefined
  readonly adopt?: Prestarted | undefined
  /** Told as this run's trainer is spawned (with the run's folder) and of each of its events as it arrives. */
  readonly onTrainerSpawned?: ((dir: string) => void) | undefined
  readonly onTrainerEvent?: ((event: TrainerEvent) => void) | undefined
}

/** A run's id, folder and cell.json, before its trainer exists. */
export interface RunFolder {
  readonly runId: string
  readonly dir: string
  readonly specPath: string
}

/** Makes a run's folder and writes its cell.json; a failure to write dies (the run's files are
 * its evidence beside the ledger: failing to write them stops the grid). Synchronous, so the
 * scheduler can plan the next run from inside the current one's spawn. */
export const planRun = (r: Pick<RunRequest, "cell" | "measure" | "baseDir" | "artifacts">): RunFolder => {
  const runId = randomUUID()
  const dir = join(r.artifacts, runId)
  mkdirSync(dir, { recursive: true })
  const spec = toSpec(r.cell, r.measure, runId, { baseDir: r.baseDir, tokenizerDir: offlineTokenizerDir() })
  const specPath = join(dir, "cell.json")
  writeFileSync(specPath, JSON.stringify(spec, null, 2))
  return { runId, dir, specPath }
}

const interrupted = (endedAt: number) => ({
  status: "interrupted" as const,
  endedAt,
  finishReason: null,
  errorKind: null,
  errorMessage: "the runner was stopped (SIGINT/SIGTERM) during this run",
  errorDetail: null,
  exitCode: null,
  exitSignal: null,
  stderrTail: null
})

const seconds = Effect.map(Clock.currentTimeMillis, (ms) => ms / 1000)

/** One run of one cell in fresh processes, written through to the ledger; returns how it ended. */
export const runOne = (r: RunRequest) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const trainer = yield* TrainerProcess
    // A run's files are its evidence beside the ledger: failing to write them stops the grid, as before.
    const write = (path: string, text: string, flag: "w" | "a" = "w") => fs.writeFileString(path, text, { flag }).pipe(Effect.orDie)
    const { cell, position, progress } = r
    const { runId, dir, specPath } = r.folder ?? (yield* Effect.sync(() => planRun(r)))
    yield* startRun({
      runId,
      cellHash: cell.cellHash,
      envHash: r.envHash,
      gridHash: r.gridHash,
      seed: cell.seed,
      repeat: r.repeat,
      origin: "live",
      startedAt: yield* seconds,
      rerunOf: r.rerunOf ?? null,
      sentinel: r.sentinel ?? null
    })
    if (r.slot) yield* recordSlot(runId, r.slot)
    progress.start(position, cell, runId, r.slot)
    const stop = yield* Deferred.make<"skip" | "interrupt">()
    r.control?.attach(stop)
    const evidence = yield* trainer
      .run({
        python: r.python,
        specPath,
        stderrPath: join(dir, "stderr.log"),
        samplerStderrPath: join(dir, "sampler.stderr.log"),
        samplerMode: r.samplerMode,
        sampleIntervalMs: 100,
        idleMs: r.samplerMode === "none" ? 0 : 3000,
        stallTimeoutMs: r.stallTimeoutMs ?? 600_000,
        stop,
        refused: refusedEvent,
        ...binding(r.slot),
        adopt: r.adopt,
        onSpawn: (role, pid) => {
          recordChild(dir, role, pid)
          if (role === "trainer") r.onTrainerSpawned?.(dir)
        },
        onTrainer: (event) =>
          Effect.sync(() => r.onTrainerEvent?.(event)).pipe(
            Effect.andThen(
              write(join(dir, "trainer.jsonl"), JSON.stringify(event) + "\n", "a").pipe(
                Effect.tap(() => Effect.sync(() => progress.event(position, cell, event))),
                Effect.andThen(recordTrainerEvent(runId, event))
              )
            )
          ),
        onSampler: (event) =>
          write(join(dir, "sampler.jsonl"), JSON.stringify(event) + "\n", "a").pipe(
            Effect.tap(() => Effect.sync(() => progress.sample?.(position, cell, event))),
            Effect.andThen(recordSamplerEvent(runId, event))
          )
      })
      .pipe(
        Effect.onInterrupt(() => Effect.flatMap(seconds, (t) => endRun(runId, interrupted(t))).pipe(Effect.ignore)),
        Effect.ensuring(Effect.sync(() => r.control?.detach(stop)))
      )
    yield* write(join(dir, "exit.json"), JSON.stringify({ exit_code: evidence.exitCode, signal: evidence.signal, t_end: evidence.endedAt }))
    const end = decideOutcome(evidence)
    yield* endRun(runId, end)
    progress.end(position, cell, end, end.status === "succeeded" ? yield* figuresOf(runId) : null)
    return end.status satisfies RunStatus
  })
