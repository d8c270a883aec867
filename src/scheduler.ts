// Runs a grid: plan (expanded, hashed cells minus those that already succeeded in this
// environment), then one cell at a time, each in fresh trainer + sampler processes, writing
// every event through to the ledger as it arrives. A failed cell is recorded and the grid goes on.
import { Deferred, Effect } from "effect"
import { randomUUID } from "node:crypto"
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { offlineTokenizerDir, repoRoot, toSpec, type HashedCell } from "./cells.ts"
import { gitState, makeEnvironment } from "./env.ts"
import { gridInvalid, loadGrid } from "./grid/load.ts"
import { missingLibraries } from "./grid/libraries.ts"
import { checkDevice } from "./grid/validate.ts"
import { Ledger } from "./ledger/Ledger.ts"
import { endRun, markOrphansInterrupted, recordSamplerEvent, recordTrainerEvent, startRun, succeededKeys } from "./ledger/records.ts"
import type { Progress, RunControl, RunFigures } from "./progress.ts"
import { prepareGrid, recordGrid } from "./recorder.ts"
import { runCellProcesses } from "./trainer/CellProcess.ts"
import { checkDatasets } from "./trainer/datacheck.ts"
import { decideOutcome } from "./trainer/outcome.ts"
import { probeEnvironment } from "./trainer/probe.ts"

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
}

// SELECT * so that columns added to results later (the tok/s CI) reach the watchers when present.
const figuresOf = (runId: string) =>
  Effect.flatMap(Ledger, (l) => l.rows(`SELECT * FROM results WHERE run_id = $1`, [runId])).pipe(
    Effect.map((rows) => {
      if (rows[0] === undefined) return null
      const plain = Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]))
      return plain as unknown as RunFigures
    })
  )

/** The latest succeeded run's figures for a cell that is already done (shown by the TUI's table). */
const priorFigures = (cellHash: string, repeat: number, envHash: string) =>
  Effect.flatMap(Ledger, (l) =>
    l.rows(`SELECT run_id FROM runs WHERE cell_hash = $1 AND repeat = $2 AND env_hash = $3 AND status = 'succeeded' ORDER BY ended_at DESC LIMIT 1`,
      [cellHash, repeat, envHash])).pipe(Effect.flatMap((rows) => (rows[0] ? figuresOf(String(rows[0].run_id)) : Effect.succeed(null))))

export const runGrid = Effect.fnUntraced(function*(o: RunOptions) {
  const loaded = yield* loadGrid(o.gridPath, o.overrides)
  const facts = yield* probeEnvironment(o.python)
  // CUDA-only cells on a machine without a GPU, a library the cells need: refused now, not one trainer start at a time
  const machineProblems = [
    ...checkDevice(loaded.def, loaded.expansion.cells, facts.device !== "cpu"),
    ...(yield* missingLibraries(o.python, loaded.def, loaded.expansion.cells))
  ]
  if (machineProblems.length > 0) return yield* gridInvalid(o.gridPath, machineProblems)
  const env = makeEnvironment(facts, gitState(repoRoot))
  const prepared = prepareGrid(loaded)
  yield* checkDatasets(o.python, o.gridPath, dirname(loaded.file), loaded.expansion.cells) // every row read once, before any trainer starts
  const ledger = yield* Ledger
  const orphans = yield* markOrphansInterrupted
  if (orphans.length > 0) o.progress.summary({ "orphaned runs marked interrupted": orphans.length })
  yield* recordGrid(env, prepared)

  const done = o.fresh ? new Set<string>() : yield* succeededKeys(env.envHash)
  const byIndex = new Map(prepared.cells.map((c) => [c.index, c]))
  const runs = loaded.expansion.runs.map((r) => ({ cell: byIndex.get(r.cell.index)!, repeat: r.repeat, sentinel: r.sentinel ?? null }))
  const toRun = runs.filter((r) => !done.has(`${r.cell.cellHash}#${r.repeat}`)).length
  o.progress.plan({
    grid: loaded.def.name, cells: prepared.cells.length, runs: runs.length, toRun, ledger: ledger.path, envHash: env.envHash,
    device: facts.gpu_name ?? facts.device, gpuMemoryMib: facts.gpu_memory_mib, measure: loaded.expansion.measure,
    rows: runs.map((r, i) => ({ position: `${i + 1}/${runs.length}`, cellHash: r.cell.cellHash, repeat: r.repeat, label: r.cell.label, axisValues: r.cell.axisValues }))
  })

  const artifacts = resolve(dirname(resolve(ledger.path)), ".tunegrid", "runs")
  const counts: Record<string, number> = { succeeded: 0, failed: 0, skipped: 0, "already done": 0, interrupted: 0 }
  // runs already done are announced first, so the watchers show them done from the start
  for (const [i, { cell, repeat }] of runs.entries()) {
    if (!done.has(`${cell.cellHash}#${repeat}`)) continue
    o.progress.skip(`${i + 1}/${runs.length}`, cell, repeat, yield* priorFigures(cell.cellHash, repeat, env.envHash))
    counts["already done"]! += 1
  }
  for (const [i, { cell, repeat, sentinel }] of runs.entries()) {
    const position = `${i + 1}/${runs.length}`
    if (o.control?.quitting) {
      counts.left = runs.slice(i).filter((r) => !done.has(`${r.cell.cellHash}#${r.repeat}`)).length
      break
    }
    if (done.has(`${cell.cellHash}#${repeat}`)) continue
    const status = yield* runOne({ ...o, baseDir: dirname(resolve(o.gridPath)) }, cell, repeat, sentinel, position, env.envHash, prepared.grid.gridHash, loaded.expansion.measure, artifacts)
    counts[status] = (counts[status] ?? 0) + 1
  }
  o.progress.summary(counts)
  return counts
})

