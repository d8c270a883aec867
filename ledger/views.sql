-- Views over the ledger. Applied on every open (CREATE OR REPLACE), after schema.sql.

-- Every run with its cell, grid, environment and result in one row.
CREATE OR REPLACE VIEW run_summary AS
SELECT
  r.run_id, r.cell_hash, r.env_hash, r.grid_hash, g.name AS grid, c.label, c.axis_values,
  r.seed, r.repeat, r.status, r.origin, r.finish_reason, r.error_kind, r.error_message,
  r.started_at, r.ended_at, r.rerun_of,
  c.config->>'$.model' AS model, c.config->>'$.method' AS method, c.config->>'$.precision' AS precision,
  c.config->>'$.optim' AS optim, (c.config->>'$.batchSize')::INTEGER AS batch_size,
  (c.config->>'$.maxSeqLength')::INTEGER AS max_seq_length,
  e.gpu_name, res.* EXCLUDE (run_id, cell_hash, env_hash, computed_at)
FROM runs r
LEFT JOIN cells c USING (cell_hash)
LEFT JOIN grids g USING (grid_hash)
LEFT JOIN environments e USING (env_hash)
LEFT JOIN results res USING (run_id);

-- The reference study's Table 1: time, tokens, throughput, T10k and VRAM peak per run.
CREATE OR REPLACE VIEW table1 AS
SELECT
  grid, coalesce(label, CAST(axis_values AS VARCHAR)) AS cell, left(run_id, 8) AS run,
  status, round(wall_seconds, 1) AS wall_s, tokens_window AS tokens, round(tok_s, 1) AS tok_s,
  round(t10k_s, 2) AS t10k_s,
  round(coalesce(vram_peak_mib, torch_peak_reserved_mib), 0) AS vram_peak_mib,
  CASE WHEN vram_peak_mib IS NOT NULL THEN 'nvml' WHEN torch_peak_reserved_mib IS NOT NULL THEN 'torch_reserved' END AS vram_method,
  steady, warmup_steps, window_steps
FROM run_summary
WHERE status = 'succeeded'
ORDER BY started_at;

-- The reference study's Table 2: energy per token, measured (with its method) beside its
-- 95 W / 115 W board-power estimates.
CREATE OR REPLACE VIEW table2 AS
SELECT
  grid, coalesce(label, CAST(axis_values AS VARCHAR)) AS cell, left(run_id, 8) AS run,
  round(window_seconds, 1) AS window_s, tokens_window AS tokens,
  round(energy_j, 1) AS energy_j, energy_method, round(mean_power_w, 1) AS mean_power_w,
  j_per_token, j_per_token_est_95, j_per_token_est_115
FROM run_summary
WHERE status = 'succeeded'
ORDER BY started_at;

-- Failures and their reasons, newest first.
CREATE OR REPLACE VIEW failures AS
SELECT run_id, grid, cell_hash, label, axis_values, status, error_kind, error_message, started_at
FROM run_summary
WHERE status IN ('failed', 'interrupted')
ORDER BY started_at DESC;
