-- Views over the ledger. Applied on every open (CREATE OR REPLACE), after schema.sql.

-- A result is unreliable when its tok/s 95% CI half-width exceeds this fraction of tok/s (±25%),
-- whatever the grid's CI target: two such intervals overlap for any ratio below 1.25 / 0.75 =
-- 1.67×, so the figure cannot settle the 10–25% effects grids are built to compare (the study's
-- paged-AdamW claim was +25%). results.sql marks such runs not steady; src/report/noise.ts holds
-- the same number for the log and the report (test/report/noise.test.ts checks they agree).
CREATE OR REPLACE MACRO ci_sanity_bound() AS 0.25;

-- A lower bound of a positive quantity's interval: never below 0 (NULL stays NULL).
CREATE OR REPLACE MACRO nonneg(x) AS CASE WHEN x < 0 THEN 0 ELSE x END;

-- An axis value as text: lists joined with +, strings unquoted, numbers as written.
CREATE OR REPLACE MACRO axis_text(v) AS CASE json_type(v)
  WHEN 'ARRAY' THEN array_to_string(CAST(v AS VARCHAR[]), '+') WHEN 'VARCHAR' THEN v->>'$' ELSE CAST(v AS VARCHAR) END;

-- A cell's fields as axis=value pairs, only those named in `keys` and not null (NULL: every field).
CREATE OR REPLACE MACRO axis_pairs(axis_values, keys) AS nullif(array_to_string(list_transform(
  list_filter(json_keys(axis_values), k -> keys IS NULL OR (list_contains(keys, k) AND json_type(axis_values, '$."' || k || '"') <> 'NULL')),
  k -> k || '=' || axis_text(json_extract(axis_values, '$."' || k || '"'))), ' '), '');

-- A cell's name for people: its label followed by the grid's axes (`axes`: the grid definition's
-- axes object) when a labelled cell is expanded over axes (the study's run 1 under three
-- base-weight readings is three cells), else the grid's varying fields as axis=value pairs, else
-- (a grid of one cell) the model, method, precision and batch × sequence length. Never JSON.
CREATE OR REPLACE MACRO cell_label(label, axis_values, config, axes) AS coalesce(
  CASE WHEN label IS NOT NULL THEN concat_ws(' ', label, axis_pairs(axis_values, coalesce(json_keys(axes), []::VARCHAR[]))) END,
  axis_pairs(axis_values, NULL),
  concat_ws(' ', config->>'$.model', config->>'$.method', config->>'$.precision',
    'batch ' || (config->>'$.batchSize') || ' × ' || (config->>'$.maxSeqLength')));

-- Every run with its cell, grid, environment and result in one row (cell: its name for people).
CREATE OR REPLACE VIEW run_summary AS
SELECT
  r.run_id, r.cell_hash, r.env_hash, r.grid_hash, g.name AS grid, c.label, c.axis_values, cell_label(c.label, c.axis_values, c.config, g.definition->'$.axes') AS cell,
  r.seed, r.repeat, r.status, r.origin, r.finish_reason, r.error_kind, r.error_message,
  r.started_at, r.ended_at, r.rerun_of, r.sampler_mode,
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
-- the 95% CI of tok/s (and the T10k interval it gives; high NULL = unbounded), memory three ways
-- and the headroom, MFU/HFU, the warm-up cut and how it was found, and whether the window was
-- steady (and why not). Full precision: renderers round for people, csv/json keep every digit.
CREATE OR REPLACE VIEW table1 AS
SELECT
  grid, cell, left(run_id, 8) AS run,
  status, wall_seconds AS wall_s, tokens_window AS tokens, tok_s,
  tok_s_ci_rel, nonneg(tok_s - tok_s_ci_half) AS tok_s_ci_low, tok_s + tok_s_ci_half AS tok_s_ci_high,
  t10k_s, t10k_ci_low_s, t10k_ci_high_s,
  coalesce(vram_peak_mib, torch_peak_reserved_mib) AS vram_peak_mib,
  -- the device view comes from the sampler: NVML, or nvidia-smi polling where NVML is missing
  CASE WHEN vram_peak_mib IS NOT NULL THEN coalesce(sampler_mode, 'nvml') WHEN torch_peak_reserved_mib IS NOT NULL THEN 'torch_reserved' END AS vram_method,
  torch_peak_allocated_mib AS torch_alloc_mib, torch_peak_reserved_mib AS torch_reserved_mib,
  vram_headroom_mib AS headroom_mib,
  mfu, hfu,
  steady, coalesce(tok_s_ci_rel <= ci_sanity_bound(), false) AS reliable, warmup_steps, window_steps,
  warmup_seconds AS warmup_s, warmup_method, window_seconds AS window_s, window_method,
  sentinel_drift, steady_reason
