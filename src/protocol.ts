// The trainer's and sampler's stdout events (trainer/PROTOCOL.md), decoded strictly: a line
// that does not decode is a protocol error, never skipped. Mirrors tunegrid_trainer/protocol.py;
// test/contract.test.ts checks the two agree.
import { Result, Schema } from "effect"

// Every number is finite (the trainer writes NaN/Infinity as null; `1e400` would parse as
// Infinity). Numbers stored in the ledger's INTEGER and BIGINT columns (ledger/schema.sql) are
// integers in that column's range, so an event the ledger could not hold fails its run as
// `protocol` here, before any write, rather than as a DuckDB error in the middle of a grid.
const Num = Schema.Finite
const NullNum = Schema.NullOr(Schema.Finite)
const NullStr = Schema.NullOr(Schema.String)
/** INTEGER columns (steps.step, steps.samples, runs.error_step). */
const Int32 = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 31 - 1 })))
/** BIGINT columns (token counts, the throttle bitmask): Schema.Int already stops at 2^53. */
const Count = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

export const ModelFacts = Schema.Struct({
  name: Schema.String,
  source: Schema.String,
  random_weights: Schema.Boolean,
  architecture: Schema.String,
  layers: Num,
  hidden: Num,
  vocab: Num,
  params: Num,
  trainable_params: Num,
  n_mm: Num,
  n_lora: Num,
  attn_flops_per_token_per_seq_len: Num,
  flops_per_token: Num,
  flops_per_token_hfu: Num,
  gpu_peak_tflops: NullNum,
  gpu_peak_name: NullStr
})

const dataFacts = {
  source: Schema.String,
  samples: Num,
  tokens_mean: Num,
  tokens_median: Num,
  tokens_p95: Num,
  tokens_max: Num,
  truncated: Num,
  /** Detected from the rows (trainer/tunegrid_trainer/formats.py); "tokenized": a user script's tokenized dataset. */
  format: Schema.Literals([
    "language_modeling",
    "prompt_completion",
    "conversational",
    "conversational_prompt_completion",
    "alpaca",
    "tokenized"
  ]),
  /** Tokens whose next-token target carries loss, over all samples. */
  loss_tokens: Num,
  /** Samples dropped for lack of a loss token after truncation (as TRL drops them). */
  dropped: Num
}

export const DataFacts = Schema.Union([
  /** sha256 of the token ids: not the cell hash's dataset digest (the data file's, or the synthetic data's settings). */
  Schema.Struct({ ...dataFacts, token_ids_sha256: Schema.String }),
  /** Event files and run folders written before #19 called it `digest`: they still decode (the ledger keeps data_facts as sent). */
  Schema.Struct({ ...dataFacts, digest: Schema.String })
])

export const EnvFacts = Schema.Struct({
  python: Schema.String,
  torch: Schema.String,
  transformers: Schema.String,
  peft: Schema.String,
  accelerate: Schema.String,
  bitsandbytes: NullStr,
  cuda: NullStr,
  cudnn: NullStr,
  device: Schema.String,
  gpu_name: NullStr,
  gpu_memory_mib: NullNum,
  gpu_uuid: NullStr,
  driver: NullStr,
  power_limit_w: NullNum,
  os: Schema.String,
  cpu: Schema.String,
  hostname: Schema.String
})
export type EnvFacts = typeof EnvFacts.Type

export const Started = Schema.Struct({
  event: Schema.Literal("started"),
  t: Num,
  run_id: Schema.String,
  cell_hash: Schema.String,
  spec: Schema.Unknown,
  model: ModelFacts,
  data: DataFacts,
  env: EnvFacts,
  warnings: Schema.Array(Schema.String),
  /** Seconds per start-up phase before this event (imports, model, data…); absent from older trainers. */
  timings: Schema.optionalKey(Schema.NullOr(Schema.Record(Schema.String, Num)))
})

export const Step = Schema.Struct({
  event: Schema.Literal("step"),
  t: Num,
  step: Int32,
  t_start: Num,
  t_end: Num,
  tokens: Count,
  padded_tokens: Count,
  samples: Int32,
  loss: Num,
  lr: Num,
  grad_norm: NullNum,
  mem_allocated_mib: NullNum,
  mem_reserved_mib: NullNum,
  mem_peak_allocated_mib: NullNum,
  mem_peak_reserved_mib: NullNum,
  phase: Schema.Literals(["warmup", "window", "after"]),
  /** The window's 95% CI half-width of tok/s over its tok/s, from the trainer's stop rule (batch
   * means: what an adaptive window stops on); null before the window holds 2 steps. Absent in
   * event files written before trainers reported it (#19), so those still decode. */
  ci_half_rel: Schema.optionalKey(NullNum)
})
export type Step = typeof Step.Type

