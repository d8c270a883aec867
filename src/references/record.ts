// Writing a grid's published figures (cells' `reference`) into the ledger's cell_references, per
// grid version: live runs, plans and ingests all go through here.
import { Effect } from "effect"
import type { HashedCell } from "../cells.ts"
import { Ledger } from "../ledger/Ledger.ts"

export const putReferences = (gridHash: string, cells: ReadonlyArray<HashedCell>) =>
  Effect.flatMap(Ledger, (l) =>
    Effect.forEach(cells.filter((c) => c.reference != null), (c) =>
      l.exec(
        `INSERT OR IGNORE INTO cell_references (cell_hash, grid_hash, reference, recorded_at) VALUES ($1, $2, $3, $4::TIMESTAMP)`,
        [c.cellHash, gridHash, JSON.stringify(c.reference), new Date().toISOString()]
      ), { discard: true }))
