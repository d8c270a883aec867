// Runs a grid: plan (expanded, hashed cells minus those that already succeeded in this
// environment), then one cell at a time (or one per slot of a local pool), each in fresh trainer
// + sampler processes (the TrainerProcess service), writing every event through to the ledger as
// it arrives. A failed cell is recorded and the grid goes on; a quit request (or a signal) leaves
// the rest for the next run. The pool's own rules (exclusive cells, per-slot sentinels): pool.ts.
import { Effect } from "effect"
import { dirname, join, resolve } from "node:path"
import type { HashedCell } from "./cells.ts"
import { makeEnvironment } from "./env.ts"
import { gridInvalid, loadGrid } from "./grid/load.ts"
import { checkDevice } from "./grid/validate.ts"
import { Ledger } from "./ledger/Ledger.ts"
import { markOrphansInterrupted, succeededKeys } from "./ledger/records.ts"
import { priorFigures, type RunFigures } from "./ledger/runs.ts"
import type { Progress, RunControl } from "./progress.ts"
import { prepareGrid, recordGrid } from "./recorder.ts"
import { lastSentinel } from "./ledger/slots.ts"
import { runPool, type PoolRun, type PoolSentinel } from "./pool.ts"
import { planRun, runOne } from "./runOne.ts"
import { pausesBefore, runSequence } from "./sequence.ts"
import type { Slot } from "./slots.ts"
import { recordChild, stopLeftovers } from "./trainer/leftovers.ts"
import { TrainerProcess } from "./trainer/TrainerProcess.ts"

// runOne has its own file; rerun and fit import it from here.
export { runOne, type RunRequest } from "./runOne.ts"

export interface RunOptions {
  readonly gridPath: string
  readonly overrides: ReadonlyArray<string>
  readonly python: string
  readonly fresh: boolean
  readonly samplerMode: "auto" | "nvml" | "smi" | "none"
  /** A trainer silent for this long (ms) is killed and its run recorded failed: stalled. */
  readonly stallTimeoutMs?: number
  readonly progress: Progress
  /** Keyboard requests (skip / quit) from the TUI; absent in plain mode. */
  readonly control?: RunControl
  /** Where run folders go; default .tunegrid/runs beside the ledger file. */
  readonly artifacts?: string
  /** A local pool: one trainer per slot at a time (slots.ts); default one trainer, no slot recorded. */
  readonly slots?: ReadonlyArray<Slot> | undefined
  /** Start each next run's trainer while the current one runs (sequence.ts; not in a pool). */
  readonly prestart?: boolean | undefined
}

/** Stop what a killed runner left of its runs (their processes.jsonl) before any cell starts. */
export const stopLeftoversOf = (orphanRunIds: ReadonlyArray<string>, artifacts: string) =>
  stopLeftovers(orphanRunIds.map((id) => join(artifacts, id)))

/** The runs of an expanded grid in order, with the key resume matches them by. */
interface PlannedRun {
  readonly cell: HashedCell
  readonly repeat: number
  readonly sentinel: number | null
}
const keyOf = (r: { readonly cell: HashedCell; readonly repeat: number }) => `${r.cell.cellHash}#${r.repeat}`

