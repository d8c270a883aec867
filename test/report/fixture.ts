// A small ledger with known figures, written through the real Ledger (schema and views applied):
// grid "sweep" has two cells of two runs each (one noisy) and one failed cell; grid "solo" one
// cell of one run. For the report's and the machine formats' tests.
import { Effect } from "effect"
import { Ledger } from "../../src/ledger/Ledger.ts"

/** grid "sweep": two cells of two runs (one noisy), one failed cell; grid "solo": one cell, one run. */
export const fill = `
INSERT INTO environments (env_hash, hashed, facts, gpu_name) VALUES ('env1', '{}', '{}', 'NVIDIA H100');
INSERT INTO grids (grid_hash, name, definition, overrides, measure) VALUES ('g1', 'sweep', '{}', '[]', '{}'), ('g2', 'solo', '{}', '[]', '{}');
INSERT INTO cells (cell_hash, label, config, seed, measure, axis_values, trainer_digest, dataset_digest) VALUES
  ('c-r4', NULL, '{"model":"preset:tiny","method":"lora","precision":"bf16","batchSize":1,"maxSeqLength":512,"r":4,"targetModules":["q_proj","v_proj"]}', 42, '{}', '{"r":4,"targetModules":["q_proj","v_proj"]}', 't', 'd'),
  ('c-r16', NULL, '{"model":"preset:tiny","method":"lora","precision":"bf16","batchSize":1,"maxSeqLength":512,"r":16,"targetModules":["q_proj","v_proj"]}', 42, '{}', '{"r":16,"targetModules":["q_proj","v_proj"]}', 't', 'd'),
  ('c-oom', NULL, '{"model":"preset:tiny","method":"lora","precision":"bf16","batchSize":1,"maxSeqLength":512,"r":64,"targetModules":["q_proj","v_proj"]}', 42, '{}', '{"r":64,"targetModules":["q_proj","v_proj"]}', 't', 'd'),
  ('c-solo', NULL, '{"model":"preset:qwen2.5-1.5b","method":"qlora","precision":"bf16","batchSize":4,"maxSeqLength":1024}', 42, '{}', '{}', 't', 'd');
INSERT INTO runs (run_id, cell_hash, env_hash, grid_hash, seed, repeat, status, origin, started_at, error_kind, error_message) VALUES
  ('run-a1', 'c-r4', 'env1', 'g1', 42, 0, 'succeeded', 'live', TIMESTAMP '2026-01-01 10:00:00', NULL, NULL),
  ('run-a2', 'c-r4', 'env1', 'g1', 42, 1, 'succeeded', 'live', TIMESTAMP '2026-01-01 10:01:00', NULL, NULL),
  ('run-b1', 'c-r16', 'env1', 'g1', 42, 0, 'succeeded', 'live', TIMESTAMP '2026-01-01 10:02:00', NULL, NULL),
  ('run-b2', 'c-r16', 'env1', 'g1', 42, 1, 'succeeded', 'live', TIMESTAMP '2026-01-01 10:03:00', NULL, NULL),
  ('run-c1', 'c-oom', 'env1', 'g1', 42, 0, 'failed', 'live', TIMESTAMP '2026-01-01 10:04:00', 'oom', 'CUDA out of memory at step 3 (peak 79.1 GiB)'),
  ('run-s1', 'c-solo', 'env1', 'g2', 42, 0, 'succeeded', 'live', TIMESTAMP '2026-01-01 11:00:00', NULL, NULL);
INSERT INTO results (run_id, cell_hash, env_hash, steady, steady_reason, steps_total, tokens_window, window_seconds, tok_s, t10k_s, tok_s_ci_half, tok_s_ci_rel,
    vram_peak_mib, j_per_token, energy_method, j_per_token_est_95, j_per_token_est_115) VALUES
  ('run-a1', 'c-r4', 'env1', true, 'ok', 50, 123456789, 60, 1234.5678901234, 10000 / 1234.5678901234, 12.3, 12.3 / 1234.5678901234, 6000.5, 0.0151, 'counter', 0.077, 0.093),
  ('run-a2', 'c-r4', 'env1', true, 'ok', 50, 123456789, 60, 1250.25, 10000 / 1250.25, 12.5, 12.5 / 1250.25, 6010, 0.0149, 'counter', 0.076, 0.092),
  ('run-b1', 'c-r16', 'env1', false, 'unreliable: CI ±60.0% is wider than the ±25% sanity bound', 50, 1000, 60, 100, 100, 60, 0.6, 6500, NULL, NULL, 0.95, 1.15),
  ('run-b2', 'c-r16', 'env1', false, 'unreliable', 50, 1000, 60, 1000, 10, 600, 0.6, 6600, NULL, NULL, 0.095, 0.115),
  ('run-s1', 'c-solo', 'env1', true, 'ok', 50, 5000, 60, 2000, 5, 20, 0.01, 7000, 0.02, 'counter', 0.0475, 0.0575);
CHECKPOINT;`

export const makeFixtureLedger = (path: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        yield* (yield* Ledger).exec(fill)
      }).pipe(Effect.provide(Ledger.layer(path)))
    )
  )
