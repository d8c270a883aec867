"""The wire shapes of PROTOCOL.md: the cell spec, every trainer and sampler event, and `emit`.

This module is the Python half of the contract; `python -m tunegrid_trainer.protocol --dump`
prints it for `test/contract.test.ts`. Dump format (one JSON object):

    {"<name>": {"required": [paths], "optional": [paths], "enums": {path: [values]}}, ...}

for name in started, step, finished, failed, sampler, sample, spec.
- A path is a key, or a dotted path into a nested object: "model.params".
- "required": the key is always present and never null. "optional": the key is always present
  but may be null (the trainer never omits keys). A path under a nullable object ("quant.quant_type")
  is listed as required when it is required whenever its parent is non-null.
- A field holding one of several object shapes lists each shape's keys with the variant in
  brackets: "model[preset].name", "model[hub].id", "measure.warmup[steps].steps". The variant is
  the value of the object's "source" key, or, for shapes without "source", the name of their
  single key (warmup/window: "steps" | "seconds").
- "enums" maps a path to the allowed string/int values (Literal types).
- `started.spec` is listed as one key "spec"; its shape is the "spec" entry.
Every event has "event" (its tag, the entry's name) and "t" (Unix seconds).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
import typing
from dataclasses import dataclass, field
from typing import Literal, Optional, Union

from .presets import PRESETS as _PRESET_TABLE  # noqa: E402  (presets.json: the one preset list)

PRESETS = tuple(_PRESET_TABLE)
Preset = Literal[PRESETS]  # type: ignore[valid-type]  # the names in presets.json
Dtype = Literal["fp32", "fp16", "bf16"]
DataFormat = Literal["language_modeling", "prompt_completion", "conversational", "conversational_prompt_completion",
                     "alpaca", "tokenized"]

# ---------------------------------------------------------------- cell spec (PROTOCOL.md §1)


@dataclass(frozen=True)
class PresetModel:
    source: Literal["preset"]
    name: Preset


@dataclass(frozen=True)
class HubModel:
    source: Literal["hub"]
    id: str


@dataclass(frozen=True)
class LocalModel:
    source: Literal["local"]
    path: str


@dataclass(frozen=True)
class FileTokenizer:
    source: Literal["file"]
    path: str  # a directory holding tokenizer.json, or the tokenizer.json file itself


@dataclass(frozen=True)
class ModelTokenizer:
    source: Literal["model"]


@dataclass(frozen=True)
class LoraSpec:
    r: int
    alpha: float
    dropout: float
    target_modules: list[str]


@dataclass(frozen=True)
class QuantSpec:
    quant_type: Literal["nf4", "fp4"]
    double_quant: bool
    compute_dtype: Dtype


@dataclass(frozen=True)
class SyntheticData:
    source: Literal["synthetic"]
    samples: int
    seed: int


@dataclass(frozen=True)
class Columns:
    """The data's column for each field a format reads; null: the field's own name."""

    text: Optional[str]
    prompt: Optional[str]
    completion: Optional[str]
    messages: Optional[str]
    instruction: Optional[str]
    input: Optional[str]
    output: Optional[str]


@dataclass(frozen=True)
class FileData:
    source: Literal["file"]
    path: str  # JSON array, JSONL, .parquet or .csv of rows in one of formats.FORMATS
    samples: Optional[int]  # null = all rows
    columns: Optional[Columns]  # null = no renaming


@dataclass(frozen=True)
class HubData:
    source: Literal["hub"]
    name: str
    split: str
    subset: Optional[str]  # the dataset's config name; null = its default
    samples: Optional[int]
    columns: Optional[Columns]


@dataclass(frozen=True)
class ScriptSpec:
    path: str  # absolute path of the user's training script
    args: list[str]  # its command-line arguments (grid placeholders already filled in)
    cwd: str  # the directory it runs in (the grid file's)


@dataclass(frozen=True)
class Steps:
    steps: int


@dataclass(frozen=True)
class Seconds:
    seconds: float


@dataclass(frozen=True)
class DetectBounds:
    floor_seconds: float  # the cut is never earlier than the first step starting this late
    cap_seconds: float  # nor later than the first step starting this late


@dataclass(frozen=True)
class Detect:
    detect: DetectBounds  # warm-up detected by MSER-5 on the per-step token rate


@dataclass(frozen=True)
class AdaptiveBounds:
    ci_target: float  # stop once the 95% CI half-width of tok/s is ≤ this fraction of it
    min_seconds: float  # and the window spans at least this long (energy counter resolution)


@dataclass(frozen=True)
class Adaptive:
    adaptive: AdaptiveBounds


@dataclass(frozen=True)
class Measure:
    warmup: Union[Steps, Seconds, Detect]
    window: Union[Steps, Seconds, Adaptive]
    max_steps: int  # optimizer steps
    max_seconds: float  # training wall time, s


@dataclass(frozen=True)
class VramBudget:
    """A smaller card's memory (PROTOCOL.md §1 `vram_budget`), resolved by the runner."""

    name: str  # the card, e.g. "RTX 4060 8 GB", or the size as given
    usable_mib: float  # the card's memory a process can be given
    context_mib: float  # allowance for the CUDA context, which PyTorch's allocator does not count
    cap_mib: float  # usable − context: the most PyTorch's allocator may reserve


