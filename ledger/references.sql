-- Published figures beside tunegrid's (issue #16). Applied on every open after views.sql.
-- A grid cell's `reference` (src/grid/reference.ts) is stored per grid version in cell_references;
-- the latest one recorded for a cell hash is the one shown.

-- Number of decimals a figure was printed with (from its JSON text): the precision its own
-- arithmetic can be held to.
CREATE OR REPLACE MACRO ref_decimals(txt) AS CASE WHEN contains(txt, '.') THEN length(split_part(txt, '.', 2)) ELSE 0 END;

-- MiB per printed memory unit: MB/GB are 10^6/10^9 bytes, MiB/GiB 2^20/2^30.
CREATE OR REPLACE MACRO ref_mib(value, unit) AS value * CASE unit WHEN 'MiB' THEN 1 WHEN 'GiB' THEN 1024
  WHEN 'MB' THEN 1e6 / 1048576 WHEN 'GB' THEN 1e9 / 1048576 END;

-- One row per run of a cell that carries a reference, and per published figure: the figure as
-- printed (and in tunegrid's unit), the measurement with its 95% CI where it has one, measured /
-- published, whether the published value lies inside the measured CI, how each side was
-- measured, and, among the runs that share the reference (the readings of an ambiguous text),
-- which comes closest (smallest |ln ratio|). Extent figures (the source's whole run: wall time,
-- tokens, steps, final loss) are shown beside tunegrid's run but not compared (comparable false).
CREATE OR REPLACE VIEW reference_check AS
WITH ref AS (
  SELECT cell_hash, arg_max(reference, recorded_at) AS reference FROM cell_references GROUP BY cell_hash
),
mem AS (
  SELECT run_id, arg_max(budget_name, t) AS budget FROM run_memory GROUP BY run_id
),
r AS (
  SELECT s.*, ref.reference, ref.reference->>'$.source' AS source, mem.budget,
    s.cell,
    coalesce((ref.reference->>'$.approximate')::BOOLEAN, false) AS approximate,
    (SELECT x.error_step FROM runs x WHERE x.run_id = s.run_id) AS error_step
  FROM run_summary s JOIN ref USING (cell_hash) LEFT JOIN mem USING (run_id)
  WHERE s.status IN ('succeeded', 'failed')
),
ok AS (SELECT * FROM r WHERE status = 'succeeded'),
energy AS (
  SELECT ok.*, unnest(from_json(reference->'$.jPerToken', '[{"value":"DOUBLE","watts":"DOUBLE","method":"VARCHAR"}]')) AS e
  FROM ok WHERE (reference->'$.jPerToken') IS NOT NULL
),
figures AS (
  SELECT run_id, 'tok_s' AS figure, (reference->>'$.tokS')::DOUBLE AS published, 'tok/s' AS unit,
    (reference->>'$.tokS')::DOUBLE AS published_in, NULL::DOUBLE AS published_alt,
    tok_s AS measured, tok_s - tok_s_ci_half AS ci_low, tok_s + tok_s_ci_half AS ci_high,
    coalesce(reference->>'$.tokSMethod', 'as printed') AS published_method,
    printf('real tokens / window time after a %s warm-up cut (%.1f s), 95%% CI by batch means', warmup_method, warmup_seconds) AS measured_method,
    true AS comparable, NULL::VARCHAR AS note
  FROM ok WHERE (reference->>'$.tokS') IS NOT NULL
  UNION ALL
  SELECT run_id, 't10k_s', (reference->>'$.t10kS')::DOUBLE, 's', (reference->>'$.t10kS')::DOUBLE, NULL,
    t10k_s, t10k_ci_low_s, t10k_ci_high_s, 'as printed (10,000 / tok/s)', '10,000 / tok/s, interval from the tok/s CI', true, NULL
  FROM ok WHERE (reference->>'$.t10kS') IS NOT NULL
  UNION ALL
  SELECT run_id, 'vram_peak', (reference->>'$.vramPeak.value')::DOUBLE, reference->>'$.vramPeak.unit',
    ref_mib((reference->>'$.vramPeak.value')::DOUBLE, reference->>'$.vramPeak.unit'),
    -- the other reading of a decimal unit: nvidia-smi prints MiB, so a printed "MB" may be MiB
    CASE reference->>'$.vramPeak.unit' WHEN 'MB' THEN (reference->>'$.vramPeak.value')::DOUBLE
      WHEN 'GB' THEN (reference->>'$.vramPeak.value')::DOUBLE * 1024 END,
    coalesce(vram_peak_mib, torch_peak_reserved_mib), NULL, NULL,
    coalesce(reference->>'$.vramPeak.method', 'as printed'),
    CASE WHEN vram_peak_mib IS NOT NULL THEN coalesce(sampler_mode, 'nvml') || ' device peak (MiB)' ELSE 'torch peak reserved (MiB)' END
      || CASE WHEN budget IS NOT NULL THEN ', under the VRAM budget ' || budget ELSE '' END,
    true,
    CASE reference->>'$.vramPeak.unit' WHEN 'MB' THEN 'printed MB = 10^6 B; published_alt reads it as nvidia-smi''s MiB'
      WHEN 'GB' THEN 'printed GB = 10^9 B; published_alt reads it as GiB' END
  FROM ok WHERE (reference->>'$.vramPeak.value') IS NOT NULL
  UNION ALL
  SELECT run_id, printf('j_per_token (%s)', coalesce(energy_method, 'not measured')), (e).value, 'J/token', (e).value, NULL,
    j_per_token, NULL, NULL, (e).method || coalesce(printf(' (%g W)', (e).watts), ''),
    coalesce(energy_method || ' energy over the window / window tokens', 'no energy counter or power samples'), true, NULL
  FROM energy
  UNION ALL
  -- the source's own method on tunegrid's time: assumed watts × window time / window tokens
  SELECT run_id, printf('j_per_token at %g W', (e).watts), (e).value, 'J/token', (e).value, NULL,
    (e).watts / tok_s, (e).watts / (tok_s + tok_s_ci_half), (e).watts / nullif(tok_s - tok_s_ci_half, 0),
    (e).method || printf(' (%g W)', (e).watts), printf('assumed %g W × window time / window tokens (the source''s method)', (e).watts), true, NULL
  FROM energy WHERE (e).watts IS NOT NULL
  UNION ALL
  SELECT run_id, 'tokens_per_step', (reference->>'$.tokens')::DOUBLE / (reference->>'$.steps')::DOUBLE, 'tokens', NULL, NULL,
    tokens_window / nullif(window_steps, 0), NULL, NULL, 'tokens / steps of the whole run', 'window tokens / window steps (real tokens)', false,
    'what each step trained on: the data and batch, not the speed'
  FROM ok WHERE (reference->>'$.tokens') IS NOT NULL AND (reference->>'$.steps') IS NOT NULL
  UNION ALL
  SELECT run_id, 'wall_s', (reference->>'$.wallS')::DOUBLE, 's', NULL, NULL, wall_seconds, NULL, NULL, 'the source''s whole run',
    'first step start to last step end', false, printf('tunegrid measured %d steps, not the source''s run length', steps_total)
  FROM ok WHERE (reference->>'$.wallS') IS NOT NULL
  UNION ALL
  SELECT run_id, 'tokens', (reference->>'$.tokens')::DOUBLE, 'tokens', NULL, NULL, tokens_total, NULL, NULL, 'the source''s whole run',
    'real tokens over all steps', false, printf('tunegrid measured %d steps, not the source''s run length', steps_total)
  FROM ok WHERE (reference->>'$.tokens') IS NOT NULL
  UNION ALL
  SELECT run_id, 'steps', (reference->>'$.steps')::DOUBLE, 'steps', NULL, NULL, steps_total, NULL, NULL, 'the source''s whole run',
    'optimizer steps run', false, NULL
  FROM ok WHERE (reference->>'$.steps') IS NOT NULL
  UNION ALL
  SELECT run_id, 'loss', (reference->>'$.loss')::DOUBLE, 'loss', NULL, NULL, loss_last, NULL, NULL, 'final loss of the source''s run',
    'loss of the last step', false, 'the source trained to the end of its run (and a preset has random weights)'
  FROM ok WHERE (reference->>'$.loss') IS NOT NULL
  UNION ALL
  -- a reading that did not run to the end under its budget still answers the memory question
  SELECT run_id, 'vram_peak', (reference->>'$.vramPeak.value')::DOUBLE, reference->>'$.vramPeak.unit',
    ref_mib((reference->>'$.vramPeak.value')::DOUBLE, reference->>'$.vramPeak.unit'), NULL, NULL, NULL, NULL,
    coalesce(reference->>'$.vramPeak.method', 'as printed'), 'the run failed', false,
    coalesce(error_kind, 'failed') || coalesce(' at step ' || error_step, '') || ': ' || coalesce(error_message, '')
  FROM r WHERE status = 'failed' AND (reference->>'$.vramPeak.value') IS NOT NULL
),
joined AS (
  SELECT r.grid, r.cell, left(r.run_id, 8) AS run, r.run_id, r.status, r.budget, r.source, r.approximate, f.*,
    CASE WHEN f.comparable THEN f.measured / nullif(f.published_in, 0) END AS ratio,
    CASE WHEN f.comparable THEN f.measured / nullif(f.published_alt, 0) END AS ratio_alt
  FROM figures f JOIN r USING (run_id)
)
SELECT grid, cell, run, status, budget, source, figure, comparable, published, unit, round(published_in, 4) AS published_in,
  round(published_alt, 4) AS published_alt, measured, ci_low, ci_high,
  round(ratio, 4) AS ratio, round(ratio_alt, 4) AS ratio_alt,
  CASE WHEN ci_low IS NOT NULL AND ci_high IS NOT NULL THEN published_in BETWEEN ci_low AND ci_high END AS inside_ci,
  CASE WHEN ratio IS NOT NULL THEN rank() OVER (PARTITION BY source, figure ORDER BY abs(ln(ratio)) NULLS LAST) = 1 END AS closest,
  published_method, measured_method, approximate, note
FROM joined
ORDER BY source, figure, run;

-- Each reference's own arithmetic: the figures it prints that follow from its others, recomputed
-- (tokens / wall time → tok/s, also over the time after its warm-up when it names one; tok/s →
-- T10k; watts / tok/s → J/token). holds: equal at the precision the figure was printed with;
-- gap_pct: printed against recomputed.
CREATE OR REPLACE VIEW reference_arithmetic AS
WITH ref AS (
  SELECT DISTINCT reference->>'$.source' AS source, reference FROM cell_references
),
checks AS (
  SELECT source, 'tok_s = tokens / wall_s' AS "check", reference->>'$.tokS' AS printed,
    (reference->>'$.tokens')::DOUBLE / (reference->>'$.wallS')::DOUBLE AS recomputed
  FROM ref WHERE (reference->>'$.tokS') IS NOT NULL AND (reference->>'$.tokens') IS NOT NULL AND (reference->>'$.wallS') IS NOT NULL
  UNION ALL
  SELECT source, printf('tok_s = tokens / (wall_s − %s s warm-up)', reference->>'$.warmupS'), reference->>'$.tokS',
    (reference->>'$.tokens')::DOUBLE / ((reference->>'$.wallS')::DOUBLE - (reference->>'$.warmupS')::DOUBLE)
  FROM ref WHERE (reference->>'$.tokS') IS NOT NULL AND (reference->>'$.tokens') IS NOT NULL AND (reference->>'$.wallS') IS NOT NULL
    AND (reference->>'$.warmupS') IS NOT NULL
  UNION ALL
  SELECT source, 't10k_s = 10,000 / tok_s', reference->>'$.t10kS', 10000 / (reference->>'$.tokS')::DOUBLE
  FROM ref WHERE (reference->>'$.t10kS') IS NOT NULL AND (reference->>'$.tokS') IS NOT NULL
  UNION ALL
  SELECT source, printf('j_per_token = %g W / tok_s', (e).watts), (e).value, (e).watts / (reference->>'$.tokS')::DOUBLE
  FROM (SELECT source, reference, unnest(from_json(reference->'$.jPerToken', '[{"value":"VARCHAR","watts":"DOUBLE","method":"VARCHAR"}]')) AS e
        FROM ref WHERE (reference->'$.jPerToken') IS NOT NULL AND (reference->>'$.tokS') IS NOT NULL)
  WHERE (e).watts IS NOT NULL
)
SELECT source, "check", printed::DOUBLE AS printed, recomputed,
  round(printed::DOUBLE - recomputed, 6) AS gap, round(100 * (printed::DOUBLE / recomputed - 1), 3) AS gap_pct,
  abs(printed::DOUBLE - recomputed) <= 0.5 * power(10, -ref_decimals(printed)) + 1e-9 AS holds
FROM checks
ORDER BY source, "check";