FROM run_summary
WHERE status = 'succeeded'
ORDER BY started_at;

-- The reference study's Table 2: energy per token measured (with its method), above idle, the
-- counter vs integrated-power cross-check, and the clocks and throttling seen while the window
-- ran; last, the study's own estimate (assumed board power 95 W / 115 W × window time ÷ tokens),
-- named as such: it is no measurement and never stands where j_per_token does.
CREATE OR REPLACE VIEW table2 AS
SELECT
  grid, cell, left(run_id, 8) AS run,
  window_seconds AS window_s, tokens_window AS tokens,
  energy_j, energy_method, mean_power_w,
  j_per_token, idle_power_w, j_per_token_above_idle,
  100 * (energy_counter_j - energy_integrated_j) / nullif(energy_integrated_j, 0) AS counter_vs_integrated_pct,
  sm_clock_mean_mhz AS sm_clock_mhz, 100 * throttled_fraction AS throttled_pct,
  j_per_token_est_95 AS study_estimate_95w_j_per_token, j_per_token_est_115 AS study_estimate_115w_j_per_token
FROM run_summary
WHERE status = 'succeeded'
ORDER BY started_at;

-- Failures and their reasons, newest first.
CREATE OR REPLACE VIEW failures AS
SELECT run_id, grid, cell_hash, label, axis_values, cell, status, error_kind, error_message, started_at
FROM run_summary
WHERE status IN ('failed', 'interrupted')
ORDER BY started_at DESC;

-- ---------------------------------------------------------------- analysis (tunegrid sql)
-- Two-sided 95% Student t critical value for df degrees of freedom (table to 30, then a close
-- approximation: df 40 → 2.02, 60 → 2.00, 120 → 1.98); NULL when df < 1 (one run has no spread).
CREATE OR REPLACE MACRO t95(df) AS CASE
  WHEN df IS NULL OR df < 1 THEN NULL
  WHEN df <= 30 THEN [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                      2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042][df::INTEGER]
  ELSE 1.96 + 2.4 / df END;

-- Two-sided 95% t half-width of a mean from the sample sd of n values (NULL for n < 2).
CREATE OR REPLACE MACRO ci95_half(sd, n) AS t95(n - 1) * sd / sqrt(n);

