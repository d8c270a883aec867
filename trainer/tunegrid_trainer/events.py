"""The trainer's and sampler's stdout events of PROTOCOL.md §2–3 as dataclasses, by tag in
`EVENTS`; `stream.emit` writes them, `protocol.py --dump` describes them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal, Optional

from .cellspec import Spec, VramBudget

DataFormat = Literal["language_modeling", "prompt_completion", "conversational", "conversational_prompt_completion", "alpaca", "tokenized"]


@dataclass
class ModelFacts:
    name: str
    source: str
    random_weights: bool
    architecture: str
    layers: int
    hidden: int
    vocab: int
    params: int
    trainable_params: int
    n_mm: int  # frozen matmul weights incl. LM head
    n_lora: int
    attn_flops_per_token_per_seq_len: int  # A(L) = this × L, forward FLOPs per token
    flops_per_token: float  # train FLOPs per token at the data's token-weighted mean length
    flops_per_token_hfu: float  # the same plus gradient checkpointing's forward recompute
    gpu_peak_tflops: Optional[float]  # dense 16-bit tensor peak of this GPU (flops.py table); null if unknown
    gpu_peak_name: Optional[str]  # the table entry matched, e.g. "H100 SXM"


@dataclass
class DataFacts:
    source: str
    samples: int
    tokens_mean: float  # tokens per sample, after truncation
    tokens_median: float
    tokens_p95: float
    tokens_max: int
    truncated: int  # samples cut at max_seq_length
    # sha256 hex of the token ids (not the cell hash's dataset digest, which is of the data file or the
    # synthetic data's settings); `digest` before #19
    token_ids_sha256: str
    format: DataFormat  # detected from the rows; "tokenized": a user script's already tokenized dataset
    loss_tokens: int  # tokens whose next-token target carries loss, over all samples
    dropped: int  # samples dropped for lack of a loss token after truncation (TRL drops them too)


@dataclass
class EnvFacts:
    python: str
    torch: str
    transformers: str
    peft: str
    accelerate: str
    bitsandbytes: Optional[str]
    cuda: Optional[str]
    cudnn: Optional[str]
    device: Literal["cpu", "cuda"]
    gpu_name: Optional[str]
    gpu_memory_mib: Optional[float]
    gpu_uuid: Optional[str]
    driver: Optional[str]
    power_limit_w: Optional[float]
    os: str
    cpu: str
    hostname: str


@dataclass
class Started:
    run_id: str
    cell_hash: str
    spec: Spec
    model: ModelFacts
    data: DataFacts
    env: EnvFacts
    warnings: list[str]
    # seconds per start-up phase before this event (startup.py: interpreter, imports, checks, model,
    # tokenizer, data, compile, probe, wait, other); null from trainers that do not measure them
    timings: Optional[dict[str, float]] = None
    t: float = field(default_factory=time.time)


@dataclass
class Step:
    step: int  # 0-based optimizer step
    t_start: float
    t_end: float
    tokens: int  # real (non-pad) tokens over all micro-batches
    padded_tokens: int  # Σ batch × padded length
    samples: int
    loss: float  # mean over micro-batches
    lr: float
    grad_norm: Optional[float]  # before clipping; null when max_grad_norm is null
    mem_allocated_mib: Optional[float]  # torch.cuda, after the step; null on CPU
    mem_reserved_mib: Optional[float]
    mem_peak_allocated_mib: Optional[float]  # peak since the trainer started
    mem_peak_reserved_mib: Optional[float]
    phase: Literal["warmup", "window", "after"]
    # the window's 95% CI half-width of tok/s over its tok/s, from the stop rule's batch means
    # (what the adaptive window stops on); null before the window holds 2 steps
    ci_half_rel: Optional[float] = None
    t: float = field(default_factory=time.time)


@dataclass
class Finished:
    reason: Literal["window_complete", "max_steps", "max_seconds", "stop_requested"]
    steps: int
    warmup_steps: int  # index of the first window step (= steps if the window never began)
    window_steps: int
    t: float = field(default_factory=time.time)


@dataclass
class Memory:
    """Where a budgeted cell's memory went (only with `spec.vram_budget`): after the first step
    and before `finished`. What the cap held and what it could not."""

    step: int  # the last optimizer step done when measured
    budget: VramBudget
    cap_applied_mib: float  # the allocator's limit as set (fraction × the device's total)
    device_total_mib: float
    torch_peak_allocated_mib: float  # held to the cap
    torch_peak_reserved_mib: float  # held to the cap (what the allocator took from the device)
    outside_torch_mib: Optional[float]  # this process's device memory outside the allocator now (NVML); null: unknown
    context_mib: Optional[float]  # the same, measured before the model was built (CUDA context + libraries)
    paged_mib: float  # bitsandbytes paged optimizer state (unified memory; not held to the cap)
    t: float = field(default_factory=time.time)


FailureKind = Literal["oom", "nan_loss", "bad_spec", "missing_dependency", "data_error", "crash"]


@dataclass
class Failed:
    kind: FailureKind
    message: str
    step: Optional[int]
    memory_mib: Optional[float]  # torch.cuda allocated at failure; process RSS on a CPU cell
    detail: Optional[str]  # short traceback tail
    t: float = field(default_factory=time.time)


# ---------------------------------------------------------------- sampler events (§3)


@dataclass
class SamplerInfo:
    mode: Literal["nvml", "smi", "none"]
    reason: str
    gpu_index: int
    gpu_name: Optional[str]
    memory_total_mib: Optional[float]
    power_limit_w: Optional[float]
    energy_counter: bool
    interval_ms: int
    idle_power_w: Optional[float]  # mean power over idle_samples readings taken before this event
    idle_samples: int  # 0 when idle power was not measured (no GPU, no power reading, --idle-ms 0)
    t: float = field(default_factory=time.time)


@dataclass
class Sample:
    energy_mj: Optional[float]  # NVML total energy since driver load, mJ
    power_w: Optional[float]
    mem_used_mib: Optional[float]
    util_pct: Optional[float]
    sm_clock_mhz: Optional[float]
    temp_c: Optional[float]
    throttle: Optional[int]  # NVML clocks-event reasons bitmask
    host_rss_mib: Optional[float]
    host_cpu_pct: Optional[float]  # system-wide, since the previous sample
    t: float = field(default_factory=time.time)


EVENTS: dict[str, type] = {
    "started": Started,
    "step": Step,
    "finished": Finished,
    "failed": Failed,
    "memory": Memory,
    "sampler": SamplerInfo,
    "sample": Sample,
}
