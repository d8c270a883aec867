"""The cell spec of PROTOCOL.md §1 as typed dataclasses: what `spec.py` decodes cell.json into
and what `protocol.py --dump` describes for the contract test. Keys are the snake_case of the
grid's field names (src/grid/schema.ts), Hugging Face's where HF has one (learning_rate,
gradient_accumulation_steps, lora_alpha, bnb_4bit_quant_type…)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Union

from .presets import PRESETS as _PRESET_TABLE

PRESETS = tuple(_PRESET_TABLE)
Preset = Literal[PRESETS]  # type: ignore[valid-type]  # the names in presets.json, the one preset list
Dtype = Literal["fp32", "fp16", "bf16"]


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
    lora_alpha: float
    lora_dropout: float
    target_modules: list[str]


@dataclass(frozen=True)
class QuantSpec:
    bnb_4bit_quant_type: Literal["nf4", "fp4"]
    bnb_4bit_use_double_quant: bool
    bnb_4bit_compute_dtype: Dtype


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
    min_seconds: float  # the window spans at least this long (energy counter resolution) before it may stop


@dataclass(frozen=True)
class Adaptive:
    adaptive: AdaptiveBounds


@dataclass(frozen=True)
class Measure:
    warmup: Union[Steps, Seconds, Detect]
    window: Union[Steps, Seconds, Adaptive]
    ci_target: Optional[float]  # adaptive: stop once the 95% CI half-width of tok/s is ≤ this fraction of it
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
    learning_rate: float
    lr_scheduler_type: Literal["constant", "linear", "cosine"]
    warmup_steps: int  # optimizer steps of linear learning-rate warm-up
    weight_decay: float
    max_grad_norm: Optional[float]
    batch_size: int  # samples per micro-batch
    gradient_accumulation_steps: int  # micro-batches per optimizer step
    max_seq_length: int  # tokens
    gradient_checkpointing: Literal[True, False, "auto"]  # "auto": off when the memory probe says it fits
    deterministic: bool  # deterministic algorithms + cuBLAS workspace; losses repeat bit for bit
    padding: Literal["dynamic", "packed"]  # packed: padding-free rows, document-masked attention
    loss_kernel: Literal["standard", "fused"]  # fused: chunked linear cross-entropy
    compile: bool  # torch.compile each decoder layer
    tokens_per_step: Optional[int]  # token budget per optimizer step (split over gradient_accumulation_steps); null: batch_size samples
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
