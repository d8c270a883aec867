// Writing a grid's published figures (cells' `reference`) into the ledger's cell_references, per
// grid version: live runs, plans and ingests all go through here (the rows: src/ledger/references.ts).
import { Effect } from "effect"
import type { HashedCell } from "../cells.ts"
import { insertReferences } from "../ledger/references.ts"

export const putReferences = (gridHash: string, cells: ReadonlyArray<HashedCell>) =>
  Effect.suspend(() => {
    const recordedAt = new Date().toISOString()
    return insertReferences(
      cells.flatMap((c) => (c.reference != null ? [{ cellHash: c.cellHash, gridHash, reference: c.reference, recordedAt }] : []))
    )
  })
