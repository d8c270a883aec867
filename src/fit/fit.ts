// `tunegrid fit`: for each configuration of a grid, the largest micro-batch that runs under a VRAM
// budget. Short probes (src/fit/probe.ts) on the largest shapes the data produces, searched by
// src/fit/bisect.ts, every probe a ledger row; then a normal measured run at the frontier through
// the scheduler's runOne. Resumes: known probes and decided searches in this environment are reused.
import { Effect, Schema } from "effect"
import { dirname, resolve } from "node:path"
import { hashCell, repoRoot, type HashedCell } from "../cells.ts"
import { gitState, makeEnvironment } from "../env.ts"
import { loadGrid } from "../grid/load.ts"
import type { CellConfig, Measure } from "../grid/schema.ts"
import { hashJson } from "../hash.ts"
import { Ledger } from "../ledger/Ledger.ts"
import { markOrphansInterrupted, putCell, succeededKeys } from "../ledger/records.ts"
import type { Progress } from "../progress.ts"
import { cellRow, prepareGrid, recordGrid } from "../recorder.ts"
import { runOne } from "../scheduler.ts"
import { probeEnvironment } from "../trainer/probe.ts"
import { resolveBudget, type VramBudget, type VramBudgetInput } from "../vram/budget.ts"
import { nextProbe, type Bounds } from "./bisect.ts"
import { probeCell, probeMeasure, runProbe, type ProbeResult } from "./probe.ts"
import { decidedFrontier, knownProbe, putFrontier, putProbe } from "../ledger/fit.ts"

export class FitError extends Schema.TaggedError<FitError>()("FitError", { message: Schema.String }) {}

export type FitField = "batchSize" | "tokensPerStep"

/** What decides a search (and its id): the budget, the field, the fits rule, the probes' length, the bounds. */
export interface SearchOptions {
  /** Overrides every cell's vramBudget; null: each cell's own. */
  readonly budget: VramBudgetInput | null
  /** The micro-batch searched; null: tokensPerStep for packed cells, batchSize otherwise. */
  readonly field: FitField | null
  /** fits: no OOM and torch's peak allocation ≤ (1 − headroom) × the cap. */
  readonly headroom: number
  readonly probeSteps: number
  readonly max: number | null
  /** Lattice step of a tokensPerStep search (tokens). */
  readonly granularity: number
}

export interface FitOptions extends SearchOptions {
  readonly gridPath: string
  readonly overrides: ReadonlyArray<string>
  readonly python: string
  readonly samplerMode: "auto" | "nvml" | "smi" | "none"
  readonly stallTimeoutMs: number
  /** Run the normal measured run at each frontier. */
  readonly measure: boolean
  readonly log: (line: string) => void
  readonly progress: Progress
}

export interface Search {
  readonly cell: HashedCell
  readonly config: CellConfig
  readonly field: FitField
  readonly budget: VramBudget
  readonly bounds: Bounds
  readonly searchId: string
  readonly name: string
}

/** What to search for one cell, or what is wrong with it (before anything runs). */
export const planSearch = (cell: HashedCell, o: SearchOptions): Search | string => {
  const name = cell.label ?? (Object.keys(cell.axisValues).length > 0 ? JSON.stringify(cell.axisValues) : `cell ${cell.index}`)
  const input = o.budget ?? cell.config.vramBudget
  if (input === null)
    return `cell ${name}: no VRAM budget; pass --budget (a card such as rtx4060, or a size such as 8GiB) or set vramBudget`
  const budget = resolveBudget(input)
  if (typeof budget === "string") return `--budget ${JSON.stringify(input)}: expected ${budget}`
  const config = { ...cell.config, vramBudget: input }
  if (config.device === "cpu") return `cell ${name}: device cpu; a VRAM budget holds PyTorch's CUDA allocator (device auto or cuda)`
  const field = o.field ?? (config.padding === "packed" ? "tokensPerStep" : "batchSize")
  if (field === "batchSize" && config.tokensPerStep !== null) {
    return `cell ${name}: batchSize does not size its micro-batches (tokensPerStep ${config.tokensPerStep} does); search tokensPerStep`
  }
  const least = config.gradientAccumulationSteps * config.maxSeqLength
  const bounds: Bounds =
    field === "batchSize"
      ? { min: 1, max: o.max ?? 256, unit: 1, start: config.batchSize }
      : { min: least, max: o.max ?? 262_144, unit: o.granularity, start: config.tokensPerStep ?? least }
  if (bounds.max < bounds.min) return `--max ${bounds.max}: below the smallest ${field} of cell ${name} (${bounds.min})`
  const searchId = hashJson({
    config: { ...config, [field]: null },
    seed: cell.seed,
    trainer: cell.trainerDigest,
    dataset: cell.datasetDigest,
    field,
    bounds: { min: bounds.min, max: bounds.max, unit: bounds.unit },
    budget,
    headroom: o.headroom,
    probeSteps: o.probeSteps
  })
  return { cell, config, field, budget, bounds, searchId, name }
}

