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

-- The reference study's Table 1: time, tokens, throughput, T10k and VRAM peak per run, with
-- the 95% CI of tok/s (and the T10k interval it gives), memory three ways and the headroom,
-- MFU/HFU, the warm-up cut and how it was found, and whether the window was steady (and why not).
CREATE OR REPLACE VIEW table1 AS
SELECT
  grid, coalesce(label, CAST(axis_values AS VARCHAR)) AS cell, left(run_id, 8) AS run,
  status, round(wall_seconds, 1) AS wall_s, tokens_window AS tokens, round(tok_s, 1) AS tok_s,
  round(100 * tok_s_ci_rel, 2) AS tok_s_ci_pct,
  round(t10k_s, 2) AS t10k_s,
  CASE WHEN t10k_ci_low_s IS NOT NULL THEN printf('%.2f–%s', t10k_ci_low_s, coalesce(printf('%.2f', t10k_ci_high_s), '∞')) END AS t10k_ci_s,
  round(coalesce(vram_peak_mib, torch_peak_reserved_mib), 0) AS vram_peak_mib,
  CASE WHEN vram_peak_mib IS NOT NULL THEN 'nvml' WHEN torch_peak_reserved_mib IS NOT NULL THEN 'torch_reserved' END AS vram_method,
  round(torch_peak_allocated_mib, 0) AS torch_alloc_mib, round(torch_peak_reserved_mib, 0) AS torch_reserved_mib,
  round(vram_headroom_mib, 0) AS headroom_mib,
  round(100 * mfu, 1) AS mfu_pct, round(100 * hfu, 1) AS hfu_pct,
  steady, warmup_steps, window_steps,
  round(warmup_seconds, 1) AS warmup_s, warmup_method, round(window_seconds, 1) AS window_s, window_method,
  sentinel_drift, steady_reason
FROM run_summary
WHERE status = 'succeeded'
ORDER BY started_at;

-- The reference study's Table 2: energy per token, measured (with its method) beside its
-- 95 W / 115 W board-power estimates; above idle; the counter vs integrated-power cross-check;
-- and the clocks and throttling seen while the window ran.
CREATE OR REPLACE VIEW table2 AS
SELECT
  grid, coalesce(label, CAST(axis_values AS VARCHAR)) AS cell, left(run_id, 8) AS run,
  round(window_seconds, 1) AS window_s, tokens_window AS tokens,
  round(energy_j, 1) AS energy_j, energy_method, round(mean_power_w, 1) AS mean_power_w,
  j_per_token, j_per_token_est_95, j_per_token_est_115,
  round(idle_power_w, 1) AS idle_power_w, j_per_token_above_idle,
  round(100 * (energy_counter_j - energy_integrated_j) / nullif(energy_integrated_j, 0), 2) AS counter_vs_integrated_pct,
  round(sm_clock_mean_mhz, 0) AS sm_clock_mhz, round(100 * throttled_fraction, 1) AS throttled_pct
FROM run_summary
WHERE status = 'succeeded'
ORDER BY started_at;

-- Failures and their reasons, newest first.
CREATE OR REPLACE VIEW failures AS
SELECT run_id, grid, cell_hash, label, axis_values, status, error_kind, error_message, started_at
FROM run_summary
WHERE status IN ('failed', 'interrupted')
ORDER BY started_at DESC;
