// Which pool slot (and GPU) ran a run, for runs of a local pool (`run --slots`, `--gpus`): one
// row per such run in run_slots; runs of a plain `run` have none. And where a pool numbers its
// slots' sentinel runs from.
import { Effect } from "effect"
import type { Slot } from "../slots.ts"
import { Ledger } from "./Ledger.ts"

export const recordSlot = (runId: string, slot: Slot) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(`INSERT INTO run_slots (run_id, slot, gpu_index, gpu_uuid) VALUES ($1, $2, $3, $4)`, [
      runId,
      slot.name,
      slot.gpu?.index ?? null,
      slot.gpu?.uuid ?? null
    ])
  )

/** The highest sentinel occurrence recorded for this grid in this environment, -1 when none: a
 * pool numbers its slots' sentinel runs after it (src/pool.ts), so no two share a repeat. */
export const lastSentinel = (gridHash: string, envHash: string) =>
  Effect.flatMap(Ledger, (l) =>
    l.rows(`SELECT max(sentinel)::INTEGER AS m FROM runs WHERE grid_hash = $1 AND env_hash = $2`, [gridHash, envHash])
  ).pipe(Effect.map((rows) => ((rows[0]?.m ?? null) === null ? -1 : Number(rows[0]!.m))))
