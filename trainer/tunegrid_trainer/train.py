"""One cell, top to bottom: decode the spec → check it against this machine → build the model →
build the data → emit `started` → train, emitting a `step` per optimizer step → emit `finished`.
Failures rise to `errors.run_guarded`, the one place that reports them."""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Optional

import torch

from . import data as data_mod
from . import fit_probe, packing, quant4, startup, vram
from .errors import NanLoss, Progress
from .env import env_facts
from .flops import flop_facts, token_weighted_mean_length
from .memory_probe import decide_checkpointing
from .models import TORCH_DTYPES, build_model_for, model_facts
from .preflight import check_dependencies, check_device, keep_bitsandbytes_out, resolve_device
from .control import listen_for_stop, wait_for_go
from .protocol import Finished, ModelFacts, Spec, Started, Step, emit
from .seeding import make_deterministic, seed_everything
from .spec import load_spec
from .stepper import StepOptions, Stepper, memory_now
from .stop import StopRule, rule_for


@dataclass
class Prepared:
    """A cell ready to train: its model, its endless micro-batches, the `started` event that
    describes them, and the options of the optimizer step."""

    model: object
    batches: Iterator[packing.Batch]
    started: Started
    options: StepOptions
    guard: Optional[vram.Guard] = None  # the VRAM budget held (spec.vram_budget), for `memory` events


def run(spec_path: str, progress: Progress, prestarted: bool = False) -> None:
    spec = load_spec(spec_path)
    if spec.trainer != "script":  # a user's script may import bitsandbytes itself
        keep_bitsandbytes_out(spec.method, spec.optim)
    if prestarted:  # host-side work only until the runner hands the device over (PROTOCOL.md §2a)
        import_libraries()
        wait_for_go()
    if spec.trainer != "tunegrid":  # HF Trainer, TRL or the user's script: backends.py
        from .backends import run_backend

        return run_backend(spec, spec_path, progress)
    stop_requested = listen_for_stop()
    ready = prepare(spec)
    emit(ready.started)
    finished = train(
        ready.model,
        ready.batches,
        ready.options,
        rule=rule_for(spec.measure),
        stop_requested=stop_requested,
        progress=progress,
        vram_guard=ready.guard,
    )
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
    startup.mark("checks")
    import_libraries()
    notes = []
    if device == "cuda" and hasattr(torch.backends.cuda, "enable_cudnn_sdp"):
        # cuDNN's attention backend builds a plan for every new padded length; with this loop's
        # dynamic shapes that cost ~50 ms per attention call on an H100 (tiny preset: 0.45 → 0.09 s
        # per step once disabled). Flash / memory-efficient SDPA kernels need no per-shape plan.
        torch.backends.cuda.enable_cudnn_sdp(False)
        notes.append("cuDNN SDPA backend disabled (per-shape planning is slow with dynamic padding)")

    built = build_model_for(spec, device, gradient_checkpointing=spec.gradient_checkpointing is True)
    if spec.padding == "packed":
        built.model.get_base_model().set_attn_implementation(packing.register_document_attention())
        if not packing.varlen_available(device):
            notes.append(
                "packed attention: varlen flash kernel unavailable here, using SDPA with a block-diagonal"
                " mask (exact, but O(tokens²) per micro-batch)"
            )
    startup.mark("model")
    compute_dtype = TORCH_DTYPES[spec.precision]
    budget = None if spec.tokens_per_step is None else spec.tokens_per_step // spec.gradient_accumulation_steps
    shape = model_facts(built.model)

    _, tokens, data_facts = data_mod.for_cell(spec, built.name, shape["vocab"])

    mean_len = token_weighted_mean_length([len(s) for s in tokens.samples])
    if spec.compile:  # before the memory probe: compiled layers keep fewer activations for backward
        if spec.method == "qlora" and quant4.dequantize_in_graph(built.model):
            notes.append(
                "compile: 4-bit weights dequantized inside the compiled layers (PyTorch ops, bitsandbytes' values"
                " to within one bf16 ulp), not through bitsandbytes' per-call Python operators"
            )
        for layer in built.model.get_base_model().get_decoder().layers:
            layer.compile()  # per layer: same code for every layer, so one compiled graph serves all
        notes.append("compile: each decoder layer through torch.compile (first steps include compilation)")
    startup.mark("compile")
    checkpointing = spec.gradient_checkpointing is True
    if spec.gradient_checkpointing == "auto":
        checkpointing, note = decide_checkpointing(
            built.model,
            device=device,
            padding=spec.padding,
            loss_kernel=spec.loss_kernel,
            dtype=compute_dtype,
            precision=spec.precision,
            tokens=budget or spec.batch_size * spec.max_seq_length,
            rows=1 if budget or spec.padding == "packed" else spec.batch_size,
            vocab=shape["vocab"],
            capacity=guard and guard.cap_bytes,
        )
        notes.append(note)
    startup.mark("probe")
    env = env_facts(device)
    model = ModelFacts(
        name=built.name,
        source=spec.model.source,
        random_weights=built.random_weights,
        **shape,
        **flop_facts(shape, mean_len, checkpointing, env.gpu_name),
    )
    warnings = built.warnings + tokens.warnings + notes
    if device == "cpu":
        warnings.append("device cpu: timings say nothing about GPU throughput")
    if spec.probe:
        warnings.append("probe: every micro-batch is the largest shape this data produces (fit frontier)")
        batches = fit_probe.largest_batches(
            tokens.samples, padding=spec.padding, batch_size=spec.batch_size, token_budget=budget, pad_id=tokens.pad_id
        )
    else:
        batches = packing.micro_batches(
            tokens.samples,
            padding=spec.padding,
            batch_size=spec.batch_size,
            token_budget=budget,
            seed=spec.seed,
            pad_id=tokens.pad_id,
            loss_masks=tokens.loss_masks,
        )
    started = Started(spec.run_id, spec.cell_hash, spec, model, data_facts, env, warnings, startup.timings())
    return Prepared(built.model, batches, started, StepOptions.of(spec, device), guard)


def import_libraries() -> None:
    """The libraries build_model needs, timed apart from the build: with torch._dynamo, which
    they pull in, ~5 s of a CPU cell's start-up (bitsandbytes, when a cell needs it, adds ~4 s)."""
    import peft  # noqa: F401
    from transformers import AutoModelForCausalLM  # noqa: F401

    startup.mark("libraries")


def train(
    model,
    batches: Iterator[packing.Batch],
    options: StepOptions,
    *,
    rule: StopRule,
    stop_requested: threading.Event,
    progress: Progress,
    vram_guard: Optional[vram.Guard] = None,
) -> Finished:
    """The measured loop: the GPU is synchronised before and after each step (and only there), so
    a step's wall time brackets its work, and every step is emitted as it ends. A NaN loss is
    reported after its step's update, which is then moot: the run fails."""
    stepper = Stepper(model, options)
    device = options.device
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
        emit(
            Step(
                step,
                t_start,
                t_end,
                tokens,
                padded,
                samples,
                loss,
                lr_now,
                None if grad_norm is None else float(grad_norm),
                **memory_now(device),
                phase=verdict.phase,
                ci_half_rel=rule.ci_half_rel,
            )
        )
        if vram_guard is not None and step == 0:
            emit(vram_guard.report(step, stepper.optimizer))  # the optimizer state exists from the first step
        if verdict.stop:
            return finish(verdict.stop)
    raise AssertionError("unreachable")
