-- The one place a run's figures are computed: from its steps and samples, for live and ingested
-- runs alike. Parameter $1 = run_id. Energy over the steady window: NVML counter interpolated at
-- the window's ends (method counter); trapezoid-integrated power (integrated) as cross-check.
INSERT OR REPLACE INTO results BY NAME
WITH
  st AS (SELECT * FROM steps WHERE run_id = $1),
  win AS (SELECT * FROM st WHERE phase = 'window'),
  b AS (
    SELECT
      (SELECT min(t_start) FROM st) AS t0,
      (SELECT max(t_end) FROM st) AS t_last,
      min(t_start) AS w0, max(t_end) AS w1,
      count(*) AS n, sum(tokens) AS tok, sum(padded_tokens) AS ptok
    FROM win
  ),
  -- a sampler that stopped early saw only part of the run: its peak and energy would understate,
  -- so none of its samples count (runs.sampler_error says why the figures are missing)
  sm AS (SELECT * FROM samples WHERE run_id = $1 AND (SELECT sampler_error FROM runs WHERE run_id = $1) IS NULL),
  -- energy counter at time x by linear interpolation between the samples around it
  e0 AS (
    SELECT
      (SELECT arg_max(struct_pack(t := t, e := energy_mj), t) FROM sm, b WHERE energy_mj IS NOT NULL AND sm.t <= b.w0) AS lo,
      (SELECT arg_min(struct_pack(t := t, e := energy_mj), t) FROM sm, b WHERE energy_mj IS NOT NULL AND sm.t >= b.w0) AS hi
  ),
  e1 AS (
    SELECT
      (SELECT arg_max(struct_pack(t := t, e := energy_mj), t) FROM sm, b WHERE energy_mj IS NOT NULL AND sm.t <= b.w1) AS lo,
      (SELECT arg_min(struct_pack(t := t, e := energy_mj), t) FROM sm, b WHERE energy_mj IS NOT NULL AND sm.t >= b.w1) AS hi
  ),
  counter AS (
    SELECT
      CASE WHEN e0.lo IS NULL OR e0.hi IS NULL OR e1.lo IS NULL OR e1.hi IS NULL THEN NULL
      ELSE (
        (CASE WHEN e1.hi.t = e1.lo.t THEN e1.lo.e ELSE e1.lo.e + (e1.hi.e - e1.lo.e) * (b.w1 - e1.lo.t) / (e1.hi.t - e1.lo.t) END)
        - (CASE WHEN e0.hi.t = e0.lo.t THEN e0.lo.e ELSE e0.lo.e + (e0.hi.e - e0.lo.e) * (b.w0 - e0.lo.t) / (e0.hi.t - e0.lo.t) END)
      ) / 1000.0 END AS joules
    FROM e0, e1, b
  ),
  pairs AS (
    SELECT t AS ta, power_w AS pa, lead(t) OVER (ORDER BY t) AS tb, lead(power_w) OVER (ORDER BY t) AS pb
    FROM sm WHERE power_w IS NOT NULL
  ),
  integrated AS (
    SELECT
      CASE WHEN (SELECT min(t) FROM sm WHERE power_w IS NOT NULL) <= b.w0
            AND (SELECT max(t) FROM sm WHERE power_w IS NOT NULL) >= b.w1
      THEN (
        SELECT sum((pa + pb) / 2.0 * greatest(0.0, least(tb, b.w1) - greatest(ta, b.w0)))
        FROM pairs WHERE tb IS NOT NULL AND tb > b.w0 AND ta < b.w1
      ) END AS joules
    FROM b
  ),
  peaks AS (
    SELECT
      (SELECT max(mem_used_mib) FROM sm) AS nvml_peak,
      max(mem_peak_allocated_mib) AS alloc_peak,
      max(mem_peak_reserved_mib) AS reserved_peak,
      count(*) AS steps_total,
      sum(tokens) AS tokens_total,
      sum(padded_tokens) AS padded_total,
      arg_min(loss, step) AS loss_first,
      arg_max(loss, step) AS loss_last,
      count(*) FILTER (WHERE phase = 'warmup') AS warmup_steps
    FROM st
  ),
  r AS (SELECT * FROM runs WHERE run_id = $1)
SELECT
  r.run_id,
  r.cell_hash,
  r.env_hash,
  coalesce(r.finish_reason = 'window_complete', false) AS steady,
  peaks.steps_total,
  peaks.warmup_steps,
  b.w0 - b.t0 AS warmup_seconds,
  b.n AS window_steps,
  b.w1 - b.w0 AS window_seconds,
  b.t_last - b.t0 AS wall_seconds,
  peaks.tokens_total,
  peaks.padded_total AS padded_tokens_total,
  b.tok AS tokens_window,
  b.ptok AS padded_tokens_window,
  b.tok / nullif(b.w1 - b.w0, 0) AS tok_s,
  b.ptok / nullif(b.w1 - b.w0, 0) AS padded_tok_s,
  10000.0 / nullif(b.tok / nullif(b.w1 - b.w0, 0), 0) AS t10k_s,
  peaks.nvml_peak AS vram_peak_mib,
  peaks.alloc_peak AS torch_peak_allocated_mib,
  peaks.reserved_peak AS torch_peak_reserved_mib,
  coalesce(counter.joules, integrated.joules) AS energy_j,
  CASE WHEN counter.joules IS NOT NULL THEN 'counter' WHEN integrated.joules IS NOT NULL THEN 'integrated' END AS energy_method,
  counter.joules AS energy_counter_j,
  integrated.joules AS energy_integrated_j,
  coalesce(counter.joules, integrated.joules) / nullif(b.w1 - b.w0, 0) AS mean_power_w,
  coalesce(counter.joules, integrated.joules) / nullif(b.tok, 0) AS j_per_token,
  95.0 * (b.w1 - b.w0) / nullif(b.tok, 0) AS j_per_token_est_95,
  115.0 * (b.w1 - b.w0) / nullif(b.tok, 0) AS j_per_token_est_115,
  peaks.loss_first,
  peaks.loss_last,
  (r.model_facts->>'$.flops_per_token')::DOUBLE AS flops_per_token,
  current_timestamp AS computed_at
FROM r, b, peaks, counter, integrated;
