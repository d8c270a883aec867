"""Builds the model a cell trains: a preset with random weights (real published configs, built
directly on the target device and dtype), or a hub / local checkpoint; wrapped with LoRA through
PEFT, or 4-bit QLoRA through bitsandbytes; gradient checkpointing; and the model's facts."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import torch

from . import vram
from .errors import MissingDependency, SpecError
from .flops import attn_flops_per_token_per_seq_len, count_matmul_weights

TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

# Published configs (config.json of each hub repo), in presets.json (shared with the runner's checks).
from .presets import PRESETS  # noqa: E402

if TYPE_CHECKING:
    from .cellspec import Spec

# torch_dtype "auto" on a preset: the dtype its published checkpoint is stored in (config.json
# "torch_dtype": "bfloat16" for the Qwen2.5 and Llama 3.1 repos; tiny, which has none, follows them).
PRESET_CHECKPOINT_DTYPE = torch.bfloat16

BNB_INSTALL = "pip install 'tunegrid-trainer[gpu]' (or: pip install bitsandbytes)"


def require_bitsandbytes(why: str):
    try:
        import bitsandbytes  # noqa: F401
    except Exception as e:  # ImportError, or a broken CUDA setup raising at import
        raise MissingDependency(f"{why} needs bitsandbytes, which is not importable ({e}); install it: {BNB_INSTALL}") from e
    return bitsandbytes


def preset_config(name: str):
    from transformers import AutoConfig

    model_type, kwargs = PRESETS[name]
    config = AutoConfig.for_model(model_type, **kwargs)
    config.architectures = ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"]
    return config


def random_model(config, device: str, dtype: torch.dtype):
    """Random weights allocated and initialised on `device` in `dtype` (no fp32 CPU detour);
    device "meta" gives shapes only."""
    from transformers import AutoModelForCausalLM

    with torch.device(device):
        return AutoModelForCausalLM.from_config(config, dtype=dtype)


def _bnb_config(quant_type: str, double_quant: bool, compute_dtype: str):
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant_type,
        bnb_4bit_use_double_quant=double_quant,
        bnb_4bit_compute_dtype=TORCH_DTYPES[compute_dtype],
    )


def _load_pretrained(where: str, dtype: torch.dtype, device: str, quantization_config=None):
    from transformers import AutoModelForCausalLM

    device_map = {"": torch.cuda.current_device()} if device == "cuda" else None
    try:
        return AutoModelForCausalLM.from_pretrained(where, dtype=dtype, device_map=device_map, quantization_config=quantization_config)
    except OSError as e:
        raise SpecError(f"cannot load model {where!r}: {e}") from e


@dataclass
class BuiltModel:
    model: torch.nn.Module
    name: str
    random_weights: bool
    warnings: list[str] = field(default_factory=list)


def build_model(
    *,
    source: str,
    where: str,  # preset name, hub id or local path
    method: str,
    lora_r: int,
    lora_alpha: float,
    lora_dropout: float,
    target_modules: list[str],
    quant_type: Optional[str],
    double_quant: Optional[bool],
    compute_dtype: Optional[str],
    precision: str,
    gradient_checkpointing: bool,
    device: str,
    torch_dtype: Optional[str] = None,
) -> BuiltModel:
    warnings: list[str] = []
    if method == "qlora":
        require_bitsandbytes("method qlora")
        dtype = TORCH_DTYPES[compute_dtype]
        quant = _bnb_config(quant_type, double_quant, compute_dtype)
        if source == "preset":
            # bitsandbytes quantizes while loading, so the random model goes through a temporary
            # checkpoint; equivalent to loading a real checkpoint of the same shapes.
            tmp = tempfile.mkdtemp(prefix="tunegrid-qlora-")
            try:
                with vram.lifted():  # a VRAM budget holds what loading a real checkpoint would take, not this
                    random_model(preset_config(where), device, dtype).save_pretrained(tmp)
                    torch.cuda.empty_cache()
                model = _load_pretrained(tmp, dtype, device, quant)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        else:
            model = _load_pretrained(where, dtype, device, quant)
        # PEFT's prepare_model_for_kbit_training would also upcast every non-quantized weight
        # (norms, embeddings, the tied LM head) to fp32; an fp32 norm weight turns the residual
        # stream fp32, so activations double and QLoRA ran at 0.77× LoRA on the H100 (8k tokens per
        # step, compiled). Frozen and in the compute dtype, as in the LoRA path, they are the same
        # model as LoRA's except for the 4-bit linear weights.
        for p in model.parameters():
            p.requires_grad_(False)
        if torch_dtype == "fp32":
            upcast_unquantized(model)
            warnings.append(
                "torch_dtype fp32: embeddings, norms and LM head upcast to fp32, as PEFT's"
                " prepare_model_for_kbit_training does (the residual stream then runs in fp32)"
            )
        if gradient_checkpointing:
            enable_checkpointing(model)
    else:
        # by default fp16/bf16 keep frozen base weights in half precision; torch_dtype says otherwise
        # (fp32 weights under 16-bit autocast, as transformers 4.x loaded them unless told); PEFT keeps
        # adapters in fp32
        dtype = base_dtype(torch_dtype, precision, source)
        if source == "preset":
            model = random_model(preset_config(where), device, dtype)
        else:
            model = _load_pretrained(where, dtype, device)
        if torch_dtype is not None:
            loaded = next(model.parameters()).dtype
            warnings.append(
                f"base weights loaded in {str(loaded).removeprefix('torch.')} (torch_dtype {torch_dtype}), training precision {precision}"
            )
        if gradient_checkpointing:
            enable_checkpointing(model)
    model.config.use_cache = False
    if source == "preset":
        warnings.append("random weights: throughput and memory do not depend on weight values")
    model = add_lora(model, lora_r, lora_alpha, lora_dropout, target_modules)
    return BuiltModel(model, where, source == "preset", warnings)


def upcast_unquantized(model) -> None:
    """The 16-bit weights of a 4-bit model (all but the quantized linear layers) in fp32: the loop
    of PEFT's prepare_model_for_kbit_training, which QLoRA recipes call."""
    for p in model.parameters():
        if p.dtype in (torch.float16, torch.bfloat16):
            p.data = p.data.to(torch.float32)