/** Every cell's search, or what is wrong with the cells, before anything runs. */
export const planSearches = (cells: ReadonlyArray<HashedCell>, o: SearchOptions, gridPath: string) => {
  const planned = cells.map((cell) => planSearch(cell, o))
  const problems = planned.filter((p): p is string => typeof p === "string")
  if (problems.length > 0) return Effect.fail(new FitError({ message: `cannot fit ${gridPath}:\n  ${problems.join("\n  ")}` }))
  // cells that differ only in the searched field are one search
  const seen = new Set<string>()
  return Effect.succeed((planned as Array<Search>).filter((s) => !seen.has(s.searchId) && seen.add(s.searchId)))
}

/** The normal measured cell at a frontier value (the grid's stop rule). */
export const frontierCell = (s: Search, frontier: number, measure: Measure): HashedCell => {
  const config = { ...s.config, [s.field]: frontier }
  const axisValues = { ...s.cell.axisValues, [s.field]: frontier, budget: s.budget.name }
  return hashCell(
    { ...s.cell, config, axisValues, label: `${s.cell.label ?? s.name} @ ${s.field} ${frontier} on ${s.budget.name}` },
    measure,
    s.cell.trainerDigest,
    s.cell.datasetDigest
  )
}

export const fitGrid = Effect.fnUntraced(function* (o: FitOptions) {
  const loaded = yield* loadGrid(o.gridPath, o.overrides)
  const prepared = prepareGrid(loaded)
  const searches = yield* planSearches(prepared.cells, o, o.gridPath)

  const facts = yield* probeEnvironment(o.python)
  const env = makeEnvironment(facts, gitState(repoRoot))
  const ledger = yield* Ledger
  yield* markOrphansInterrupted
  yield* recordGrid(env, prepared)
  const gridHash = prepared.grid.gridHash
  const baseDir = dirname(resolve(o.gridPath))
  const artifacts = resolve(dirname(resolve(ledger.path)), ".tunegrid")
  const measure = probeMeasure(o.probeSteps)
  const results: Array<{ name: string; frontier: number | null }> = []

  for (const s of searches) {
    const decided = yield* decidedFrontier(s.searchId, env.envHash)
    let frontier = decided?.frontier ?? null
    if (decided) {
      o.log(
        `${s.name}: already decided on ${s.budget.name}: ${s.field} ${frontier ?? "none"} (${decided.reason}; ${decided.probes} probes)`
      )
    } else {
      const outcomes = new Map<number, boolean>()
      const probeIds = new Map<number, string>()
      let stopped = false
      for (;;) {
        const next = nextProbe(outcomes, s.bounds)
        if ("done" in next) {
          frontier = next.frontier
          const measured = frontier === null ? null : frontierCell(s, frontier, loaded.expansion.measure)
          yield* putFrontier({
            searchId: s.searchId,
            envHash: env.envHash,
            gridHash,
            label: s.name,
            config: s.config,
            field: s.field,
            budget: s.budget,
            headroom: o.headroom,
            frontier,
            reason: next.reason,
            probes: outcomes.size,
            frontierProbeId: frontier === null ? null : (probeIds.get(frontier) ?? null),
            frontierCellHash: measured?.cellHash ?? null
          })
          o.log(
            `${s.name}: largest ${s.field} that fits on ${s.budget.name}: ${frontier ?? "none"} (${next.reason}; ${outcomes.size} probes)`
          )
          break
        }
        const config = { ...s.config, [s.field]: next.probe }
        const cell = probeCell(s.cell, config, measure)
        const known = yield* knownProbe(cell.cellHash, env.envHash)
        let result: Answer
        if (known) result = known
        else {
          const ran = yield* runProbe({ ...o, baseDir, dir: resolve(artifacts, "probes") }, cell, measure)
          yield* putProbe({
            ...ran,
            probeHash: cell.cellHash,
            searchId: s.searchId,
            envHash: env.envHash,
            gridHash,
            field: s.field,
            value: next.probe,
            capMib: s.budget.capMib,
            config
          })
          result = ran
        }
        const alloc = result.torchPeakAllocatedMib
        const fits = result.outcome === "completed" && alloc !== null && alloc <= (1 - o.headroom) * s.budget.capMib
        o.log(`${s.name}: probe ${s.field} ${next.probe}${known ? " (recorded)" : ""}: ${describe(result, fits, s.budget, o.headroom)}`)
        if (result.outcome !== "completed" && result.outcome !== "oom") {
          o.log(
            `${s.name}: search stopped: a probe ${result.outcome} without an answer about memory (${result.message ?? "no message"}); run fit again to retry`
          )
          stopped = true
          break
        }
        outcomes.set(next.probe, fits)
        probeIds.set(next.probe, result.probeId)
      }
      if (stopped) {
        results.push({ name: s.name, frontier: null })
        continue
      }
    }
    results.push({ name: s.name, frontier })
    if (frontier !== null && o.measure)
      yield* measureAt(o, s, frontier, env.envHash, gridHash, loaded.expansion.measure, baseDir, artifacts)
  }
  return { grid: loaded.def.name, results }
})