@dataclass(frozen=True)
class Spec:
    version: Literal[1]
    run_id: str
    cell_hash: str
    model: Union[PresetModel, HubModel, LocalModel]
    tokenizer: Union[FileTokenizer, ModelTokenizer]
    method: Literal["lora", "qlora"]
    lora: LoraSpec
    quant: Optional[QuantSpec]
    precision: Dtype
    optim: Literal["adamw_torch", "adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit"]
    lr: float
    lr_schedule: Literal["constant", "linear", "cosine"]
    lr_warmup_steps: int
    weight_decay: float
    max_grad_norm: Optional[float]
    batch_size: int  # samples per micro-batch
    grad_accum: int  # micro-batches per optimizer step
    max_seq_len: int  # tokens
    gradient_checkpointing: Literal[True, False, "auto"]  # "auto": off when the memory probe says it fits
    deterministic: bool  # deterministic algorithms + cuBLAS workspace; losses repeat bit for bit
    padding: Literal["dynamic", "packed"]  # packed: padding-free rows, document-masked attention
    loss_kernel: Literal["standard", "fused"]  # fused: chunked linear cross-entropy
    compile: bool  # torch.compile each decoder layer
    tokens_per_step: Optional[int]  # token budget per optimizer step (split over grad_accum); null: batch_size samples
    seed: int
    device: Literal["auto", "cpu", "cuda"]
    data: Union[SyntheticData, FileData, HubData]
    template: Literal["alpaca", "chat"]
    measure: Measure
    torch_dtype: Optional[Literal["auto", "fp32", "fp16", "bf16"]]  # frozen base weights (LoRA); null: precision's dtype
    vram_budget: Optional[VramBudget]  # hold PyTorch's CUDA allocator to vram_budget.cap_mib; null: no budget
    probe: bool  # every micro-batch the largest shape the data produces (the runner's fit probes)
    trainer: Literal["tunegrid", "hf", "trl", "script"]  # who trains: tunegrid's loop, HF Trainer, TRL SFTTrainer, the user's script
    script: Optional[ScriptSpec]  # trainer "script" only
    completion_only_loss: Optional[bool]  # null: TRL's default (completion only for prompt-completion rows)
    assistant_only_loss: bool  # loss on the assistant turns only (conversational rows)


# ---------------------------------------------------------------- trainer events (§2)


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
    truncated: int  # samples cut at max_seq_len
    digest: str  # sha256 hex of the token ids
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
_TAGS = {cls: name for name, cls in EVENTS.items()}

# ---------------------------------------------------------------- emitting

_out = sys.stdout


def claim_stdout() -> None:
    """Keep the real stdout for events and point fd 1 at stderr, so stray prints from
    libraries (Python or C) cannot corrupt the JSON-lines stream."""
    global _out
    sys.stdout.flush()
    _out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def stdin_lines():
    """Lines of stdin until it closes, read from fd 0 directly: a daemon thread blocked inside
    sys.stdin would hold its buffer lock and abort the interpreter at exit."""
    pending = b""
    while True:
        try:
            chunk = os.read(0, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            if pending:
                yield pending.decode("utf-8", "replace")
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace")
        pending = pending[-65536:]  # a line longer than 64 KiB is no command; keep memory bounded


def _clean(value):
    """JSON-ready copy of an event value; non-finite floats become null (never NaN/Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def to_json(event) -> str:
    body = _clean(dataclasses.asdict(event))
    return json.dumps({"event": _TAGS[type(event)], **body}, allow_nan=False, separators=(",", ":"))


def emit(event) -> None:
    _out.write(to_json(event) + "\n")
    _out.flush()


# ---------------------------------------------------------------- --dump


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _variant(cls) -> str:
    hints = _hints(cls)
    if "source" in hints:
        return typing.get_args(hints["source"])[0]
    (only,) = hints
    return only


def _walk(cls, prefix: str, nullable_parent: bool, out: dict) -> None:
    for name, tp in _hints(cls).items():
        path = prefix + name
        optional = False
        if typing.get_origin(tp) is Union and type(None) in typing.get_args(tp):
            optional = True
            (tp,) = [a for a in typing.get_args(tp) if a is not type(None)]
        out["optional" if optional else "required"].append(path)
        if tp is Spec:
            continue  # started.spec: see the "spec" entry
        if typing.get_origin(tp) is Literal:
            out["enums"][path] = list(typing.get_args(tp))
        elif dataclasses.is_dataclass(tp):
            _walk(tp, path + ".", optional, out)
        elif typing.get_origin(tp) is Union:
            for member in typing.get_args(tp):
                _walk(member, f"{path}[{_variant(member)}].", optional, out)


def describe(cls, tag: Optional[str]) -> dict:
    out: dict = {"required": ["event"] if tag else [], "optional": [], "enums": {}}
    if tag:
        out["enums"]["event"] = [tag]
    _walk(cls, "", False, out)
    return out


def dump() -> dict:
    shapes = {name: describe(cls, name) for name, cls in EVENTS.items()}
    shapes["spec"] = describe(Spec, None)
    return shapes


if __name__ == "__main__":
    if sys.argv[1:] != ["--dump"]:
        sys.exit("usage: python -m tunegrid_trainer.protocol --dump")
    print(json.dumps(dump(), indent=2))