def base_dtype(torch_dtype: Optional[str], precision: str, source: str):
    """The dtype a LoRA cell's frozen base is loaded in: the precision's (torch_dtype null), the one
    named, or with "auto" the checkpoint's own (transformers reads it from config.json)."""
    if torch_dtype is None:
        return TORCH_DTYPES[precision]
    if torch_dtype == "auto":
        return PRESET_CHECKPOINT_DTYPE if source == "preset" else "auto"
    return TORCH_DTYPES[torch_dtype]


def enable_checkpointing(model) -> None:
    """Non-reentrant checkpointing, which needs no grad-requiring input; input grads are still
    enabled for code paths that fall back to the reentrant variant with frozen embeddings."""
    if hasattr(model, "activation_checkpointing_enable"):  # transformers ≥ 5.2x renamed it
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.enable_input_require_grads()


def add_lora(model, r: int, alpha: float, dropout: float, target_modules: list[str]):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=list(target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, config)
    except ValueError as e:
        if "not found" in str(e) or "target" in str(e).lower():
            raise SpecError(f"spec.lora.target_modules: {target_modules} do not match the model: {e}") from e
        raise


def _numel(p) -> int:
    """Logical element count; bitsandbytes packs two 4-bit values per stored byte."""
    quant_state = getattr(p, "quant_state", None)
    if quant_state is not None and getattr(quant_state, "shape", None) is not None:
        return int(torch.Size(quant_state.shape).numel())
    return p.numel()


def model_facts(model) -> dict:
    """Shape facts of `model` (a PEFT model or a plain one) for `started.model`, without the
    data-dependent flops_per_token."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    n_mm, n_lora = count_matmul_weights(model)
    unique = {id(p): p for p in model.parameters()}.values()  # tied weights once
    architectures = getattr(config, "architectures", None) or [type(model).__name__]
    return dict(
        architecture=architectures[0],
        layers=config.num_hidden_layers,
        hidden=config.hidden_size,
        vocab=config.vocab_size,
        params=sum(_numel(p) for p in unique),
        trainable_params=sum(_numel(p) for p in unique if p.requires_grad),
        n_mm=n_mm,
        n_lora=n_lora,
        attn_flops_per_token_per_seq_len=attn_flops_per_token_per_seq_len(config.num_hidden_layers, heads, head_dim),
    )


def build_model_for(spec: "Spec", device: str, gradient_checkpointing: bool) -> BuiltModel:
    """build_model with a cell spec's model, adapter and quantization fields: what every trainer
    backend builds (tunegrid's loop and HF/TRL's; TrainingArguments turns checkpointing on itself)."""
    quant = spec.quant
    return build_model(
        source=spec.model.source,
        where=getattr(spec.model, "name", None) or getattr(spec.model, "id", None) or spec.model.path,
        method=spec.method,
        lora_r=spec.lora.r,
        lora_alpha=spec.lora.lora_alpha,
        lora_dropout=spec.lora.lora_dropout,
        target_modules=spec.lora.target_modules,
        quant_type=quant and quant.bnb_4bit_quant_type,
        double_quant=quant and quant.bnb_4bit_use_double_quant,
        compute_dtype=quant and quant.bnb_4bit_compute_dtype,
        precision=spec.precision,
        gradient_checkpointing=gradient_checkpointing,
        device=device,
        torch_dtype=spec.torch_dtype,
    )