export const runGrid = Effect.fnUntraced(function* (o: RunOptions) {
  const trainer = yield* TrainerProcess
  const loaded = yield* loadGrid(o.gridPath, o.overrides)
  const { facts, git } = yield* trainer.environment(o.python)
  // CUDA-only cells on a machine without a GPU, a library the cells need: refused now, not one trainer start at a time
  const machineProblems = [
    ...checkDevice(loaded.def, loaded.expansion.cells, facts.device !== "cpu"),
    ...(yield* trainer.missingLibraries(o.python, loaded.def, loaded.expansion.cells))
  ]
  if (machineProblems.length > 0) return yield* gridInvalid(o.gridPath, machineProblems)
  const env = makeEnvironment(facts, git)
  const prepared = prepareGrid(loaded)
  yield* trainer.checkDatasets(o.python, o.gridPath, dirname(loaded.file), loaded.expansion.cells) // every row read once, before any trainer starts
  const ledger = yield* Ledger
  const artifacts = o.artifacts ?? resolve(dirname(resolve(ledger.path)), ".tunegrid", "runs")
  const orphans = yield* markOrphansInterrupted
  if (orphans.length > 0) o.progress.summary({ "orphaned runs marked interrupted": orphans.length })
  const leftovers = yield* stopLeftoversOf(orphans, artifacts)
  if (leftovers.length > 0) o.progress.summary({ "leftover processes of a killed runner stopped": leftovers.length })
  if (ledger.repaired.length > 0) o.progress.summary({ "succeeded runs without results: results computed": ledger.repaired.length })
  yield* recordGrid(env, prepared)

  const done = o.fresh ? new Set<string>() : yield* succeededKeys(env.envHash)
  const prior = done.size > 0 ? yield* priorFigures(env.envHash) : new Map<string, RunFigures>()
  const byIndex = new Map(prepared.cells.map((c) => [c.index, c]))
  const planned: Array<PlannedRun> = loaded.expansion.runs.map((r) => ({
    cell: byIndex.get(r.cell.index)!,
    repeat: r.repeat,
    sentinel: r.sentinel ?? null
  }))
  // In a pool each slot runs the sentinel itself (pool.ts): the grid's own runs are what is planned.
  const sentinelRun = o.slots && loaded.def.measure?.sentinel ? planned.find((r) => r.sentinel !== null) : undefined
  const runs = sentinelRun ? planned.filter((r) => r.sentinel === null) : planned
  const toRun = runs.filter((r) => !done.has(keyOf(r))).length
  o.progress.plan({
    grid: loaded.def.name,
    cells: prepared.cells.length,
    runs: runs.length,
    toRun,
    ledger: ledger.path,
    envHash: env.envHash,
    device: facts.gpu_name ?? facts.device,
    gpuMemoryMib: facts.gpu_memory_mib,
    measure: loaded.expansion.measure,
    ...(o.slots ? { slots: o.slots.map((s) => s.name) } : {}),
    rows: runs.map((r, i) => ({
      position: `${i + 1}/${runs.length}`,
      cellHash: r.cell.cellHash,
      repeat: r.repeat,
      label: r.cell.label,
      axisValues: r.cell.axisValues
    }))
  })

  const counts: Record<string, number> = { succeeded: 0, failed: 0, skipped: 0, "already done": 0, interrupted: 0 }
  // runs already done are announced first, so the watchers show them done from the start
  for (const [i, r] of runs.entries()) {
    if (!done.has(keyOf(r))) continue
    o.progress.skip(`${i + 1}/${runs.length}`, r.cell, r.repeat, prior.get(keyOf(r)) ?? null)
    counts["already done"]! += 1
  }
  const baseDir = dirname(resolve(o.gridPath))
  // The runs not yet done, in order: one after another, or taken by a pool's slots (pool.ts).
  const pending: Array<PoolRun> = runs.flatMap((r, i) => (done.has(keyOf(r)) ? [] : [{ ...r, position: `${i + 1}/${runs.length}` }]))
  const run = ({ cell, repeat, sentinel, position }: PoolRun, slot: Slot | undefined) =>
    runOne({
      ...o,
      baseDir,
      cell,
      repeat,
      sentinel,
      position,
      envHash: env.envHash,
      gridHash: prepared.grid.gridHash,
      measure: loaded.expansion.measure,
      artifacts,
      slot
    })
  let left = 0
  if (o.slots) {
    const sentinel: PoolSentinel | null = sentinelRun
      ? {
          cell: sentinelRun.cell,
          every: loaded.def.measure!.sentinel!.every,
          repeats: sentinelRun.repeat,
          first: (yield* lastSentinel(prepared.grid.gridHash, env.envHash)) + 1
        }
      : null
    const pool = yield* runPool({ slots: o.slots, pending, sentinel, progress: o.progress, control: o.control, run })
    for (const [status, n] of Object.entries(pool.counts)) counts[status] = (counts[status] ?? 0) + n
    left = pool.left
  } else {
    const measure = loaded.expansion.measure
    const prestart = o.prestart
      ? (next: PoolRun, currentDir: string) => {
          const folder = planRun({ cell: next.cell, measure, baseDir, artifacts })
          const ahead = trainer.prestart({ python: o.python, specPath: folder.specPath, stderrPath: join(folder.dir, "stderr.log") })
          recordChild(currentDir, "trainer", ahead.pid)
          recordChild(folder.dir, "trainer", ahead.pid)
          return { run: next, folder, trainer: ahead }
        }
      : null
    const sequence = yield* runSequence({
      pending,
      control: o.control,
      prestart,
      pauseOn: pausesBefore(measure.warmup),
      run: (r, hooks) =>
        runOne({
          ...o,
          ...hooks,
          baseDir,
          cell: r.cell,
          repeat: r.repeat,
          sentinel: r.sentinel,
          position: r.position,
          envHash: env.envHash,
          gridHash: prepared.grid.gridHash,
          measure,
          artifacts
        })
    })
    for (const [status, n] of Object.entries(sequence.counts)) counts[status] = (counts[status] ?? 0) + n
    left = sequence.left
  }
  if (o.control?.quitting && left > 0) counts.left = left
  o.progress.summary(counts)
  return counts
})