export const FinishReason = Schema.Literals(["window_complete", "max_steps", "max_seconds", "stop_requested"])

export const Finished = Schema.Struct({
  event: Schema.Literal("finished"),
  t: Num,
  reason: FinishReason,
  steps: Num,
  warmup_steps: Num,
  window_steps: Num
})

export const FailureKind = Schema.Literals(["oom", "nan_loss", "bad_spec", "missing_dependency", "data_error", "crash"])
export type FailureKind = typeof FailureKind.Type

export const Failed = Schema.Struct({
  event: Schema.Literal("failed"),
  t: Num,
  kind: FailureKind,
  message: Schema.String,
  step: Schema.NullOr(Int32),
  memory_mib: NullNum,
  detail: NullStr
})

/** Where a budgeted cell's memory went (only with a VRAM budget; PROTOCOL.md §2 `memory`). */
export const Memory = Schema.Struct({
  event: Schema.Literal("memory"),
  t: Num,
  step: Num,
  budget: Schema.Struct({ name: Schema.String, usable_mib: Num, context_mib: Num, cap_mib: Num }),
  cap_applied_mib: Num,
  device_total_mib: Num,
  torch_peak_allocated_mib: Num,
  torch_peak_reserved_mib: Num,
  outside_torch_mib: NullNum,
  context_mib: NullNum,
  paged_mib: Num
})
export type Memory = typeof Memory.Type

export const TrainerEvent = Schema.Union([Started, Step, Finished, Failed, Memory])
export type TrainerEvent = typeof TrainerEvent.Type

export const SamplerInfo = Schema.Struct({
  event: Schema.Literal("sampler"),
  t: Num,
  mode: Schema.Literals(["nvml", "smi", "none"]),
  reason: Schema.String,
  gpu_index: NullNum,
  gpu_name: NullStr,
  memory_total_mib: NullNum,
  power_limit_w: NullNum,
  energy_counter: Schema.Boolean,
  interval_ms: Num,
  idle_power_w: NullNum,
  idle_samples: Num
})

export const Sample = Schema.Struct({
  event: Schema.Literal("sample"),
  t: Num,
  energy_mj: NullNum,
  power_w: NullNum,
  mem_used_mib: NullNum,
  util_pct: NullNum,
  sm_clock_mhz: NullNum,
  temp_c: NullNum,
  throttle: Schema.NullOr(Count),
  host_rss_mib: NullNum,
  host_cpu_pct: NullNum
})
export type Sample = typeof Sample.Type

export const SamplerEvent = Schema.Union([SamplerInfo, Sample])
export type SamplerEvent = typeof SamplerEvent.Type

/** The event schemas by tag, for the contract test. */
export const eventSchemas = {
  started: Started,
  step: Step,
  finished: Finished,
  failed: Failed,
  memory: Memory,
  sampler: SamplerInfo,
  sample: Sample
} as const

const options = { errors: "all", onExcessProperty: "error" } as const
const decodeTrainer = Schema.decodeUnknownResult(Schema.fromJsonString(TrainerEvent))
const decodeSampler = Schema.decodeUnknownResult(Schema.fromJsonString(SamplerEvent))

/** Decode one stdout line; the failure is a message naming what was wrong. */
export const decodeTrainerLine = (line: string): Result.Result<TrainerEvent, string> =>
  Result.mapError(decodeTrainer(line, options), (e) => e.message)

/** What a single line's schema cannot check: step numbers increase from one event to the next
 * (a repeated step would also collide in the ledger's steps table). A checker per trainer run. */
export const trainerSequence = () => {
  let last: number | null = null
  return (event: TrainerEvent): string | null => {
    if (event.event !== "step") return null
    if (last !== null && event.step <= last) return `step ${event.step} after step ${last} (step numbers must increase)`
    last = event.step
    return null
  }
}

export const decodeSamplerLine = (line: string): Result.Result<SamplerEvent, string> =>
  Result.mapError(decodeSampler(line, options), (e) => e.message)