-- One row per configuration and environment over its succeeded runs across repeats and seeds:
-- a configuration is everything a cell hash covers except the seed (resolved config, measure,
-- trainer source and dataset digests). Mean, sample sd and 95% interval for tok/s, T10k and
-- J/token: with n ≥ 2 runs the t-interval of the mean over runs (ci_method 'runs'); with one run,
-- that run's own batch-means interval (ci_method 'window'; none for J/token). Intervals of these
-- positive quantities stop at 0. tok_s_ci_rel = half-width / mean; reliable when it is within
-- ci_sanity_bound(). VRAM as the worst (max) peak. config_id = first 12 hex of md5 of the key.
CREATE OR REPLACE VIEW cell_summary AS
WITH ok AS (
  SELECT s.*, c.config, c.trainer_digest, c.dataset_digest,
    CAST(c.config AS VARCHAR) || CAST(c.measure AS VARCHAR) || c.trainer_digest || c.dataset_digest AS config_key,
    coalesce(s.vram_peak_mib, s.torch_peak_reserved_mib) AS vram
  FROM run_summary s JOIN cells c USING (cell_hash)
  WHERE s.status = 'succeeded' AND s.tok_s IS NOT NULL
),
agg AS (
  SELECT
    left(md5(config_key), 12) AS config_id,
    string_agg(DISTINCT grid, ',') AS grid,
    any_value(cell) AS cell,
    env_hash, any_value(gpu_name) AS gpu_name,
    count(*)::INTEGER AS n, count(DISTINCT seed)::INTEGER AS seeds,
    avg(tok_s) AS tok_s_mean, stddev_samp(tok_s) AS tok_s_sd,
    CASE WHEN count(*) >= 2 THEN ci95_half(stddev_samp(tok_s), count(*)) ELSE any_value(tok_s_ci_half) END AS tok_s_half,
    avg(t10k_s) AS t10k_mean,
    ci95_half(stddev_samp(t10k_s), count(*)) AS t10k_half,
    any_value(t10k_ci_low_s) AS t10k_run_low, any_value(t10k_ci_high_s) AS t10k_run_high,
    max(vram) AS vram_peak_mib,
    CASE WHEN bool_and(vram_peak_mib IS NOT NULL) THEN string_agg(DISTINCT coalesce(sampler_mode, 'nvml'), '+') WHEN bool_and(vram IS NOT NULL) THEN 'torch_reserved' END AS vram_method,
    avg(j_per_token) AS j_per_token_mean,
    ci95_half(stddev_samp(j_per_token), count(j_per_token)) AS j_half,
    any_value(energy_method) AS energy_method,
    list(DISTINCT left(cell_hash, 12) ORDER BY left(cell_hash, 12)) AS cell_hashes,
    any_value(config) AS config, any_value(trainer_digest) AS trainer_digest, any_value(dataset_digest) AS dataset_digest
  FROM ok
  GROUP BY config_key, env_hash
)
SELECT
  config_id, grid, cell, env_hash, gpu_name, n, seeds,
  tok_s_mean, tok_s_sd,
  nonneg(tok_s_mean - tok_s_half) AS tok_s_ci_low, tok_s_mean + tok_s_half AS tok_s_ci_high,
  tok_s_half / nullif(tok_s_mean, 0) AS tok_s_ci_rel,
  CASE WHEN tok_s_half IS NULL THEN NULL WHEN n >= 2 THEN 'runs' ELSE 'window' END AS ci_method,
  coalesce(tok_s_half / nullif(tok_s_mean, 0) <= ci_sanity_bound(), false) AS reliable,
  t10k_mean,
  CASE WHEN n >= 2 THEN nonneg(t10k_mean - t10k_half) ELSE t10k_run_low END AS t10k_ci_low,
  CASE WHEN n >= 2 THEN t10k_mean + t10k_half ELSE t10k_run_high END AS t10k_ci_high,
  vram_peak_mib, vram_method,
  j_per_token_mean,
  nonneg(j_per_token_mean - j_half) AS j_per_token_ci_low, j_per_token_mean + j_half AS j_per_token_ci_high,
  energy_method, cell_hashes, config, trainer_digest, dataset_digest
FROM agg;

