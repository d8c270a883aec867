// The report's VRAM sections (issue #17; src/report/sections.ts lists them): runs held to a card's
// budget, what the cap held and what it could not (ledger view budget_runs), and per configuration
// the largest micro-batch that fits on each budget with the tok/s measured there (fit_frontier).
import { viewSection } from "../report/section.ts"

export const vramBudgets = viewSection(
  "vram_budgets",
  "budget_runs",
  () =>
    "VRAM budgets: memory measured under each card's cap (held: PyTorch's allocator; not held, measured beside it: " +
    "the CUDA context and other memory outside PyTorch, bitsandbytes' paged optimizer state); tok/s is the measuring GPU's"
)

export const fitFrontier = viewSection(
  "fit_frontier",
  "fit_frontier",
  (t) =>
    `Largest that fits on ${[...new Set(t.rows.map((r) => String(r.budget)))].join(", ")}: per configuration, the largest micro-batch with no OOM under the cap and torch's ` +
    "peak allocation within the headroom, on the largest shapes the data produces; tok/s measured at it on the measuring GPU"
)
