// Small reads about what the ledger already holds, for the commands that add to it or filter
// by it: run ids (ingest skips them), run statuses (Slurm resubmits what did not succeed), fit
// probe ids, and the grid names (--grid refuses one the ledger lacks).
import { Effect } from "effect"
import { str } from "./decode.ts"
import { Ledger, type LedgerError } from "./Ledger.ts"

const column = (sql: string, name: string): Effect.Effect<Array<string>, LedgerError, Ledger> =>
  Effect.map(Effect.flatMap(Ledger, (l) => l.rows(sql)), (rows) => rows.map((r) => str(r[name])))

/** Every run id in the ledger. */
export const runIds: Effect.Effect<Set<string>, LedgerError, Ledger> = Effect.map(column(`SELECT run_id FROM runs`, "run_id"), (ids) => new Set(ids))

/** Every run's status by run id. */
export const runStatuses: Effect.Effect<Map<string, string>, LedgerError, Ledger> = Effect.map(
  Effect.flatMap(Ledger, (l) => l.rows(`SELECT run_id, status FROM runs`)),
  (rows) => new Map(rows.map((r) => [str(r.run_id), str(r.status)]))
)

/** The grid names in the ledger, for refusing an unknown --grid with the list of known ones. */
export const gridNames: Effect.Effect<Array<string>, LedgerError, Ledger> = column(`SELECT DISTINCT name FROM grids ORDER BY name`, "name")
