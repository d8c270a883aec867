// Setting up a grid in the ledger (environment, grid, cells) and recording one run's events,
// for both paths: live (events from the processes) and ingest (events from JSON-lines files).
import { Effect } from "effect"
import { dirname } from "node:path"
import { datasetDigest, hashCell, scriptInput, trainerDigest, type HashedCell } from "./cells.ts"
import type { Environment } from "./env.ts"
import type { LoadedGrid } from "./grid/load.ts"
import { hashJson, sha256 } from "./hash.ts"
import { Ledger } from "./ledger/Ledger.ts"
import { cellInserts, environmentInsert, gridInsert, type GridRow } from "./ledger/records.ts"
import { putReferences } from "./references/record.ts"

export interface PreparedGrid {
  readonly grid: GridRow
  readonly cells: ReadonlyArray<HashedCell>
}

/** Hash every cell of a loaded grid (trainer sources and datasets read now). */
export const prepareGrid = (loaded: LoadedGrid): PreparedGrid => {
  const trainer = trainerDigest()
  const baseDir = dirname(loaded.file)
  const cells = loaded.expansion.cells.map((cell) =>
    hashCell(cell, loaded.expansion.measure, trainer, datasetDigest(cell.config, baseDir), scriptInput(cell.config, baseDir))
  )
  const grid: GridRow = {
    gridHash: hashJson({ source: sha256(loaded.sourceText), definition: loaded.def, overrides: loaded.overrides }),
    name: loaded.def.name,
    description: loaded.def.description ?? null,
    sourcePath: loaded.file,
    sourceText: loaded.sourceText,
    sourceHash: sha256(loaded.sourceText),
    definition: loaded.def,
    overrides: loaded.overrides,
    measure: loaded.expansion.measure
  }
  return { grid, cells }
}

export const cellRow = (cell: HashedCell, measure: unknown) => ({
  cellHash: cell.cellHash,
  label: cell.label,
  config: cell.config,
  seed: cell.seed,
  measure,
  axisValues: cell.axisValues,
  trainerDigest: cell.trainerDigest,
  datasetDigest: cell.datasetDigest,
  script: cell.script ?? null
})

/** The environment, the grid and its cells in one transaction (a grid row never lacks its cells),
 * the cells a few hundred to a statement. */
export const recordGrid = (env: Environment, prepared: PreparedGrid) =>
  Effect.flatMap(Ledger, (l) =>
    l.batch([
      environmentInsert(env),
      gridInsert(prepared.grid),
      ...cellInserts(prepared.cells.map((cell) => cellRow(cell, prepared.grid.measure)))
    ])
  ).pipe(Effect.andThen(putReferences(prepared.grid.gridHash, prepared.cells)))
