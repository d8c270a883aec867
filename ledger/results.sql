-- The one place a run's figures are computed: from its steps and samples, for live and ingested
-- runs alike. Parameter $1 = run_id. Each figure's method is stored beside it.
--
-- Warm-up cut: the trainer's phase column (fixed steps/seconds), or, when the cell's measure says
-- warmup.detect, MSER-5 on the per-step token rate clamped to [floor, cap] (the floor is the
-- steps the trainer marked warmup; the cap is the steps starting before t0 + capSeconds).
-- Steady window: the steps after the cut. tok/s = real tokens / window wall time; its 95% CI
-- by batch means of the ratio estimator (k = clamp(⌊√w⌋, 2, 20) batches, Student t, k−1 df).
-- trainer/tunegrid_trainer/stop.py decides when to stop with the same two definitions;
-- test/ledger/results.test.ts and trainer/tests/test_stop.py hold both to the same numbers.
-- Energy over the window: NVML counter interpolated at the window's ends (method counter);
-- trapezoid-integrated power (integrated) as cross-check and fallback; 95 W / 115 W estimates.
INSERT OR REPLACE INTO results BY NAME
WITH
  r AS (SELECT * FROM runs WHERE run_id = $1),
  cfg AS (
    SELECT
      (m->'$.warmup.detect') IS NOT NULL AS detect,
      (m->>'$.warmup.detect.capSeconds')::DOUBLE AS cap_s,
      (m->>'$.ciTarget')::DOUBLE AS ci_target,
      CASE WHEN (m->'$.warmup.detect') IS NOT NULL THEN 'mser5' WHEN (m->'$.warmup.seconds') IS NOT NULL THEN 'seconds'
           WHEN (m->'$.warmup.steps') IS NOT NULL THEN 'steps' END AS warmup_method,
      CASE WHEN (m->'$.window.adaptive') IS NOT NULL THEN 'adaptive' WHEN (m->'$.window.seconds') IS NOT NULL THEN 'seconds'
           WHEN (m->'$.window.steps') IS NOT NULL THEN 'steps' END AS window_method
    FROM (SELECT (SELECT c.measure FROM cells c, r WHERE c.cell_hash = r.cell_hash) AS m)
  ),
  st AS (SELECT * FROM steps WHERE run_id = $1),
  -- the series the stop rule saw (steps after a completed window are not part of it)
  ser AS (SELECT * FROM st WHERE phase <> 'after'),
  counts AS (
    SELECT
      count(*) AS n,
      count(*) FILTER (WHERE phase = 'warmup') AS floor_n,
      count(*) FILTER (WHERE t_start < (SELECT min(t_start) FROM ser) + (SELECT cap_s FROM cfg)) AS cap_n,
      count(*) // 5 AS m
    FROM ser
  ),
  -- MSER-5: batch means of five per-step rates; drop the d ≤ m/2 first batches minimising
  -- Σ_{j≥d} (Z_j − Z̄_d)² / (m − d)² (smallest d on ties)
  z AS (
    SELECT step // 5 AS j, avg(tokens / greatest(t_end - t_start, 1e-9)) AS z
    FROM ser, counts WHERE step < 5 * counts.m GROUP BY 1
  ),
  zs AS (
    SELECT j, sum(z) OVER w AS s1, sum(z * z) OVER w AS s2, (counts.m - j)::DOUBLE AS cnt
    FROM z, counts
    WINDOW w AS (ORDER BY j DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ),
  mser AS (
    SELECT coalesce((
      SELECT 5 * j FROM zs, counts WHERE counts.m >= 2 AND j <= counts.m // 2
      ORDER BY (s2 - s1 * s1 / cnt) / (cnt * cnt), j LIMIT 1), 0) AS cut
  ),
  cut AS (
    SELECT CASE
      WHEN counts.floor_n >= counts.n THEN counts.n
      WHEN cfg.detect THEN least(greatest(mser.cut, counts.floor_n), counts.cap_n, counts.n)
      ELSE counts.floor_n END AS c
    FROM counts, cfg, mser
  ),
  -- the window; each step owns the wall time since the previous window step ended
  win AS (
    SELECT ser.*, row_number() OVER (ORDER BY step) - 1 AS p,
      t_end - coalesce(lag(t_end) OVER (ORDER BY step), t_start) AS d
    FROM ser, cut WHERE step >= cut.c
  ),
  b AS (
    SELECT
      (SELECT min(t_start) FROM st) AS t0,
      (SELECT max(t_end) FROM st) AS t_last,
      min(t_start) AS w0, max(t_end) AS w1,
      count(*) AS n, sum(tokens) AS tok, sum(padded_tokens) AS ptok,
      least(20, greatest(2, floor(sqrt(count(*)))))::BIGINT AS k
    FROM win
  ),
  batches AS (
    SELECT (win.p * b.k) // b.n AS bi, sum(win.tokens) AS tb, sum(win.d) AS db
    FROM win, b GROUP BY 1
  ),
  ci AS (
    SELECT CASE WHEN b.n >= 2 AND b.w1 > b.w0 THEN
      [12.7062047, 4.30265273, 3.18244631, 2.77644511, 2.57058184, 2.44691185, 2.36462425, 2.30600414,
       2.26215716, 2.22813885, 2.20098516, 2.17881283, 2.16036866, 2.14478669, 2.13144955, 2.11990530,
       2.10981558, 2.10092204, 2.09302405][b.k - 1]
      * sqrt((SELECT sum(power(tb - db * b.tok / (b.w1 - b.w0), 2)) FROM batches) / (b.k - 1) / b.k)
      / ((b.w1 - b.w0) / b.k)
    END AS half
    FROM b
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
  -- clocks and NVML clocks-event reasons while the window ran; "throttled" counts the slowdowns
  -- (SW power cap 0x4, HW slowdown 0x8, SW thermal 0x20, HW thermal 0x40, power brake 0x80 = 236),
  -- not idle (0x1) or application-clock settings (0x2)
  clocks AS (
    SELECT avg(sm_clock_mhz) AS clk_mean, min(sm_clock_mhz) AS clk_min, bit_or(throttle) AS reasons,
      avg(CASE WHEN throttle IS NULL THEN NULL WHEN (throttle & 236) <> 0 THEN 1.0 ELSE 0.0 END) AS throttled
    FROM sm, b WHERE sm.t >= b.w0 AND sm.t <= b.w1
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
      arg_max(loss, step) AS loss_last
    FROM st
  ),
  f AS (
    SELECT
      b.tok / nullif(b.w1 - b.w0, 0) AS tok_s,
      ci.half,
      ci.half / nullif(b.tok / nullif(b.w1 - b.w0, 0), 0) AS rel,
      coalesce(counter.joules, integrated.joules) AS energy,
      (r.model_facts->>'$.flops_per_token')::DOUBLE AS fpt,
      (r.model_facts->>'$.flops_per_token_hfu')::DOUBLE AS fpt_hfu,
      (r.model_facts->>'$.gpu_peak_tflops')::DOUBLE AS peak
    FROM r, b, ci, counter, integrated
  )
SELECT
  r.run_id,
  r.cell_hash,
  r.env_hash,
  -- steady: the window ran to its end with a CI within the target, and never wider than the
  -- sanity bound (views.sql ci_sanity_bound(), ±25%) even when the grid sets no target
  coalesce(r.finish_reason = 'window_complete', false)
    AND coalesce(f.rel <= ci_sanity_bound(), false)
    AND (cfg.ci_target IS NULL OR coalesce(f.rel <= cfg.ci_target, false)) AS steady,
  CASE
    WHEN r.finish_reason = 'window_complete' AND f.rel IS NULL THEN 'window too short for a confidence interval'
    WHEN r.finish_reason = 'window_complete' AND f.rel > cfg.ci_target
      THEN printf('CI ±%.2f%% wider than the ±%.2f%% target: the window was too short to be steady', 100 * f.rel, 100 * cfg.ci_target)
    WHEN r.finish_reason = 'window_complete' AND f.rel > ci_sanity_bound()
      THEN printf('unreliable: CI ±%.1f%% is wider than the ±%.0f%% sanity bound', 100 * f.rel, 100 * ci_sanity_bound())
    WHEN r.finish_reason = 'window_complete' AND cfg.ci_target IS NULL
      THEN printf('window complete (no CI target set; CI ±%.2f%%)', 100 * f.rel)
    WHEN r.finish_reason = 'window_complete'
      THEN printf('CI ±%.2f%% within the ±%.2f%% target', 100 * f.rel, 100 * cfg.ci_target)
    WHEN r.finish_reason IN ('max_steps', 'max_seconds')
      THEN printf('limit %s reached before the window was steady (CI %s)', r.finish_reason,
                  coalesce(printf('±%.2f%%', 100 * f.rel), 'none'))
    WHEN r.finish_reason = 'stop_requested' THEN 'stopped on request before the window was complete'
    ELSE coalesce(r.finish_reason, 'no finish reason')
  END || CASE WHEN f.rel > ci_sanity_bound() AND NOT (r.finish_reason = 'window_complete' AND coalesce(f.rel <= cfg.ci_target, true))
    THEN printf('; unreliable: wider than the ±%.0f%% sanity bound', 100 * ci_sanity_bound()) ELSE '' END AS steady_reason,
  cfg.warmup_method,
  cfg.window_method,
  cfg.ci_target,
  peaks.steps_total,
  cut.c AS warmup_steps,
  b.w0 - b.t0 AS warmup_seconds,
  b.n AS window_steps,
  b.w1 - b.w0 AS window_seconds,
  b.t_last - b.t0 AS wall_seconds,
  peaks.tokens_total,
  peaks.padded_total AS padded_tokens_total,
  b.tok AS tokens_window,
  b.ptok AS padded_tokens_window,
  f.tok_s,
  b.ptok / nullif(b.w1 - b.w0, 0) AS padded_tok_s,
  10000.0 / nullif(f.tok_s, 0) AS t10k_s,
  CASE WHEN f.half IS NOT NULL THEN b.k END AS ci_batches,
  f.half AS tok_s_ci_half,
  f.rel AS tok_s_ci_rel,
  10000.0 / nullif(f.tok_s + f.half, 0) AS t10k_ci_low_s,
  CASE WHEN f.tok_s - f.half > 0 THEN 10000.0 / (f.tok_s - f.half) END AS t10k_ci_high_s,
  peaks.nvml_peak AS vram_peak_mib,
  peaks.alloc_peak AS torch_peak_allocated_mib,
  peaks.reserved_peak AS torch_peak_reserved_mib,
  r.gpu_total_mib,
  r.gpu_total_mib - peaks.nvml_peak AS vram_headroom_mib,
  f.energy AS energy_j,
  CASE WHEN counter.joules IS NOT NULL THEN 'counter' WHEN integrated.joules IS NOT NULL THEN 'integrated' END AS energy_method,
  counter.joules AS energy_counter_j,
  integrated.joules AS energy_integrated_j,
  f.energy / nullif(b.w1 - b.w0, 0) AS mean_power_w,
  f.energy / nullif(b.tok, 0) AS j_per_token,
  r.idle_power_w,
  f.energy - r.idle_power_w * (b.w1 - b.w0) AS energy_above_idle_j,
  (f.energy - r.idle_power_w * (b.w1 - b.w0)) / nullif(b.tok, 0) AS j_per_token_above_idle,
  95.0 * (b.w1 - b.w0) / nullif(b.tok, 0) AS j_per_token_est_95,
  115.0 * (b.w1 - b.w0) / nullif(b.tok, 0) AS j_per_token_est_115,
  clocks.clk_mean AS sm_clock_mean_mhz,
  clocks.clk_min AS sm_clock_min_mhz,
  clocks.reasons AS throttle_reasons,
  clocks.throttled AS throttled_fraction,
  peaks.loss_first,
  peaks.loss_last,
  f.fpt AS flops_per_token,
  f.fpt_hfu AS flops_per_token_hfu,
  f.peak AS gpu_peak_tflops,
  f.fpt * f.tok_s / (f.peak * 1e12) AS mfu,
  f.fpt_hfu * f.tok_s / (f.peak * 1e12) AS hfu,
  current_timestamp AS computed_at
FROM r, cfg, cut, b, f, peaks, counter, integrated, clocks;
