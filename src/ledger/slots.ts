// Which pool slot (and GPU) ran a run, for runs of a local pool (`run --slots`, `--gpus`): one
// row per such run in run_slots; runs of a plain `run` have none.
import { Effect } from "effect"
import type { Slot } from "../slots.ts"
import { Ledger } from "./Ledger.ts"

export const recordSlot = (runId: string, slot: Slot) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(`INSERT INTO run_slots (run_id, slot, gpu_index, gpu_uuid) VALUES ($1, $2, $3, $4)`, [runId, slot.name, slot.gpu?.index ?? null, slot.gpu?.uuid ?? null]))
