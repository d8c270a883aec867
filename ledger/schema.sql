-- tunegrid ledger, schema version 1. Applied on every open; every statement is idempotent.
-- Append-only by design: rows are written as events arrive; only runs.status/ended_at and the
-- run's outcome columns are updated once, when the run ends.

CREATE TABLE IF NOT EXISTS meta (
  key   VARCHAR PRIMARY KEY,
  value VARCHAR NOT NULL
);

-- What can change results, hashed into env_hash; host name, GPU UUID, git state are recorded only.
CREATE TABLE IF NOT EXISTS environments (
  env_hash       VARCHAR PRIMARY KEY,
  hashed         JSON NOT NULL,      -- the exact facts that went into env_hash
  facts          JSON NOT NULL,      -- everything captured
  gpu_name       VARCHAR,
  gpu_memory_mib DOUBLE,
  driver         VARCHAR,
  cuda           VARCHAR,
  torch          VARCHAR,
  python         VARCHAR,
  hostname       VARCHAR,
  git_commit     VARCHAR,
  git_dirty      BOOLEAN,
  captured_at    TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS grids (
  grid_hash   VARCHAR PRIMARY KEY,   -- sha256 of source text + decoded definition + overrides
  name        VARCHAR NOT NULL,
  description VARCHAR,
  source_path VARCHAR,
  source_text VARCHAR,
  source_hash VARCHAR,
  definition  JSON NOT NULL,         -- decoded, overrides applied
  overrides   JSON NOT NULL,         -- the --set arguments, in order
  measure     JSON NOT NULL,
  created_at  TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS cells (
  cell_hash      VARCHAR PRIMARY KEY, -- sha256(canonical {config, seed, measure, trainer, dataset})
  label          VARCHAR,
  config         JSON NOT NULL,       -- fully resolved cell config (camelCase, as in the grid file)
  seed           INTEGER NOT NULL,
  measure        JSON NOT NULL,
  axis_values    JSON NOT NULL,       -- the fields that vary in the grid that first declared it
  trainer_digest VARCHAR NOT NULL,
  dataset_digest VARCHAR NOT NULL,
  created_at     TIMESTAMP DEFAULT current_timestamp
);

-- A trainer "script" cell's script (the user's training script): its path and the sha256 of its
-- content, hashed into the cell hash; rerun diffs it like the trainer sources and the dataset.
CREATE TABLE IF NOT EXISTS cell_scripts (
  cell_hash VARCHAR PRIMARY KEY,
  path      VARCHAR NOT NULL,
  digest    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
  run_id          VARCHAR PRIMARY KEY,
  cell_hash       VARCHAR NOT NULL,
  env_hash        VARCHAR NOT NULL,
  grid_hash       VARCHAR,
  seed            INTEGER NOT NULL,
  repeat          INTEGER NOT NULL,
  status          VARCHAR NOT NULL,   -- running | succeeded | failed | interrupted | skipped
  origin          VARCHAR NOT NULL,   -- live | ingest
  started_at      TIMESTAMP NOT NULL,
  ended_at        TIMESTAMP,
  finish_reason   VARCHAR,            -- window_complete | max_steps | max_seconds | stop_requested
  error_kind      VARCHAR,            -- oom | nan_loss | bad_spec | missing_dependency | data_error | crash | protocol | stalled
  error_message   VARCHAR,
  error_detail    VARCHAR,
  exit_code       INTEGER,
  exit_signal     VARCHAR,
  stderr_tail     VARCHAR,
  model_facts     JSON,
  data_facts      JSON,
  warnings        JSON,
  sampler_mode    VARCHAR,            -- nvml | smi | none
  sampler_reason  VARCHAR,
  gpu_total_mib   DOUBLE,
  energy_counter  BOOLEAN,
  rerun_of        VARCHAR,
  error_step      INTEGER,            -- failed: the step it failed at, as the trainer reported it
  error_memory_mib DOUBLE,            -- failed: memory in use then (CUDA allocated; RSS on a CPU cell)
  sampler_error   VARCHAR,          -- why the sampler stopped before the trainer (results then lack energy and device memory)
  idle_power_w            DOUBLE, -- sampler: mean power before the trainer started
  sentinel                INTEGER -- occurrence of the grid's sentinel cell; NULL for its own runs
);

CREATE TABLE IF NOT EXISTS steps (
  run_id                 VARCHAR NOT NULL,
  step                   INTEGER NOT NULL,
  t_start                DOUBLE NOT NULL,  -- epoch seconds, after device synchronize
  t_end                  DOUBLE NOT NULL,
  tokens                 BIGINT NOT NULL,  -- real (non-pad) tokens
  padded_tokens          BIGINT NOT NULL,  -- computed positions including padding
  samples                INTEGER NOT NULL,
  loss                   DOUBLE NOT NULL,
  lr                     DOUBLE NOT NULL,
  grad_norm              DOUBLE,
  mem_allocated_mib      DOUBLE,
  mem_reserved_mib       DOUBLE,
  mem_peak_allocated_mib DOUBLE,
  mem_peak_reserved_mib  DOUBLE,
  phase                  VARCHAR NOT NULL, -- warmup | window | after
  PRIMARY KEY (run_id, step)
);

CREATE TABLE IF NOT EXISTS samples (
  run_id       VARCHAR NOT NULL,
  t            DOUBLE NOT NULL,  -- epoch seconds, same clock as steps
  energy_mj    DOUBLE,           -- NVML total energy counter
  power_w      DOUBLE,
  mem_used_mib DOUBLE,           -- device view (includes non-torch and paged memory)
  util_pct     DOUBLE,
  sm_clock_mhz DOUBLE,
  temp_c       DOUBLE,
  throttle     BIGINT,           -- NVML clocks-event reasons bitmask
  host_rss_mib DOUBLE,
  host_cpu_pct DOUBLE
);

-- One row per finished run, computed by ledger/results.sql from steps and samples only.
CREATE TABLE IF NOT EXISTS results (
  run_id                  VARCHAR PRIMARY KEY,
  cell_hash               VARCHAR NOT NULL,
  env_hash                VARCHAR NOT NULL,
  steady                  BOOLEAN NOT NULL,  -- the steady window completed (not cut by a limit)
  steps_total             INTEGER NOT NULL,
  warmup_steps            INTEGER,           -- the cut: steps excluded as warm-up
  warmup_seconds          DOUBLE,
  window_steps            INTEGER,
  window_seconds          DOUBLE,
  wall_seconds            DOUBLE,            -- first step start to last step end
  tokens_total            BIGINT,
  padded_tokens_total     BIGINT,
  tokens_window           BIGINT,
  padded_tokens_window    BIGINT,
  tok_s                   DOUBLE,            -- real tokens / window wall time
  padded_tok_s            DOUBLE,
  t10k_s                  DOUBLE,            -- 10,000 / tok_s
  vram_peak_mib           DOUBLE,            -- NVML device-used peak over the run
  torch_peak_allocated_mib DOUBLE,
  torch_peak_reserved_mib DOUBLE,
  energy_j                DOUBLE,            -- over the window, by energy_method
  energy_method           VARCHAR,           -- counter | integrated | NULL (no GPU)
  energy_counter_j        DOUBLE,
  energy_integrated_j     DOUBLE,
  mean_power_w            DOUBLE,
  j_per_token             DOUBLE,
  j_per_token_est_95      DOUBLE,            -- the reference study's estimate: 95 W × window time
  j_per_token_est_115     DOUBLE,            -- and at 115 W
  loss_first              DOUBLE,
  loss_last               DOUBLE,
  flops_per_token         DOUBLE,
  steady_reason           VARCHAR, -- why steady is true or false, in words
  warmup_method           VARCHAR, -- steps | seconds | mser5 (detected, floor/cap)
  window_method           VARCHAR, -- steps | seconds | adaptive (stopped at the CI target)
  ci_target               DOUBLE, -- the grid's target CI half-width, fraction of tok/s
  ci_batches              INTEGER, -- batch-means batches behind the CI
  tok_s_ci_half           DOUBLE, -- 95% CI half-width of tok_s (batch means, ratio estimator)
  tok_s_ci_rel            DOUBLE, -- tok_s_ci_half / tok_s
  t10k_ci_low_s           DOUBLE, -- 10,000 / (tok_s + half)
  t10k_ci_high_s          DOUBLE, -- 10,000 / (tok_s − half); NULL if that is ≤ 0
  idle_power_w            DOUBLE,
  energy_above_idle_j     DOUBLE, -- energy_j − idle_power_w × window_seconds
  j_per_token_above_idle  DOUBLE,
  sm_clock_mean_mhz       DOUBLE, -- over the window's samples
  sm_clock_min_mhz        DOUBLE,
  throttle_reasons        BIGINT, -- OR of the NVML clocks-event reasons seen in the window
  throttled_fraction      DOUBLE, -- share of window samples slowed by power/thermal/HW reasons
  gpu_total_mib           DOUBLE, -- card capacity (NVML)
  vram_headroom_mib       DOUBLE, -- gpu_total_mib − vram_peak_mib
  flops_per_token_hfu     DOUBLE, -- flops_per_token + gradient-checkpointing recompute
  gpu_peak_tflops         DOUBLE, -- dense 16-bit peak from the trainer's GPU table
  mfu                     DOUBLE, -- flops_per_token × tok_s / peak
  hfu                     DOUBLE, -- flops_per_token_hfu × tok_s / peak
  sentinel_drift          BOOLEAN, -- this run lies between two sentinel runs whose tok/s differ beyond their CIs
  computed_at             TIMESTAMP DEFAULT current_timestamp
);

-- Ledgers made before the measurement columns get them here; fresh ledgers already have them from
-- CREATE TABLE above, so these are no-ops and no ADD COLUMN waits in the WAL (see below).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS idle_power_w DOUBLE;           -- sampler: mean power before the trainer started
ALTER TABLE runs ADD COLUMN IF NOT EXISTS sentinel INTEGER;              -- occurrence of the grid's sentinel cell; NULL for its own runs
ALTER TABLE results ADD COLUMN IF NOT EXISTS steady_reason VARCHAR;      -- why steady is true or false, in words
ALTER TABLE results ADD COLUMN IF NOT EXISTS warmup_method VARCHAR;      -- steps | seconds | mser5 (detected, floor/cap)
ALTER TABLE results ADD COLUMN IF NOT EXISTS window_method VARCHAR;      -- steps | seconds | adaptive (stopped at the CI target)
ALTER TABLE results ADD COLUMN IF NOT EXISTS ci_target DOUBLE;           -- the grid's target CI half-width, fraction of tok/s
ALTER TABLE results ADD COLUMN IF NOT EXISTS ci_batches INTEGER;         -- batch-means batches behind the CI
ALTER TABLE results ADD COLUMN IF NOT EXISTS tok_s_ci_half DOUBLE;       -- 95% CI half-width of tok_s (batch means, ratio estimator)
ALTER TABLE results ADD COLUMN IF NOT EXISTS tok_s_ci_rel DOUBLE;        -- tok_s_ci_half / tok_s
ALTER TABLE results ADD COLUMN IF NOT EXISTS t10k_ci_low_s DOUBLE;       -- 10,000 / (tok_s + half)
ALTER TABLE results ADD COLUMN IF NOT EXISTS t10k_ci_high_s DOUBLE;      -- 10,000 / (tok_s − half); NULL if that is ≤ 0
ALTER TABLE results ADD COLUMN IF NOT EXISTS idle_power_w DOUBLE;
ALTER TABLE results ADD COLUMN IF NOT EXISTS energy_above_idle_j DOUBLE; -- energy_j − idle_power_w × window_seconds
ALTER TABLE results ADD COLUMN IF NOT EXISTS j_per_token_above_idle DOUBLE;
ALTER TABLE results ADD COLUMN IF NOT EXISTS sm_clock_mean_mhz DOUBLE;   -- over the window's samples
ALTER TABLE results ADD COLUMN IF NOT EXISTS sm_clock_min_mhz DOUBLE;
ALTER TABLE results ADD COLUMN IF NOT EXISTS throttle_reasons BIGINT;    -- OR of the NVML clocks-event reasons seen in the window
ALTER TABLE results ADD COLUMN IF NOT EXISTS throttled_fraction DOUBLE;  -- share of window samples slowed by power/thermal/HW reasons
ALTER TABLE results ADD COLUMN IF NOT EXISTS gpu_total_mib DOUBLE;       -- card capacity (NVML)
ALTER TABLE results ADD COLUMN IF NOT EXISTS vram_headroom_mib DOUBLE;   -- gpu_total_mib − vram_peak_mib
ALTER TABLE results ADD COLUMN IF NOT EXISTS flops_per_token_hfu DOUBLE; -- flops_per_token + gradient-checkpointing recompute
ALTER TABLE results ADD COLUMN IF NOT EXISTS gpu_peak_tflops DOUBLE;     -- dense 16-bit peak from the trainer's GPU table
ALTER TABLE results ADD COLUMN IF NOT EXISTS mfu DOUBLE;                 -- flops_per_token × tok_s / peak
ALTER TABLE results ADD COLUMN IF NOT EXISTS hfu DOUBLE;                 -- flops_per_token_hfu × tok_s / peak
ALTER TABLE results ADD COLUMN IF NOT EXISTS sentinel_drift BOOLEAN;     -- this run lies between two sentinel runs whose tok/s differ beyond their CIs

-- Ledgers made before runs gained error_step, error_memory_mib and sampler_error get them here.
-- (DuckDB 1.5.6 cannot replay an ADD COLUMN from the WAL on a table with a DEFAULT
-- current_timestamp column, so never migrate those tables this way; Ledger.ts also checkpoints
-- right after applying this file so no migration waits in the WAL.)
ALTER TABLE runs ADD COLUMN IF NOT EXISTS error_step INTEGER;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS error_memory_mib DOUBLE;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS sampler_error VARCHAR;

-- Published figures a grid carries for a cell (issue #16): stored per grid version, never in the
-- cell hash. The view reference_check (ledger/references.sql) puts them beside the measurements.
CREATE TABLE IF NOT EXISTS cell_references (
  cell_hash   VARCHAR NOT NULL,
  grid_hash   VARCHAR NOT NULL,
  reference   JSON NOT NULL,       -- src/grid/reference.ts: source, tokS, t10kS, wallS, tokens, steps, warmupS, vramPeak, jPerToken, loss
  recorded_at TIMESTAMP NOT NULL,
  PRIMARY KEY (cell_hash, grid_hash)
);

-- VRAM budgets (issue #17). A budgeted run's `memory` events: the budget as applied, what
-- PyTorch's allocator held under its cap, and what it could not hold.
CREATE TABLE IF NOT EXISTS run_memory (
  run_id                   VARCHAR NOT NULL,
  step                     INTEGER NOT NULL,  -- the last optimizer step done when measured
  budget_name              VARCHAR NOT NULL,
  usable_mib               DOUBLE NOT NULL,   -- the card's memory a process can be given
  context_allowance_mib    DOUBLE NOT NULL,   -- stated allowance for the CUDA context
  cap_mib                  DOUBLE NOT NULL,   -- usable − allowance: PyTorch's allocator may reserve no more
  cap_applied_mib          DOUBLE NOT NULL,   -- the limit as the trainer set it
  device_total_mib         DOUBLE NOT NULL,   -- the GPU measured on
  torch_peak_allocated_mib DOUBLE,            -- held to the cap
  torch_peak_reserved_mib  DOUBLE,            -- held to the cap
  outside_torch_mib        DOUBLE,            -- this process's device memory outside the allocator (NVML): not held
  context_mib              DOUBLE,            -- the same before the model was built (CUDA context + libraries)
  paged_mib                DOUBLE,            -- bitsandbytes paged optimizer state (unified memory): not held
  t                        DOUBLE NOT NULL
);

-- The fit frontier (tunegrid fit): one row per probe (a few optimizer steps of the largest
-- micro-batch the data produces, under the budget), and one per finished search.
CREATE TABLE IF NOT EXISTS fit_probes (
  probe_id                 VARCHAR PRIMARY KEY,
  probe_hash               VARCHAR NOT NULL,  -- sha256 {config, seed, measure, trainer, dataset, probe}: resume key with env_hash
  search_id                VARCHAR NOT NULL,  -- the search (configuration, field, budget, headroom, bounds) it served
  env_hash                 VARCHAR NOT NULL,
  grid_hash                VARCHAR,
  field                    VARCHAR NOT NULL,  -- batchSize | tokensPerStep
  value                    INTEGER NOT NULL,
  outcome                  VARCHAR NOT NULL,  -- completed | oom | failed | interrupted
  steps                    INTEGER,           -- optimizer steps done
  cap_mib                  DOUBLE,            -- the budget's cap on PyTorch's allocator
  torch_peak_allocated_mib DOUBLE,
  torch_peak_reserved_mib  DOUBLE,
  outside_torch_mib        DOUBLE,
  paged_mib                DOUBLE,
  device_peak_mib          DOUBLE,            -- sampler (NVML) device-wide peak during the probe
  error_kind               VARCHAR,
  message                  VARCHAR,
  config                   JSON NOT NULL,     -- the probed cell config
  started_at               TIMESTAMP NOT NULL,
  ended_at                 TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS fit_frontiers (
  search_id          VARCHAR NOT NULL,
  env_hash           VARCHAR NOT NULL,
  grid_hash          VARCHAR,
  label              VARCHAR,               -- the grid cell searched
  config             JSON NOT NULL,         -- its config (the searched field as the grid had it)
  field              VARCHAR NOT NULL,
  budget             JSON NOT NULL,         -- {name, usableMib, contextMib, capMib}
  headroom           DOUBLE NOT NULL,       -- fits: no OOM and torch peak allocated ≤ (1 − headroom) × cap
  frontier           INTEGER,               -- the largest value that fits; NULL: not even the smallest
  reason             VARCHAR NOT NULL,
  probes             INTEGER NOT NULL,
  frontier_probe_id  VARCHAR,               -- the probe that ran at the frontier
  frontier_cell_hash VARCHAR,               -- the measured run's cell at the frontier
  decided_at         TIMESTAMP NOT NULL,
  PRIMARY KEY (search_id, env_hash)
);

-- The slot of a local pool (issue #18: `run --slots N`, `run --gpus 0,1|all`) that ran a run, and
-- its GPU: the trainer saw only that GPU (CUDA_VISIBLE_DEVICES = its UUID). Plain runs have no row.
CREATE TABLE IF NOT EXISTS run_slots (
  run_id    VARCHAR PRIMARY KEY,
  slot      VARCHAR NOT NULL,   -- "cpu 1", "gpu 0"
  gpu_index INTEGER,            -- nvidia-smi / NVML index; NULL for a CPU slot
  gpu_uuid  VARCHAR             -- GPU-…; NULL for a CPU slot
);

INSERT OR IGNORE INTO meta VALUES ('schema_version', '1');
