// Read-only access for the reading commands (report, runs, sql, export, plot): the ledger opened
// read-only for the length of one effect, or a clear refusal when there is no ledger there yet.
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { Ledger, LedgerError } from "./Ledger.ts"

/** Provide a read-only ledger, failing clearly when the file does not exist yet. Without
 * fileAccess, queries cannot touch files or the network either (`sql`). */
export const withReadOnly = <A, E>(path: string, effect: Effect.Effect<A, E, Ledger>, fileAccess = true): Effect.Effect<A, E | LedgerError> =>
  existsSync(path)
    ? effect.pipe(Effect.provide(Ledger.layerReadOnly(path, fileAccess)))
    : Effect.fail(new LedgerError({ path, message: `no ledger at ${path} (run a grid first, or pass --ledger <file>)` }))