/** What a probe answered, run now or recorded before. */
type Answer = Pick<
  ProbeResult,
  "probeId" | "outcome" | "steps" | "torchPeakAllocatedMib" | "torchPeakReservedMib" | "outsideTorchMib" | "pagedMib" | "message"
>

const describe = (r: Answer, fits: boolean, b: VramBudget, headroom: number) => {
  if (r.outcome === "oom") return `out of memory under the ${b.capMib} MiB cap`
  if (r.outcome !== "completed") return `${r.outcome}: ${r.message ?? ""}`
  const mib = (v: number | null) => (v === null ? "?" : Math.round(v).toLocaleString("en-US"))
  return (
    `${fits ? "fits" : `over the ${Math.round(100 * headroom)}% headroom`}: torch peak ${mib(r.torchPeakAllocatedMib)} MiB allocated, ` +
    `${mib(r.torchPeakReservedMib)} reserved of the ${b.capMib} MiB cap; outside PyTorch ${mib(r.outsideTorchMib)} MiB, paged optimizer state ${mib(r.pagedMib)} MiB (not held)`
  )
}

/** The normal measured run at the frontier (the grid's own stop rule), unless done in this environment. */
const measureAt = (
  o: FitOptions,
  s: Search,
  frontier: number,
  envHash: string,
  gridHash: string,
  measure: Measure,
  baseDir: string,
  artifacts: string
) =>
  Effect.gen(function* () {
    const cell = frontierCell(s, frontier, measure)
    yield* putCell(cellRow(cell, measure))
    if ((yield* succeededKeys(envHash)).has(`${cell.cellHash}#0`)) {
      o.log(`${s.name}: the run at ${s.field} ${frontier} on ${s.budget.name} is already measured`)
      return
    }
    yield* runOne({
      ...o,
      baseDir,
      cell,
      repeat: 0,
      sentinel: null,
      position: s.name,
      envHash,
      gridHash,
      measure,
      artifacts: resolve(artifacts, "runs")
    })
  })
