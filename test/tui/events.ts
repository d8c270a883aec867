// Builders for RunEvents shaped exactly as the runner emits them, for the TUI's tests.
import type { RunEnd } from "../../src/ledger/records.ts"
import type { PlanInfo, RunEvent, RunFigures } from "../../src/progress.ts"
import type { SamplerEvent, TrainerEvent } from "../../src/protocol.ts"

export const plan = (at = 0, extra: Partial<PlanInfo> = {}): RunEvent => ({
  type: "plan",
  at,
  info: {
    grid: "demo",
    cells: 3,
    runs: 3,
    toRun: 2,
    ledger: "/tmp/x.duckdb",
    envHash: "f40190b6794b".padEnd(64, "0"),
    device: "cpu",
    gpuMemoryMib: null,
    measure: { warmup: { steps: 3 }, window: { steps: 12 }, maxSteps: 1000, maxSeconds: 60 },
    rows: ["aa", "bb", "cc"].map((h, i) => ({
      position: `${i + 1}/3`,
      cellHash: h.repeat(32),
      repeat: 0,
      label: null,
      axisValues: { batchSize: [1, 4, 8][i], learningRate: 0.003 }
    })),
    ...extra
  }
})

export const started = (position: string, at: number, gpu: { name: string; memoryMib: number } | null = null): RunEvent => ({
  type: "trainer",
  at,
  position,
  event: {
    event: "started",
    t: at / 1000,
    run_id: "r",
    cell_hash: "h",
    spec: {},
    model: {
      name: "tiny",
      source: "preset",
      random_weights: true,
      architecture: "qwen2",
      layers: 2,
      hidden: 64,
      vocab: 151643,
      params: 9.8e6,
      trainable_params: 1e4,
      n_mm: 1,
      n_lora: 1,
      attn_flops_per_token_per_seq_len: 1,
      flops_per_token: 1,
      flops_per_token_hfu: 1,
      gpu_peak_tflops: null,
      gpu_peak_name: null
    },
    data: {
      source: "synthetic",
      samples: 256,
      tokens_mean: 92,
      tokens_median: 90,
      tokens_p95: 120,
      tokens_max: 128,
      truncated: 0,
      token_ids_sha256: "d",
      format: "alpaca",
      loss_tokens: 23296,
      dropped: 0
    },
    env: {
      python: "3.12",
      torch: "2",
      transformers: "4",
      peft: "0",
      accelerate: "1",
      bitsandbytes: null,
      cuda: null,
      cudnn: null,
      device: gpu ? "cuda" : "cpu",
      gpu_name: gpu?.name ?? null,
      gpu_memory_mib: gpu?.memoryMib ?? null,
      gpu_uuid: null,
      driver: null,
      power_limit_w: null,
      os: "linux",
      cpu: "x",
      hostname: "h"
    },
    warnings: []
  } satisfies TrainerEvent
})

/** A step of `tokens` tokens lasting `seconds`, starting at `t0` (epoch s); `ci`: the trainer's
 * relative CI half-width (`ci_half_rel`), left out of the event when undefined, as older trainers did. */
export const step = (
  position: string,
  i: number,
  phase: "warmup" | "window" | "after",
  t0: number,
  tokens: number,
  seconds: number,
  loss = 5 - i * 0.1,
  reservedMib: number | null = null,
  ci?: number | null
): RunEvent => ({
  type: "trainer",
  at: (t0 + seconds) * 1000,
  position,
  event: {
    event: "step",
    t: t0 + seconds,
    step: i,
    t_start: t0,
    t_end: t0 + seconds,
    tokens,
    padded_tokens: tokens,
    samples: 1,
    loss,
    lr: 1e-3,
    grad_norm: null,
    mem_allocated_mib: null,
    mem_reserved_mib: reservedMib,
    mem_peak_allocated_mib: null,
    mem_peak_reserved_mib: reservedMib,
    phase,
    ...(ci === undefined ? {} : { ci_half_rel: ci })
  } satisfies TrainerEvent
})

export const samplerInfo = (
  position: string,
  mode: "nvml" | "none",
  memTotal: number | null,
  reason = mode === "none" ? "no NVIDIA GPU" : "ok"
): RunEvent => ({
  type: "sampler",
  at: 0,
  position,
  event: {
    event: "sampler",
    t: 0,
    mode,
    reason,
    gpu_index: null,
    gpu_name: null,
    memory_total_mib: memTotal,
    power_limit_w: null,
    energy_counter: mode === "nvml",
    interval_ms: 100,
    idle_power_w: null,
    idle_samples: 0
  } satisfies SamplerEvent
})

export const sample = (position: string, t: number, powerW: number | null, energyMj: number | null, memUsed: number | null): RunEvent => ({
  type: "sampler",
  at: t * 1000,
  position,
  event: {
    event: "sample",
    t,
    energy_mj: energyMj,
    power_w: powerW,
    mem_used_mib: memUsed,
    util_pct: null,
    sm_clock_mhz: null,
    temp_c: null,
    throttle: null,
    host_rss_mib: 512,
    host_cpu_pct: null
  } satisfies SamplerEvent
})

const endBase: RunEnd = {
  status: "succeeded",
  endedAt: 0,
  finishReason: "window_complete",
  errorKind: null,
  errorMessage: null,
  errorDetail: null,
  exitCode: 0,
  exitSignal: null,
  stderrTail: null
}

export const figures = (tokS: number, extra: Partial<RunFigures> & { steady?: boolean } = {}): RunFigures => ({
  tok_s: tokS,
  t10k_s: 10_000 / tokS,
  vram_peak_mib: 6144,
  torch_peak_reserved_mib: 5000,
  j_per_token: 0.0123,
  energy_method: "counter",
  window_steps: 12,
  window_seconds: 30,
  tok_s_ci_rel: null,
  steady: true,
  steady_reason: null,
  ...extra
})

export const end = (position: string, at: number, e: Partial<RunEnd> = {}, f: RunFigures | null = null): RunEvent => ({
  type: "end",
  at,
  position,
  end: { ...endBase, ...e },
  figures: f
})
