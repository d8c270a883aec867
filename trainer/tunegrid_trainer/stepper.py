"""One optimizer step of the measured loop (`Stepper`, built from `StepOptions`), the optimizer
and learning-rate schedule it uses, and the torch.cuda memory figures each `step` event carries.
bench/ scripts time the same step without the protocol around it."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Iterator, Optional

import torch

from . import packing
from .cellspec import Spec
from .loss import forward_loss
from .models import TORCH_DTYPES, require_bitsandbytes


def make_optimizer(name: str, params: list, lr: float, weight_decay: float):
    if name == "adamw_torch":
        # on CUDA one fused kernel updates every adapter tensor (foreach: a handful of launches per
        # op over ~400 LoRA tensors, CPU time the GPU waits for); same update rule
        fused = bool(params) and all(p.is_cuda and p.dtype == torch.float32 for p in params)
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused or None)
    bnb = require_bitsandbytes(f"optim {name}")
    cls = {"adamw_8bit": bnb.optim.AdamW8bit, "paged_adamw_8bit": bnb.optim.PagedAdamW8bit, "paged_adamw_32bit": bnb.optim.PagedAdamW32bit}[
        name
    ]
    return cls(params, lr=lr, weight_decay=weight_decay)


def lr_factor(schedule: str, warmup: int, total: int):
    """Multiplier of the base lr at optimizer step s, as Hugging Face's schedulers define it:
    linear warm-up from 0 over `warmup` steps, then constant / linear to 0 / cosine to 0 at `total`."""

    def factor(s: int) -> float:
        if s < warmup:
            return s / max(1, warmup)
        if schedule == "constant":
            return 1.0
        progress = (s - warmup) / max(1, total - warmup)
        if schedule == "linear":
            return max(0.0, 1.0 - progress)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))))

    return factor


def memory_now(device: str) -> dict:
    """The `step` event's torch.cuda memory fields, MiB; nulls on the CPU."""
    keys = ("mem_allocated_mib", "mem_reserved_mib", "mem_peak_allocated_mib", "mem_peak_reserved_mib")
    if device != "cuda":
        return dict.fromkeys(keys)
    values = (
        torch.cuda.memory_allocated(),
        torch.cuda.memory_reserved(),
        torch.cuda.max_memory_allocated(),
        torch.cuda.max_memory_reserved(),
    )
    return {k: v / 2**20 for k, v in zip(keys, values)}


@dataclass(frozen=True)
class StepOptions:
    """What one optimizer step needs from the cell (spec names; device resolved)."""

    device: str  # "cpu" | "cuda"
    precision: str
    loss_kernel: str
    optim: str
    learning_rate: float
    lr_scheduler_type: str
    warmup_steps: int  # optimizer steps of linear learning-rate warm-up
    weight_decay: float
    max_grad_norm: Optional[float]
    gradient_accumulation_steps: int  # micro-batches per optimizer step
    max_steps: int  # where the schedule reaches 0

    @classmethod
    def of(cls, spec: Spec, device: str) -> "StepOptions":
        return cls(
            device=device,
            precision=spec.precision,
            loss_kernel=spec.loss_kernel,
            optim=spec.optim,
            learning_rate=spec.learning_rate,
            lr_scheduler_type=spec.lr_scheduler_type,
            warmup_steps=spec.warmup_steps,
            weight_decay=spec.weight_decay,
            max_grad_norm=spec.max_grad_norm,
            gradient_accumulation_steps=spec.gradient_accumulation_steps,
            max_steps=spec.measure.max_steps,
        )


class Stepper:
    """One optimizer step of the cell, split where the loop checks the loss: `forward_backward`
    runs `gradient_accumulation_steps` micro-batches (loss left on the device), `update` clips,
    steps and zeroes. Neither synchronises with the GPU by itself (a clip returns the norm as a tensor)."""

    def __init__(self, model, options: StepOptions):
        o = options
        self.model, self.device, self.loss_kernel, self.grad_accum = model, o.device, o.loss_kernel, o.gradient_accumulation_steps
        self.dtype, self.max_grad_norm = TORCH_DTYPES[o.precision], o.max_grad_norm
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(o.optim, self.params, o.learning_rate, o.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_factor(o.lr_scheduler_type, o.warmup_steps, o.max_steps))
        self.autocast = contextlib.nullcontext if o.precision == "fp32" else lambda: torch.autocast(device_type=o.device, dtype=self.dtype)
        self.scaler = torch.amp.GradScaler(o.device, enabled=o.precision == "fp16")  # fp16 gradients underflow without it
        model.train()

    def lr(self) -> float:
        return self.scheduler.get_last_lr()[0]

    def forward_backward(self, batches: Iterator[packing.Batch]) -> tuple[torch.Tensor, int, int, int]:
        """→ (mean loss as a device tensor, real tokens, padded tokens, samples)."""
        loss_sum = torch.zeros((), device=self.device)
        tokens = padded = samples = 0
        for _ in range(self.grad_accum):
            b = next(batches)
            with self.autocast():
                loss_b = forward_loss(self.model, b, self.device, self.loss_kernel, self.dtype)
            self.scaler.scale(loss_b / self.grad_accum).backward()
            loss_sum += loss_b.detach().float()
            tokens, padded, samples = tokens + b.tokens, padded + b.padded_tokens, samples + b.samples
        return loss_sum / self.grad_accum, tokens, padded, samples

    def update(self) -> Optional[torch.Tensor]:
        """Clip (when max_grad_norm is set), step, zero the gradients; → the norm before clipping."""
        grad_norm = None
        if self.max_grad_norm is not None:
            self.scaler.unscale_(self.optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        return grad_norm
