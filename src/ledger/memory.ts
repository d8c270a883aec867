// A budgeted run's `memory` events (VRAM budgets, issue #17) into `run_memory`: the budget as the
// trainer applied it, what PyTorch's allocator held under it, and what it could not hold.
import { Effect } from "effect"
import type { Memory } from "../protocol.ts"
import { Ledger } from "./Ledger.ts"

export const recordMemory = (runId: string, e: Memory) =>
  Effect.flatMap(Ledger, (l) =>
    l.exec(`INSERT INTO run_memory VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, [
      runId,
      e.step,
      e.budget.name,
      e.budget.usable_mib,
      e.budget.context_mib,
      e.budget.cap_mib,
      e.cap_applied_mib,
      e.device_total_mib,
      e.torch_peak_allocated_mib,
      e.torch_peak_reserved_mib,
      e.outside_torch_mib,
      e.context_mib,
      e.paged_mib,
      e.t
    ])
  )
