-- VRAM budgets and the fit frontier (issue #17). Applied on every open after views.sql.

-- Every run of a cell with a VRAM budget: the budget (card, usable memory, the stated CUDA-context
-- allowance, the cap on PyTorch's allocator), what the cap held (torch peaks), what it could not
-- (memory outside PyTorch's allocator: the CUDA context and libraries, measured by NVML for this
-- process; bitsandbytes' paged optimizer state, by the trainer's accounting), whether the whole
-- would fit the card, and the tok/s, which is the measuring GPU's, not the budget card's.
CREATE OR REPLACE VIEW budget_runs AS
WITH m AS (
  SELECT run_id, arg_max(budget_name, t) AS budget, arg_max(usable_mib, t) AS usable_mib,
    arg_max(context_allowance_mib, t) AS context_allowance_mib, arg_max(cap_mib, t) AS cap_mib,
    max(torch_peak_allocated_mib) AS torch_peak_allocated_mib, max(torch_peak_reserved_mib) AS torch_peak_reserved_mib,
    max(outside_torch_mib) AS outside_torch_mib, arg_max(context_mib, t) AS context_mib, max(paged_mib) AS paged_mib
  FROM run_memory GROUP BY run_id
)
SELECT s.grid, s.cell, left(s.run_id, 8) AS run, s.status, s.error_kind,
  coalesce(m.budget, CAST(c.config->'$.vramBudget' AS VARCHAR)) AS budget,
  m.usable_mib, m.context_allowance_mib, m.cap_mib,
  round(m.torch_peak_allocated_mib, 0) AS torch_alloc_mib, round(m.torch_peak_reserved_mib, 0) AS torch_reserved_mib,
  round(m.outside_torch_mib, 0) AS outside_torch_mib, round(m.context_mib, 0) AS context_mib, round(m.paged_mib, 0) AS paged_mib,
  round(m.torch_peak_reserved_mib + coalesce(m.outside_torch_mib, m.context_allowance_mib), 0) AS on_card_mib,
  m.torch_peak_reserved_mib + coalesce(m.outside_torch_mib, m.context_allowance_mib) <= m.usable_mib AS fits_card,
  CASE WHEN m.run_id IS NULL THEN NULL ELSE
    'held to the cap: PyTorch''s allocator (weights, activations, gradients, optimizer state in torch tensors); '
    || 'not held: ' || CASE WHEN m.outside_torch_mib IS NULL THEN 'the CUDA context (allowance assumed, not measured here)'
         ELSE 'CUDA context and non-PyTorch memory (measured)' END
    || CASE WHEN m.paged_mib > 0 THEN ', bitsandbytes paged optimizer state (unified memory, pageable to the host)' ELSE '' END
  END AS held,
  round(s.tok_s, 1) AS tok_s, round(100 * s.tok_s_ci_rel, 2) AS tok_s_ci_pct, s.gpu_name AS measured_on,
  s.error_message
FROM run_summary s
JOIN cells c USING (cell_hash)
LEFT JOIN m USING (run_id)
WHERE (c.config->>'$.vramBudget') IS NOT NULL AND s.status IN ('succeeded', 'failed')
ORDER BY s.started_at;

-- One row per finished fit search (tunegrid fit): per configuration and budget, the largest
-- micro-batch that fits (no OOM under the cap, torch peak allocated ≤ (1 − headroom) × cap, on
-- the largest shapes the data produces), the memory of its probe, and the tok/s of the normal
-- measured run at the frontier (the measuring GPU's tok/s).
CREATE OR REPLACE VIEW fit_frontier AS
WITH f AS (
  SELECT *, row_number() OVER (PARTITION BY search_id, env_hash ORDER BY decided_at DESC) AS rn FROM fit_frontiers
),
run AS (
  SELECT cell_hash, env_hash, arg_max(run_id, ended_at) AS run_id FROM runs WHERE status = 'succeeded' GROUP BY cell_hash, env_hash
)
SELECT g.name AS grid, f.label AS cell, f.field, f.budget->>'$.name' AS budget, (f.budget->>'$.capMib')::DOUBLE AS cap_mib,
  f.headroom, f.frontier, f.reason, f.probes,
  round(p.torch_peak_allocated_mib, 0) AS torch_alloc_mib, round(p.torch_peak_reserved_mib, 0) AS torch_reserved_mib,
  round(p.outside_torch_mib, 0) AS outside_torch_mib, round(p.paged_mib, 0) AS paged_mib,
  round(s.tok_s, 1) AS tok_s, round(100 * s.tok_s_ci_rel, 2) AS tok_s_ci_pct, s.steady, s.gpu_name AS measured_on,
  left(run.run_id, 8) AS run, f.search_id, f.env_hash
FROM f
LEFT JOIN grids g USING (grid_hash)
LEFT JOIN fit_probes p ON p.probe_id = f.frontier_probe_id
LEFT JOIN run ON run.cell_hash = f.frontier_cell_hash AND run.env_hash = f.env_hash
LEFT JOIN run_summary s ON s.run_id = run.run_id
WHERE f.rn = 1
ORDER BY g.name, f.label, f.budget->>'$.name';