-- One row per cell (a cell hash: config and seed) of each grid and environment, over all its
-- runs: what the default report shows. runs / succeeded / failed counts, the failure kinds, and
-- over the succeeded runs the figures of cell_summary (n ≥ 2: t-interval over repeats; n = 1: the
-- run's own window interval; J/token has one only over repeats), steady (every run steady) and
-- reliable (tok/s CI within the bound). What the default report and the plots show.
CREATE OR REPLACE VIEW cell_report AS
WITH r AS (SELECT * FROM run_summary WHERE status <> 'running'),
agg AS (
  SELECT grid, cell_hash, env_hash, any_value(cell) AS cell, any_value(axis_values) AS axis_values, any_value(gpu_name) AS gpu_name,
    min(started_at) AS first_started_at,
    count(*)::INTEGER AS runs,
    count(*) FILTER (WHERE status = 'succeeded')::INTEGER AS n,
    count(*) FILTER (WHERE status = 'failed')::INTEGER AS failed,
    count(*) FILTER (WHERE status = 'interrupted')::INTEGER AS interrupted,
    count(*) FILTER (WHERE status = 'skipped')::INTEGER AS skipped,
    string_agg(DISTINCT error_kind, ',') FILTER (WHERE status = 'failed') AS error_kinds,
    arg_max(error_message, started_at) FILTER (WHERE status = 'failed') AS last_error,
    avg(tok_s) FILTER (WHERE status = 'succeeded') AS tok_s_mean,
    CASE WHEN count(tok_s) FILTER (WHERE status = 'succeeded') >= 2
      THEN ci95_half(stddev_samp(tok_s) FILTER (WHERE status = 'succeeded'), count(tok_s) FILTER (WHERE status = 'succeeded'))
      ELSE any_value(tok_s_ci_half) FILTER (WHERE status = 'succeeded') END AS tok_s_half,
    avg(t10k_s) FILTER (WHERE status = 'succeeded') AS t10k_mean,
    ci95_half(stddev_samp(t10k_s) FILTER (WHERE status = 'succeeded'), count(t10k_s) FILTER (WHERE status = 'succeeded')) AS t10k_half,
    any_value(t10k_ci_low_s) FILTER (WHERE status = 'succeeded') AS t10k_run_low,
    any_value(t10k_ci_high_s) FILTER (WHERE status = 'succeeded') AS t10k_run_high,
    ci95_half(stddev_samp(j_per_token) FILTER (WHERE status = 'succeeded'), count(j_per_token) FILTER (WHERE status = 'succeeded')) AS j_half,
    max(coalesce(vram_peak_mib, torch_peak_reserved_mib)) FILTER (WHERE status = 'succeeded') AS vram_peak_mib,
    bool_and(vram_peak_mib IS NOT NULL) FILTER (WHERE status = 'succeeded') AS vram_measured,
    avg(j_per_token) FILTER (WHERE status = 'succeeded') AS j_per_token_mean,
    any_value(energy_method) FILTER (WHERE status = 'succeeded') AS energy_method,
    bool_and(steady) FILTER (WHERE status = 'succeeded') AS steady,
    bool_or(sentinel_drift) FILTER (WHERE status = 'succeeded') AS sentinel_drift,
    string_agg(DISTINCT steady_reason, '; ') FILTER (WHERE status = 'succeeded' AND NOT steady) AS unsteady_reasons
  FROM r
  GROUP BY grid, cell_hash, env_hash
)
SELECT grid, cell, cell_hash, env_hash, gpu_name, runs, n, failed, interrupted, skipped, error_kinds, last_error,
  tok_s_mean, nonneg(tok_s_mean - tok_s_half) AS tok_s_ci_low, tok_s_mean + tok_s_half AS tok_s_ci_high,
  tok_s_half / nullif(tok_s_mean, 0) AS tok_s_ci_rel,
  CASE WHEN tok_s_half IS NULL THEN NULL WHEN n >= 2 THEN 'runs' ELSE 'window' END AS ci_method,
  CASE WHEN n = 0 THEN NULL ELSE coalesce(tok_s_half / nullif(tok_s_mean, 0) <= ci_sanity_bound(), false) END AS reliable,
  t10k_mean,
  CASE WHEN n >= 2 THEN nonneg(t10k_mean - t10k_half) ELSE t10k_run_low END AS t10k_ci_low,
  CASE WHEN n >= 2 THEN t10k_mean + t10k_half ELSE t10k_run_high END AS t10k_ci_high,
  vram_peak_mib, CASE WHEN vram_measured THEN 'device' WHEN vram_peak_mib IS NOT NULL THEN 'torch_reserved' END AS vram_method,
  j_per_token_mean, nonneg(j_per_token_mean - j_half) AS j_per_token_ci_low, j_per_token_mean + j_half AS j_per_token_ci_high,
  energy_method, steady, sentinel_drift, unsteady_reasons, axis_values, first_started_at
FROM agg
ORDER BY grid, first_started_at;

-- The effect of one factor (a camelCase cell field, e.g. 'batchSize') with every other field, the
-- environment, trainer source and dataset held fixed: one row per level within each group of otherwise identical
-- configs (held = first 8 hex of that group's id), and tok/s relative to the group's lowest level.
-- Groups where the factor takes a single value say nothing about it and are left out.
CREATE OR REPLACE MACRO factor_effect(factor) AS TABLE
WITH s AS (
  SELECT *, json_extract(config, '$.' || factor) AS level_json,
    md5(CAST(json_merge_patch(config, json_object(factor, NULL)) AS VARCHAR) || env_hash || trainer_digest || dataset_digest) AS held_id
  FROM cell_summary
),
known AS (
  SELECT CASE WHEN count(level_json) = 0
    THEN error('factor_effect: no cell has a field named ''' || factor || ''' (use a camelCase cell field such as batchSize, precision, optim)')
    ELSE true END AS ok
  FROM s
),
g AS (
  SELECT s.*, CAST(level_json AS VARCHAR) AS level, count(*) OVER (PARTITION BY held_id) AS levels
  FROM s, known WHERE known.ok
)
SELECT
  left(held_id, 8) AS held, factor AS factor, level, config_id, n,
  tok_s_mean, tok_s_ci_low, tok_s_ci_high,
  tok_s_mean / first_value(tok_s_mean) OVER (PARTITION BY held_id ORDER BY try_cast(level AS DOUBLE) NULLS LAST, level) AS tok_s_ratio,
  t10k_mean, vram_peak_mib, j_per_token_mean, gpu_name
FROM g
WHERE levels >= 2
ORDER BY held, try_cast(level AS DOUBLE) NULLS LAST, level;

-- Pareto frontier over tok/s (higher is better) × VRAM peak and J/token (lower is better) among
-- configurations whose VRAM peak fits in budget_mib (MiB; 8 GiB = 8192). A missing J/token (no
-- energy counter) does not count against a config. include_unmeasured := true also keeps configs
-- whose memory was not measured (CPU runs). Fastest first: the first row answers "fastest config
-- that fits".
CREATE OR REPLACE MACRO pareto(budget_mib, include_unmeasured := false) AS TABLE
WITH s AS (
  SELECT * FROM cell_summary
  WHERE vram_peak_mib <= budget_mib OR (vram_peak_mib IS NULL AND include_unmeasured)
)
SELECT config_id, grid, cell, n, tok_s_mean, tok_s_ci_low, tok_s_ci_high, t10k_mean, vram_peak_mib, vram_method,
  j_per_token_mean, energy_method, gpu_name, env_hash, config
FROM s
WHERE NOT EXISTS (
  SELECT 1 FROM s o
  WHERE o.config_id <> s.config_id OR o.env_hash <> s.env_hash
  HAVING bool_or(
    o.tok_s_mean >= s.tok_s_mean
    AND (o.vram_peak_mib IS NULL OR s.vram_peak_mib IS NULL OR o.vram_peak_mib <= s.vram_peak_mib)
    AND (o.j_per_token_mean IS NULL OR s.j_per_token_mean IS NULL OR o.j_per_token_mean <= s.j_per_token_mean)
    AND (o.tok_s_mean > s.tok_s_mean OR coalesce(o.vram_peak_mib < s.vram_peak_mib, false)
         OR coalesce(o.j_per_token_mean < s.j_per_token_mean, false))
  )
)
ORDER BY tok_s_mean DESC;

-- Two runs or cells side by side: a and b are prefixes of a run id or a cell hash (all succeeded
-- runs that match are averaged). One row per figure: a, b, b − a and b / a.
CREATE OR REPLACE MACRO compare_runs(a, b) AS TABLE
WITH pick AS (
  SELECT 'a' AS side, * FROM run_summary WHERE status = 'succeeded' AND (starts_with(run_id, a) OR starts_with(cell_hash, a))
  UNION ALL
  SELECT 'b' AS side, * FROM run_summary WHERE status = 'succeeded' AND (starts_with(run_id, b) OR starts_with(cell_hash, b))
),
found AS (
  SELECT CASE
    WHEN count(*) FILTER (WHERE side = 'a') = 0 THEN error('compare_runs: no succeeded run or cell matches ''' || a || '''')
    WHEN count(*) FILTER (WHERE side = 'b') = 0 THEN error('compare_runs: no succeeded run or cell matches ''' || b || '''')
    ELSE true END AS ok
  FROM pick
),
agg AS (
  SELECT side,
    count(*)::DOUBLE AS runs, avg(tok_s) AS tok_s, avg(t10k_s) AS t10k_s,
    max(coalesce(vram_peak_mib, torch_peak_reserved_mib)) AS vram_peak_mib, avg(torch_peak_allocated_mib) AS torch_peak_allocated_mib,
    avg(j_per_token) AS j_per_token, avg(mean_power_w) AS mean_power_w, avg(wall_seconds) AS wall_seconds,
    avg(window_steps)::DOUBLE AS window_steps, avg(loss_first) AS loss_first, avg(loss_last) AS loss_last,
    avg(flops_per_token) AS flops_per_token
  FROM pick, found WHERE found.ok GROUP BY side
),
names AS (
  SELECT ['runs', 'tok_s', 't10k_s', 'vram_peak_mib', 'torch_peak_allocated_mib', 'j_per_token', 'mean_power_w',
    'wall_seconds', 'window_steps', 'loss_first', 'loss_last', 'flops_per_token'] AS metrics
),
long AS (
  SELECT side, unnest(metrics) AS metric,
    unnest([runs, tok_s, t10k_s, vram_peak_mib, torch_peak_allocated_mib, j_per_token, mean_power_w, wall_seconds,
      window_steps, loss_first, loss_last, flops_per_token]) AS value
  FROM agg, names
)
SELECT x.metric, x.value AS a, y.value AS b, y.value - x.value AS diff, y.value / nullif(x.value, 0) AS ratio
FROM long x JOIN long y ON x.metric = y.metric AND x.side = 'a' AND y.side = 'b'
ORDER BY list_position((SELECT metrics FROM names), x.metric);

-- Two runs compared on the same steps: a and b are prefixes of a run id or a cell hash, each
-- matching exactly one succeeded run. Runs of the same seed and dataset see the same batches in
-- the same order, so their window steps can be paired by step index; steps whose real tokens
-- differ are left out (mismatched_steps), and steps in only one window are ignored. The windows
-- are the results' (warmup_steps, window_steps). Each window
-- step owns the wall time since its run's previous window step ended (results.sql's rule, so two
-- fully paired runs give their results' tok/s). Both tok/s are over the
-- paired steps, so the ratio b / a (= Σd_a / Σd_b) no longer carries the spread of sample lengths
-- that widens each run's own CI (±15% at batch 1 × 512 on instruction data); its 95% CI is by
-- batch means of the ratio estimator over k = clamp(⌊√n⌋, 2, 20) contiguous batches of the n
-- paired steps (Student t, k−1 df; NULL when n < 2). Different seeds or data share no batches:
-- then nothing pairs and the macro says so.
CREATE OR REPLACE MACRO paired_runs(a, b) AS TABLE
WITH pick AS (
  SELECT 'a' AS side, run_id FROM run_summary WHERE status = 'succeeded' AND (starts_with(run_id, a) OR starts_with(cell_hash, a))
  UNION ALL
  SELECT 'b' AS side, run_id FROM run_summary WHERE status = 'succeeded' AND (starts_with(run_id, b) OR starts_with(cell_hash, b))
),
ids AS (
  SELECT count(*) FILTER (WHERE side = 'a') AS n_a, count(*) FILTER (WHERE side = 'b') AS n_b,
    any_value(run_id) FILTER (WHERE side = 'a') AS id_a, any_value(run_id) FILTER (WHERE side = 'b') AS id_b
  FROM pick
),
-- the window as results.sql cut it from all the steps (a detected cut can end later than the
-- live `phase` column said while the run went on)
dur AS (
  SELECT s.run_id, s.step, s.tokens,
    s.t_end - coalesce(lag(s.t_end) OVER (PARTITION BY s.run_id ORDER BY s.step), s.t_start) AS d
  FROM steps s JOIN results r USING (run_id), ids
  WHERE (s.run_id = ids.id_a OR s.run_id = ids.id_b)
    AND s.step >= r.warmup_steps AND s.step < r.warmup_steps + r.window_steps
),
joined AS (
  SELECT x.step, x.tokens, x.tokens = y.tokens AS same, x.d AS d_a, y.d AS d_b
  FROM dur x JOIN dur y ON x.step = y.step, ids
  WHERE x.run_id = ids.id_a AND y.run_id = ids.id_b
),
paired AS (
  SELECT *, row_number() OVER (ORDER BY step) - 1 AS p FROM joined WHERE same
),
tot AS (
  SELECT count(*) AS n, sum(tokens)::BIGINT AS tok, sum(d_a) AS sum_a, sum(d_b) AS sum_b,
    least(20, greatest(2, floor(sqrt(count(*)))))::BIGINT AS k,
    (SELECT count(*) FROM joined WHERE NOT same) AS mismatched
  FROM paired
),
batches AS (
  SELECT (paired.p * tot.k) // tot.n AS bi, sum(d_a) AS bd_a, sum(d_b) AS bd_b FROM paired, tot GROUP BY 1
),
ci AS (
  SELECT tot.sum_a / nullif(tot.sum_b, 0) AS r,
    CASE WHEN tot.n >= 2 THEN t95(tot.k - 1)
      * sqrt((SELECT sum(power(bd_a - tot.sum_a / tot.sum_b * bd_b, 2)) FROM batches) / (tot.k - 1) / tot.k)
      / nullif(tot.sum_b / tot.k, 0)
    END AS half
  FROM tot
),
-- one check in a fixed order, so a bad prefix is named before the pairing it spoils
found AS (
  SELECT CASE
    WHEN ids.n_a <> 1 THEN error(printf('paired_runs: ''%s'' matches %d succeeded runs; give a prefix of exactly one run id or cell hash', a, ids.n_a))
    WHEN ids.n_b <> 1 THEN error(printf('paired_runs: ''%s'' matches %d succeeded runs; give a prefix of exactly one run id or cell hash', b, ids.n_b))
    WHEN tot.n = 0 THEN error(printf('paired_runs: runs %s and %s share no window step with equal tokens (different seeds or data?)', ids.id_a, ids.id_b))
    ELSE true END AS ok
  FROM ids, tot
)
SELECT
  ids.id_a AS a_run_id, ids.id_b AS b_run_id, tot.n::INTEGER AS paired_steps, tot.mismatched::INTEGER AS mismatched_steps,
  tot.tok AS tokens, tot.tok / tot.sum_a AS a_tok_s, tot.tok / tot.sum_b AS b_tok_s,
  ci.r AS ratio, ci.r - ci.half AS ratio_ci_low, ci.r + ci.half AS ratio_ci_high,
  CASE WHEN ci.half IS NOT NULL THEN tot.k::INTEGER END AS ci_batches
FROM ids, tot, ci, found
WHERE found.ok;
