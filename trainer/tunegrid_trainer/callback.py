"""`TunegridCallback`: how a transformers `Trainer` (HF Trainer, TRL's SFTTrainer, or a user's
own script built on either) is measured as a tunegrid cell. One line in the callbacks list:

    from tunegrid_trainer.callback import TunegridCallback
    trainer = SFTTrainer(..., callbacks=[TunegridCallback()])

In a cell (the runner sets TUNEGRID_SPEC to the cell's spec JSON) it emits the protocol's
`started`, a `step` per optimizer step and `finished` on stdout (PROTOCOL.md §2), times each step
between two device synchronisations, and stops training through `control.should_training_stop`
by the same warm-up / window / CI rule as tunegrid's own loop (stop.py), or when the runner asks.
Each micro-batch's tokens and loss are read where the Trainer hands them to `training_step`
(the callback wraps that method of its Trainer, found on the call stack at `on_train_begin`), so
any collator, padding-free or packed batch counts the same way. Outside a cell it does nothing."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

import torch
from transformers import TrainerCallback

from . import startup
from .env import env_facts
from .errors import NanLoss, Progress
from .flops import flop_facts, token_weighted_mean_length
from .models import model_facts
from .script_data import script_data_facts
from .protocol import DataFacts, Finished, ModelFacts, Started, Step, emit
from .spec import load_spec
from .stop import rule_for

SPEC_ENV = "TUNEGRID_SPEC"


@dataclass
class Session:
    """One measured run, shared by the entry point that set it up and the callback that reports
    it. A backend fills in what it already knows (model identity, data facts, warnings)."""

    spec: object
    progress: Progress
    stop_requested: threading.Event
    model_name: Optional[str] = None  # None: read off the model
    model_source: str = "script"
    random_weights: bool = False
    data: Optional[DataFacts] = None  # None: read off the Trainer's train_dataset
    lengths: Optional[list[int]] = None  # sample lengths, for the FLOPs' mean length
    warnings: list[str] = field(default_factory=list)
    trained: bool = False  # a Trainer began training with the callback
    steps: int = 0
    finished: Optional[Finished] = None  # why it stops, once decided
    reported: bool = False  # `finished` was emitted


_session: Optional[Session] = None


def begin(spec, progress: Progress, stop_requested: threading.Event, **known) -> Session:
    """Start the run the next TunegridCallback reports (backends and the script runner call this)."""
    global _session
    _session = Session(spec, progress, stop_requested, **known)
    return _session


def current() -> Optional[Session]:
    """The run in progress: the one `begin` started, else one from TUNEGRID_SPEC (a script run
    by hand with the variable set), else None."""
    global _session
    if _session is None and os.environ.get(SPEC_ENV):
        from .control import listen_for_stop

        _session = Session(load_spec(os.environ[SPEC_ENV]), Progress(), listen_for_stop())
    return _session


def cell() -> Optional[dict]:
    """The cell's spec as a dict (PROTOCOL.md §1), for a script that reads its values; None outside a cell."""
    import json

    path = os.environ.get(SPEC_ENV)
    return json.load(open(path, encoding="utf-8")) if path else None


def _find_trainer():
    """The Trainer whose callback handler is calling us (its training loop is up the stack)."""
    from transformers import Trainer

    frame = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, Trainer):
            return candidate
        frame = frame.f_back
    raise RuntimeError("TunegridCallback: no transformers Trainer on the call stack of on_train_begin")


def _token_counts(inputs: dict) -> tuple:
    """(real tokens, computed positions, samples) of a micro-batch, as device tensors or ints (no sync)."""
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    if mask is not None:
        return mask.sum(), ids.numel(), ids.shape[0]
    positions = inputs.get("position_ids")  # padding-free: one row, positions restarting per sample
    samples = (positions == 0).sum() if positions is not None else ids.shape[0]
    return ids.numel(), ids.numel(), samples


def _mismatches(args, spec) -> list[str]:
    """Where a script's TrainingArguments differ from the cell's fields."""
    precision = "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32"
    pairs = [
        ("per_device_train_batch_size", args.per_device_train_batch_size, "batchSize", spec.batch_size),
        ("gradient_accumulation_steps", args.gradient_accumulation_steps, "gradientAccumulationSteps", spec.gradient_accumulation_steps),
        ("learning_rate", args.learning_rate, "learningRate", spec.learning_rate),
        ("seed", args.seed, "seed", spec.seed),
        ("bf16/fp16", precision, "precision", spec.precision),
        ("gradient_checkpointing", args.gradient_checkpointing, "gradientCheckpointing", spec.gradient_checkpointing),
    ]
    return [f"{a} {mine!r} (cell {b} {theirs!r})" for a, mine, b, theirs in pairs if mine != theirs]


