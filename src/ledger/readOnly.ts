// Read-only access for the reading commands (report, runs, sql, export, plot): the ledger opened
// read-only for the length of one effect; while another tunegrid process writes it, read through
// that process's socket instead (readClient.ts); a clear refusal when there is no ledger there yet.
import { Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import { Ledger, LedgerError, openLedger } from "./Ledger.ts"
import { remoteLedger } from "./readClient.ts"

/** The file opened read-only or, when a writer holds its lock, that writer's answers; the lock
 * error as before when no writer answers (one that cannot make its socket). */
const openForReading = (path: string, fileAccess: boolean) =>
  openLedger(path, true, fileAccess).pipe(
    Effect.catchIf(
      (e) => e.locked === true,
      (locked) =>
        Effect.flatMap(remoteLedger(path, fileAccess), (remote) => (remote === null ? Effect.fail(locked) : Effect.succeed(remote)))
    )
  )

/** Provide a read-only ledger, failing clearly when the file does not exist yet. Without
 * fileAccess, queries cannot touch files or the network either (`sql`). */
export const withReadOnly = <A, E>(
  path: string,
  effect: Effect.Effect<A, E, Ledger>,
  fileAccess = true
): Effect.Effect<A, E | LedgerError> =>
  existsSync(path)
    ? effect.pipe(Effect.provide(Layer.effect(Ledger, openForReading(path, fileAccess))))
    : Effect.fail(new LedgerError({ path, message: `no ledger at ${path} (run a grid first, or pass --ledger <file>)` }))