/** One run of one cell in fresh processes, written through to the ledger (also used by rerun). */
export const runOne = (
  o: Pick<RunOptions, "python" | "samplerMode" | "progress" | "control" | "stallTimeoutMs"> & { readonly baseDir: string }, cell: HashedCell, repeat: number, sentinel: number | null, position: string, envHash: string,
  gridHash: string | null, measure: Parameters<typeof toSpec>[1], artifacts: string, rerunOf: string | null = null
) =>
  Effect.gen(function*() {
    const runId = randomUUID()
    const dir = join(artifacts, runId)
    mkdirSync(dir, { recursive: true })
    const spec = toSpec(cell, measure, runId, { baseDir: o.baseDir, tokenizerDir: offlineTokenizerDir() })
    const specPath = join(dir, "cell.json")
    writeFileSync(specPath, JSON.stringify(spec, null, 2))
    yield* startRun({ runId, cellHash: cell.cellHash, envHash, gridHash, seed: cell.seed, repeat, origin: "live", startedAt: Date.now() / 1000, rerunOf, sentinel })
    o.progress.start(position, cell, runId)
    const stop = yield* Deferred.make<"skip" | "interrupt">()
    o.control?.attach(stop)
    const evidence = yield* runCellProcesses({
      python: o.python,
      specPath,
      stderrPath: join(dir, "stderr.log"),
      samplerStderrPath: join(dir, "sampler.stderr.log"),
      samplerMode: o.samplerMode,
      sampleIntervalMs: 100,
      idleMs: o.samplerMode === "none" ? 0 : 3000,
      stallTimeoutMs: o.stallTimeoutMs ?? 600_000,
      stop,
      onTrainer: (event) => {
        appendFileSync(join(dir, "trainer.jsonl"), JSON.stringify(event) + "\n")
        o.progress.event(position, cell, event)
        return recordTrainerEvent(runId, event)
      },
      onSampler: (event) => {
        appendFileSync(join(dir, "sampler.jsonl"), JSON.stringify(event) + "\n")
        o.progress.sample?.(position, cell, event)
        return recordSamplerEvent(runId, event)
      }
    }).pipe(
      Effect.onInterrupt(() =>
        endRun(runId, {
          status: "interrupted", endedAt: Date.now() / 1000, finishReason: null, errorKind: null,
          errorMessage: "the runner was stopped (SIGINT/SIGTERM) during this run", errorDetail: null, exitCode: null, exitSignal: null, stderrTail: null
        }).pipe(Effect.ignore)),
      Effect.ensuring(Effect.sync(() => o.control?.detach()))
    )
    writeFileSync(join(dir, "exit.json"), JSON.stringify({ exit_code: evidence.exitCode, signal: evidence.signal, t_end: evidence.endedAt }))
    const end = decideOutcome(evidence)
    yield* endRun(runId, end)
    o.progress.end(position, cell, end, end.status === "succeeded" ? yield* figuresOf(runId) : null)
    return end.status
  })
