// The report's VRAM sections (issue #17): runs held to a card's budget, what the cap held and what
// it could not (ledger view budget_runs), and per configuration the largest micro-batch that fits
// on each budget with the tok/s measured there (fit_frontier). Empty without budgets.
import { Effect } from "effect"
import { Ledger } from "../ledger/Ledger.ts"
import { hasView, type ReportSection } from "../references/report.ts"

export const fitSections = Effect.gen(function*() {
  const l = yield* Ledger
  if (!(yield* hasView("budget_runs"))) return []
  const budgets = yield* l.rowsJson(`
    SELECT cell, run, status, budget, cap_mib, torch_alloc_mib, torch_reserved_mib, outside_torch_mib, paged_mib, on_card_mib, usable_mib,
      fits_card, tok_s, tok_s_ci_pct, measured_on, held, CASE WHEN status = 'failed' THEN error_message END AS error
    FROM budget_runs`)
  const frontier = yield* l.rowsJson(`
    SELECT budget, cell, field, frontier, reason, headroom, cap_mib, torch_alloc_mib, torch_reserved_mib, outside_torch_mib, paged_mib,
      tok_s, tok_s_ci_pct, steady, measured_on, probes, run
    FROM fit_frontier`)
  const onBudgets = [...new Set(frontier.rows.map((r) => String(r.budget)))].join(", ")
  const sections: Array<ReportSection> = [
    {
      key: "vram_budgets",
      title: "VRAM budgets — memory measured under each card's cap (held: PyTorch's allocator; not held, measured beside it: " +
        "the CUDA context and other memory outside PyTorch, bitsandbytes' paged optimizer state); tok/s is the measuring GPU's",
      table: budgets
    },
    {
      key: "fit_frontier",
      title: `Largest that fits on ${onBudgets} — per configuration, the largest micro-batch with no OOM under the cap and torch's ` +
        "peak allocation within the headroom, on the largest shapes the data produces; tok/s measured at it on the measuring GPU",
      table: frontier
    }
  ]
  return sections.filter((s) => s.table.rows.length > 0)
})