class TunegridCallback(TrainerCallback):
    def __init__(self):
        self.session = current()
        if self.session is None:
            print(f"TunegridCallback: {SPEC_ENV} is not set (not a tunegrid cell): nothing is measured", file=sys.stderr)
        self.active = False
        self._pending: list[tuple] = []  # (real, positions, samples, loss) per micro-batch since the step began

    # ---------------------------------------------------------------- set-up

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        s = self.session
        if s is None or s.trained:
            if s is not None:
                print("TunegridCallback: a second training run is not measured (the cell reported the first)", file=sys.stderr)
            return
        s.trained, self.active = True, True
        trainer = _find_trainer()
        self._wrap(trainer)
        self.device = "cuda" if args.device.type == "cuda" else "cpu"
        self.sync = torch.cuda.synchronize if self.device == "cuda" else (lambda: None)
        self.rule = rule_for(s.spec.measure)
        emit(self._started(trainer, model if model is not None else trainer.model, args))

    def _wrap(self, trainer) -> None:
        step = trainer.training_step
        pending = self._pending

        def counted(*args, **kwargs):
            inputs = args[1] if len(args) > 1 else kwargs["inputs"]
            counts = _token_counts(inputs)
            loss = step(*args, **kwargs)
            pending.append((*counts, loss.detach()))
            return loss

        trainer.training_step = counted

    def _started(self, trainer, model, args) -> Started:
        s = self.session
        warnings = list(s.warnings)
        data = s.data
        lengths = s.lengths
        if data is None:  # a script's own dataset: already tokenized by its Trainer (TRL) or by the script
            data, lengths = script_data_facts(trainer.train_dataset)
            differs = _mismatches(args, s.spec)
            if differs:
                warnings.append("the script's TrainingArguments differ from the cell: " + "; ".join(differs))
        shape = model_facts(model)
        env = env_facts(self.device)
        name = s.model_name or getattr(model.config, "_name_or_path", None) or shape["architecture"]
        facts = ModelFacts(
            name=name,
            source=s.model_source,
            random_weights=s.random_weights,
            **shape,
            **flop_facts(shape, token_weighted_mean_length(lengths), bool(args.gradient_checkpointing), env.gpu_name),
        )
        if self.device == "cpu":
            warnings.append("device cpu: timings say nothing about GPU throughput")
        return Started(s.spec.run_id, s.spec.cell_hash, s.spec, facts, data, env, warnings, startup.timings())

    # ---------------------------------------------------------------- each step

    def on_step_begin(self, args, state, control, lr_scheduler=None, **kwargs):
        if not self.active:
            return
        self.sync()
        self.t_start = time.time()
        self.lr = lr_scheduler.get_last_lr()[0] if lr_scheduler is not None else args.learning_rate
        self.session.progress.step = state.global_step
        self._pending.clear()

    def on_step_end(self, args, state, control, **kwargs):
        if not self.active:
            return
        self.sync()
        t_end = time.time()
        s, step = self.session, state.global_step - 1
        taken = list(self._pending)
        self._pending.clear()
        # training_step returns each micro-batch's loss already scaled for accumulation: their sum is the step's
        loss = float(sum(float(p[3]) for p in taken)) if taken else math.nan
        if not math.isfinite(loss):
            raise NanLoss(step, loss)
        tokens = sum(int(p[0]) for p in taken)
        verdict = self.rule.feed(step, self.t_start, t_end, tokens)
        emit(
            Step(
                step,
                self.t_start,
                t_end,
                tokens,
                sum(int(p[1]) for p in taken),
                sum(int(p[2]) for p in taken),
                loss,
                self.lr,
                None,
                **_memory(self.device),
                phase=verdict.phase,
                ci_half_rel=self.rule.ci_half_rel,
            )
        )
        s.steps = self.rule.steps
        reason = verdict.stop or ("stop_requested" if s.stop_requested.is_set() else None)
        if reason:
            s.finished = Finished(reason, self.rule.steps, self.rule.warmup_count, self.rule.window_count)
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kwargs):
        if not self.active:
            return
        self.active = False
        s = self.session
        if s.finished is None:  # the Trainer stopped on its own (its max_steps or epochs)
            s.finished = Finished("max_steps", self.rule.steps, self.rule.warmup_count, self.rule.window_count)
        emit(s.finished)
        s.reported = True


def _memory(device: str) -> dict:
    from .stepper import memory_now

    return memory_now(device)
