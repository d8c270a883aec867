"""One cell, top to bottom: decode the spec → check it against this machine → build the model →
build the data → emit `started` → train, emitting a `step` per optimizer step → emit `finished`.
Failures rise to `errors.run_guarded`, the one place that reports them."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Optional

import torch

from . import data as data_mod
from . import fit_probe, packing, quant4, vram
from .loss import forward_loss
from .errors import NanLoss, Progress
from .env import env_facts
from .flops import flop_facts, token_weighted_mean_length
from .memory_probe import decide_checkpointing
from .models import TORCH_DTYPES, build_model, model_facts, require_bitsandbytes
from .preflight import check_dependencies, check_device, resolve_device
from .protocol import Adaptive, Detect, Finished, ModelFacts, Seconds, Spec, Started, Step, Steps, emit, stdin_lines
from .spec import load_spec
from .stop import StopRule


@dataclass
class Prepared:
    """A cell ready to train: its model, its endless micro-batches, the `started` event that
    describes them, and the options of the optimizer step."""

    model: object
    batches: Iterator[packing.Batch]
    started: Started
    options: dict  # keyword arguments of `Stepper`
    guard: Optional[vram.Guard] = None  # the VRAM budget held (spec.vram_budget), for `memory` events


def run(spec_path: str, progress: Progress) -> None:
    spec = load_spec(spec_path)
    if spec.trainer != "tunegrid":  # HF Trainer, TRL or the user's script: backends.py
        from .backends import run_backend

        return run_backend(spec, spec_path, progress)
    stop_requested = listen_for_stop()
    ready = prepare(spec)
    emit(ready.started)
    finished = train(ready.model, ready.batches, **ready.options, rule=stop_rule(spec),
                     stop_requested=stop_requested, progress=progress, vram_guard=ready.guard)
    emit(finished)


def prepare(spec: Spec) -> Prepared:
    """Everything before the first step: check the machine, build the model and the data, apply
    the speed levers, describe the result. Also used by bench/ scripts that time the same cell
    without the protocol (bench/bare_loop.py)."""
    if spec.deterministic:
        make_deterministic()  # before resolve_device: cuBLAS reads its workspace setting at CUDA start
    device = resolve_device(spec.device)
    check_dependencies(spec.method, spec.optim, spec.data.source)
    check_device(spec.method, spec.optim, spec.precision, device)
    seed_everything(spec.seed)
    guard = vram.hold(spec.vram_budget, device)  # before the model: every allocation counts against it
    notes = []
    if device == "cuda" and hasattr(torch.backends.cuda, "enable_cudnn_sdp"):
        # cuDNN's attention backend builds a plan for every new padded length; with this loop's
        # dynamic shapes that cost ~50 ms per attention call on an H100 (tiny preset: 0.45 → 0.09 s
        # per step once disabled). Flash / memory-efficient SDPA kernels need no per-shape plan.
        torch.backends.cuda.enable_cudnn_sdp(False)
        notes.append("cuDNN SDPA backend disabled (per-shape planning is slow with dynamic padding)")

    quant = spec.quant
    built = build_model(
        source=spec.model.source,
        where=getattr(spec.model, "name", None) or getattr(spec.model, "id", None) or spec.model.path,
        method=spec.method,
        lora_r=spec.lora.r,
        lora_alpha=spec.lora.alpha,
        lora_dropout=spec.lora.dropout,
        target_modules=spec.lora.target_modules,
        quant_type=quant and quant.quant_type,
        double_quant=quant and quant.double_quant,
        compute_dtype=quant and quant.compute_dtype,
        precision=spec.precision,
        gradient_checkpointing=spec.gradient_checkpointing is True,
        device=device,
        torch_dtype=spec.torch_dtype,
    )
    if spec.padding == "packed":
        built.model.get_base_model().set_attn_implementation(packing.register_document_attention())
        if not packing.varlen_available(device):
            notes.append("packed attention: varlen flash kernel unavailable here, using SDPA with a block-diagonal"
                         " mask (exact, but O(tokens²) per micro-batch)")
    compute_dtype = TORCH_DTYPES[spec.precision]
    budget = None if spec.tokens_per_step is None else spec.tokens_per_step // spec.grad_accum
    shape = model_facts(built.model)

    tokenizer = data_mod.load_tokenizer(
        spec.tokenizer.source, getattr(spec.tokenizer, "path", None), built.name if spec.model.source != "preset" else None
    )
    tokens = data_mod.prepare(spec.data, tokenizer, template=spec.template, completion_only_loss=spec.completion_only_loss,
                              assistant_only_loss=spec.assistant_only_loss, max_seq_len=spec.max_seq_len,
                              model_vocab=shape["vocab"])
    data_facts = data_mod.data_facts(spec.data.source, tokens)

    mean_len = token_weighted_mean_length([len(s) for s in tokens.samples])
    if spec.compile:  # before the memory probe: compiled layers keep fewer activations for backward
        if spec.method == "qlora" and quant4.dequantize_in_graph(built.model):
            notes.append("compile: 4-bit weights dequantized inside the compiled layers (PyTorch ops, bitsandbytes' values"
                         " to within one bf16 ulp), not through bitsandbytes' per-call Python operators")
        for layer in built.model.get_base_model().get_decoder().layers:
            layer.compile()  # per layer: same code for every layer, so one compiled graph serves all
        notes.append("compile: each decoder layer through torch.compile (first steps include compilation)")
    checkpointing = spec.gradient_checkpointing is True
    if spec.gradient_checkpointing == "auto":
        checkpointing, note = decide_checkpointing(
            built.model, device=device, padding=spec.padding, loss_kernel=spec.loss_kernel, dtype=compute_dtype,
            precision=spec.precision, tokens=budget or spec.batch_size * spec.max_seq_len,
            rows=1 if budget or spec.padding == "packed" else spec.batch_size, vocab=shape["vocab"],
            capacity=guard and guard.cap_bytes,
        )
        notes.append(note)
    env = env_facts(device)
    model = ModelFacts(name=built.name, source=spec.model.source, random_weights=built.random_weights, **shape,
                       **flop_facts(shape, mean_len, checkpointing, env.gpu_name))
    warnings = built.warnings + tokens.warnings + notes
    if device == "cpu":
        warnings.append("device cpu: timings say nothing about GPU throughput")
    if spec.probe:
        warnings.append("probe: every micro-batch is the largest shape this data produces (fit frontier)")
        batches = fit_probe.largest_batches(tokens.samples, padding=spec.padding, batch_size=spec.batch_size,
                                            token_budget=budget, pad_id=tokens.pad_id)
    else:
        batches = packing.micro_batches(tokens.samples, padding=spec.padding, batch_size=spec.batch_size,
                                        token_budget=budget, seed=spec.seed, pad_id=tokens.pad_id,
                                        loss_masks=tokens.loss_masks)
    started = Started(spec.run_id, spec.cell_hash, spec, model, data_facts, env, warnings)
    options = dict(device=device, precision=spec.precision, loss_kernel=spec.loss_kernel, optim=spec.optim,
                   lr=spec.lr, lr_schedule=spec.lr_schedule, lr_warmup_steps=spec.lr_warmup_steps,
                   weight_decay=spec.weight_decay, max_grad_norm=spec.max_grad_norm, grad_accum=spec.grad_accum,
                   max_steps=spec.measure.max_steps)
    return Prepared(built.model, batches, started, options, guard)


def stop_rule(spec: Spec) -> StopRule:
    m = spec.measure
    warm, window = m.warmup, m.window
    return StopRule(
        warmup_steps=warm.steps if isinstance(warm, Steps) else None,
        warmup_seconds=warm.seconds if isinstance(warm, Seconds) else None,
        warmup_detect=(warm.detect.floor_seconds, warm.detect.cap_seconds) if isinstance(warm, Detect) else None,
        window_steps=window.steps if isinstance(window, Steps) else None,
        window_seconds=window.seconds if isinstance(window, Seconds) else None,
        window_adaptive=(window.adaptive.ci_target, window.adaptive.min_seconds) if isinstance(window, Adaptive) else None,
        max_steps=m.max_steps,
        max_seconds=m.max_seconds,
    )


def listen_for_stop() -> threading.Event:
    """Set on SIGTERM or a `{"command":"stop"}` line on stdin. Closed stdin is not a request."""
    event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: event.set())

    def read_stdin() -> None:
        for line in stdin_lines():
            try:
                command = json.loads(line).get("command")
            except (ValueError, AttributeError):
                command = None
            if command == "stop":
                event.set()
            elif line.strip():
                print(f"tunegrid trainer: ignoring stdin line {line.strip()[:80]!r}", file=sys.stderr)

    threading.Thread(target=read_stdin, name="stdin-stop", daemon=True).start()
    return event


def seed_everything(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def make_deterministic() -> None:
    """Deterministic kernels where PyTorch has them (an op without one raises instead of varying).
    cuBLAS needs a fixed workspace (":4096:8" = 8 buffers of 4 MiB) to reduce in a fixed order."""
    import os

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def make_optimizer(name: str, params: list, lr: float, weight_decay: float):
    if name == "adamw_torch":
        # on CUDA one fused kernel updates every adapter tensor (foreach: a handful of launches per
        # op over ~400 LoRA tensors, CPU time the GPU waits for); same update rule
        fused = bool(params) and all(p.is_cuda and p.dtype == torch.float32 for p in params)
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused or None)
    bnb = require_bitsandbytes(f"optim {name}")
    cls = {"adamw_8bit": bnb.optim.AdamW8bit, "paged_adamw_8bit": bnb.optim.PagedAdamW8bit,
           "paged_adamw_32bit": bnb.optim.PagedAdamW32bit}[name]
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


def _memory(device: str) -> dict:
    keys = ("mem_allocated_mib", "mem_reserved_mib", "mem_peak_allocated_mib", "mem_peak_reserved_mib")
    if device != "cuda":
        return dict.fromkeys(keys)
    values = (torch.cuda.memory_allocated(), torch.cuda.memory_reserved(),
              torch.cuda.max_memory_allocated(), torch.cuda.max_memory_reserved())
    return {k: v / 2**20 for k, v in zip(keys, values)}


class Stepper:
    """One optimizer step of the cell, split where the loop checks the loss: `forward_backward`
    runs `grad_accum` micro-batches (loss left on the device), `update` clips, steps and zeroes.
    Neither synchronises with the GPU by itself (a clip returns the norm as a tensor)."""

    def __init__(self, model, *, device: str, precision: str, loss_kernel: str, optim: str, lr: float,
                 lr_schedule: str, lr_warmup_steps: int, weight_decay: float, max_grad_norm: Optional[float],
                 grad_accum: int, max_steps: int):
        self.model, self.device, self.loss_kernel, self.grad_accum = model, device, loss_kernel, grad_accum
        self.dtype, self.max_grad_norm = TORCH_DTYPES[precision], max_grad_norm
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(optim, self.params, lr, weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_factor(lr_schedule, lr_warmup_steps, max_steps))
        self.autocast = (
            contextlib.nullcontext if precision == "fp32"
            else lambda: torch.autocast(device_type=device, dtype=self.dtype)
        )
        self.scaler = torch.amp.GradScaler(device, enabled=precision == "fp16")  # fp16 gradients underflow without it
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


def train(
    model,
    batches: Iterator[packing.Batch],
    *,
    rule: StopRule,
    stop_requested: threading.Event,
    progress: Progress,
    vram_guard: Optional[vram.Guard] = None,
    **options,
) -> Finished:
    """The measured loop: the GPU is synchronised before and after each step (and only there), so
    a step's wall time brackets its work, and every step is emitted as it ends. A NaN loss is
    reported after its step's update, which is then moot: the run fails."""
    stepper = Stepper(model, **options)
    device = options["device"]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    batches = packing.Lookahead(batches, device)

    def finish(reason: str) -> Finished:
        if vram_guard is not None and rule.steps > 0:
            emit(vram_guard.report(rule.steps - 1, stepper.optimizer))  # peaks over the whole run
        return Finished(reason, rule.steps, rule.warmup_count, rule.window_count)

    for step in itertools.count():
        if stop_requested.is_set():
            return finish("stop_requested")
        progress.step = step
        sync()
        t_start = time.time()
        lr_now = stepper.lr()
        loss_t, tokens, padded, samples = stepper.forward_backward(batches)
        grad_norm = stepper.update()
        batches.fill()
        sync()
        t_end = time.time()
        # read after the step's one synchronisation: a mid-step read would idle the GPU while the
        # CPU queues the optimizer (measured on the H100: the loop ran 3.7% below the bare trainer)
        loss = loss_t.item()
        if not math.isfinite(loss):
            raise NanLoss(step, loss)

        verdict = rule.feed(step, t_start, t_end, tokens)
        emit(Step(step, t_start, t_end, tokens, padded, samples, loss, lr_now,
                  None if grad_norm is None else float(grad_norm), **_memory(device), phase=verdict.phase))
        if vram_guard is not None and step == 0:
            emit(vram_guard.report(step, stepper.optimizer))  # the optimizer state exists from the first step
        if verdict.stop:
            return finish(verdict.stop)
    raise AssertionError("unreachable")
