// `tunegrid fit <grid> --plan <dir>`: the fit searches of a grid for a machine with Python but no
// Node (PROTOCOL.md §4b). fit.json holds per search its bounds and budget and two spec templates
// (a probe, the measured run) that `python -m tunegrid_trainer.fit` fills in with the values its
// search picks; `tunegrid ingest` records the probes, the decisions and the measured runs.
import { Effect } from "effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { offlineTokenizerDir, toSpec, type HashedCell } from "../cells.ts"
import { loadGrid, type LoadedGrid } from "../grid/load.ts"
import type { Measure } from "../grid/schema.ts"
import type { GridRow } from "../ledger/records.ts"
import { prepareGrid, type PreparedGrid } from "../recorder.ts"
import type { VramBudget } from "../vram/budget.ts"
import type { Bounds } from "./bisect.ts"
import { frontierCell, planSearches, type Search, type SearchOptions } from "./fit.ts"
import { probeCell, probeMeasure } from "./probe.ts"

export interface PlannedSearch {
  readonly search_id: string
  readonly name: string
  readonly field: Search["field"]
  /** The spec key the Python side sets to each value. */
  readonly spec_key: "batch_size" | "tokens_per_step"
  readonly bounds: Bounds
  readonly budget: VramBudget
  /** The searched cell with its budget (ingest hashes probes and the frontier cell from it). */
  readonly cell: HashedCell
  readonly probe_spec: unknown
  readonly frontier_spec: unknown
}

export interface FitPlan {
  readonly version: 1
  readonly grid: GridRow
  /** The grid's stop rule, for the measured runs at the frontiers. */
  readonly measure: Measure
  readonly headroom: number
  readonly probe_steps: number
  readonly searches: ReadonlyArray<PlannedSearch>
}

export const fitPlanFile = (dir: string) => join(dir, "fit.json")
export const isFitDir = (dir: string) => existsSync(fitPlanFile(dir))

export const writeFitPlan = (
  loaded: LoadedGrid,
  prepared: PreparedGrid,
  searches: ReadonlyArray<Search>,
  o: SearchOptions,
  out: string,
  tokenizerDir: string | null
): FitPlan => {
  const paths = { baseDir: dirname(loaded.file), tokenizerDir: tokenizerDir ?? offlineTokenizerDir() }
  const measure = probeMeasure(o.probeSteps)
  const plan: FitPlan = {
    version: 1,
    grid: prepared.grid,
    measure: loaded.expansion.measure,
    headroom: o.headroom,
    probe_steps: o.probeSteps,
    searches: searches.map((s) => {
      const start = { ...s.config, [s.field]: s.bounds.start }
      const probe = probeCell(s.cell, start, measure)
      const frontier = frontierCell(s, s.bounds.start, loaded.expansion.measure)
      return {
        search_id: s.searchId,
        name: s.name,
        field: s.field,
        spec_key: s.field === "batchSize" ? "batch_size" : "tokens_per_step",
        bounds: s.bounds,
        budget: s.budget,
        cell: { ...s.cell, config: s.config },
        probe_spec: { ...toSpec(probe, measure, "", paths), probe: true },
        frontier_spec: toSpec(frontier, loaded.expansion.measure, "", paths)
      }
    })
  }
  mkdirSync(out, { recursive: true })
  writeFileSync(fitPlanFile(out), JSON.stringify(plan, null, 2))
  // the grid's manifest beside it (no runs planned): the batch machinery copies it with env.json
  writeFileSync(
    join(out, "manifest.json"),
    JSON.stringify({ grid: prepared.grid, measure: loaded.expansion.measure, cells: [], runs: [] }, null, 2)
  )
  return plan
}

/** Load a grid, plan its searches (refusing bad cells before anything is written) and write the plan. */
export const planFit = Effect.fnUntraced(function* (
  gridPath: string,
  overrides: ReadonlyArray<string>,
  o: SearchOptions,
  out: string,
  tokenizerDir: string | null
) {
  const loaded = yield* loadGrid(gridPath, overrides)
  const prepared = prepareGrid(loaded)
  const searches = yield* planSearches(prepared.cells, o, gridPath)
  return writeFitPlan(loaded, prepared, searches, o, out, tokenizerDir)
})
