// The ledger's cell_references rows: a grid's published figures (cells' `reference`, #16) per
// grid version, written once (INSERT OR IGNORE) by live runs, plans and ingests alike.
import { Effect } from "effect"
import { Ledger, type LedgerError } from "./Ledger.ts"

export interface ReferenceRow {
  readonly cellHash: string
  readonly gridHash: string
  /** The reference as the grid gave it (stored as JSON). */
  readonly reference: unknown
  /** ISO 8601, UTC */
  readonly recordedAt: string
}

export const insertReferences = (rows: ReadonlyArray<ReferenceRow>): Effect.Effect<void, LedgerError, Ledger> =>
  Effect.flatMap(Ledger, (l) =>
    Effect.forEach(
      rows,
      (r) =>
        l.exec(`INSERT OR IGNORE INTO cell_references (cell_hash, grid_hash, reference, recorded_at) VALUES ($1, $2, $3, $4::TIMESTAMP)`, [
          r.cellHash,
          r.gridHash,
          JSON.stringify(r.reference),
          r.recordedAt
        ]),
      { discard: true }
    )
  )
