-- Order effects: a grid may re-run one sentinel cell before its first run, every k runs and
-- after its last (runs.sentinel = occurrence). A run started between two consecutive succeeded
-- sentinels of its grid and environment gets sentinel_drift = true when their tok/s differ by
-- more than √(h₁² + h₂²) (h = each one's 95% CI half-width), false when they agree, and stays
-- NULL when no such pair brackets it. Recomputed for the whole ledger after each succeeded run.
-- In a local pool each slot runs its own sentinels (src/pool.ts) and a run is judged by those of
-- its own GPU (run_slots' uuid; a CPU slot by its name): a neighbour's thermal state is not its.
UPDATE results SET sentinel_drift = d.drift
FROM (
  WITH rr AS (
    SELECT r.run_id, r.grid_hash, r.env_hash, r.started_at, r.sentinel, res.tok_s, res.tok_s_ci_half,
      coalesce(s.gpu_uuid, s.slot) AS lane -- NULL outside a pool
    FROM runs r JOIN results res USING (run_id) LEFT JOIN run_slots s USING (run_id)
    WHERE r.status = 'succeeded'
  ),
  pairs AS (
    SELECT grid_hash, env_hash, lane, started_at AS a_t, tok_s AS a, tok_s_ci_half AS ha,
      lead(started_at) OVER g AS b_t, lead(tok_s) OVER g AS b, lead(tok_s_ci_half) OVER g AS hb
    FROM rr WHERE sentinel IS NOT NULL AND tok_s_ci_half IS NOT NULL
    WINDOW g AS (PARTITION BY grid_hash, env_hash, lane ORDER BY started_at)
  )
  SELECT rr.run_id, bool_or(abs(p.b - p.a) > sqrt(p.ha * p.ha + p.hb * p.hb)) AS drift
  FROM rr JOIN pairs p
    ON rr.grid_hash = p.grid_hash AND rr.env_hash = p.env_hash AND rr.lane IS NOT DISTINCT FROM p.lane AND p.b_t IS NOT NULL
   AND rr.started_at > p.a_t AND rr.started_at < p.b_t
  WHERE rr.sentinel IS NULL
  GROUP BY rr.run_id
) d
WHERE results.run_id = d.run_id;
