"""The other trainers a cell can name (`trainer`): HF Trainer + PEFT ("hf", what the reference
study's users run), TRL's SFTTrainer ("trl", backend_trl.py) and the user's own script
("script", backend_script.py). HF and TRL get the cell's model (the same build as tunegrid's:
presets, LoRA, QLoRA) and its data (the same tokens and loss masks, data.py), train with their
own collators, loss and loop, and report through TunegridCallback, so every backend emits the
same events, is stopped by the same rule and draws its samples in the cell's seeded order
(order.py). What a backend cannot honour was refused with the spec (backend_rules.py)."""

from __future__ import annotations

import importlib.util
import tempfile
from dataclasses import dataclass

from . import callback, packing, startup
from . import data as data_mod
from .errors import MissingDependency, Progress
from .models import build_model_for
from .order import CellOrderSampler
from .preflight import check_dependencies, check_device, resolve_device

# tunegrid's optimizer names → TrainingArguments.optim
HF_OPTIM = {
    "adamw_torch": "adamw_torch",
    "adamw_8bit": "adamw_bnb_8bit",
    "paged_adamw_8bit": "paged_adamw_8bit",
    "paged_adamw_32bit": "paged_adamw_32bit",
}
# tunegrid's schedules (linear warm-up, then constant / linear / cosine to 0) → lr_scheduler_type
HF_SCHEDULE = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}


def run_backend(spec, spec_path: str, progress: Progress) -> None:
    if spec.trainer == "script":
        from .backend_script import run_script

        return run_script(spec, spec_path, progress)
    peer = prepare_peer(spec)
    if spec.trainer == "hf":
        return run_hf(spec, peer, progress)
    from .backend_trl import run_trl

    return run_trl(spec, peer, progress)


@dataclass
class Peer:
    """The cell's model and data, built as tunegrid builds them, for HF Trainer or TRL."""

    model: object
    tokenizer: object
    tokens: data_mod.TokenizedData
    device: str
    known: dict  # what callback.begin is told: model identity, data facts, lengths, warnings


def prepare_peer(spec) -> Peer:
    from .seeding import make_deterministic, seed_everything

    if spec.deterministic:
        make_deterministic()
    device = resolve_device(spec.device)
    check_dependencies(spec.method, spec.optim, spec.data.source)
    if spec.trainer == "trl" and importlib.util.find_spec("trl") is None:
        raise MissingDependency(
            "trainer trl needs TRL, which is not installed; it is in trainer/requirements.lock: "
            "run npm run setup:python (or: pip install trl datasets)"
        )
    check_device(spec.method, spec.optim, spec.precision, device)
    seed_everything(spec.seed)
    startup.mark("checks")
    built = build_model_for(spec, device, gradient_checkpointing=False)
    notes = []
    if spec.padding == "packed":
        # padding-free batches carry their sample boundaries (cu_seq_lens); this attention keeps samples apart
        built.model.get_base_model().set_attn_implementation(packing.register_document_attention())
    if device == "cuda":
        notes.append("cuDNN SDPA left as PyTorch sets it (tunegrid's own loop turns it off for dynamic shapes)")
    startup.mark("model")
    tokenizer, tokens, data_facts = data_mod.for_cell(spec, built.name, built.model.config.vocab_size)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    known = dict(
        model_name=built.name,
        model_source=spec.model.source,
        random_weights=built.random_weights,
        data=data_facts,
        lengths=[len(s) for s in tokens.samples],
        warnings=built.warnings + tokens.warnings + notes,
    )
    return Peer(built.model, tokenizer, tokens, device, known)


def labelled(tokens: data_mod.TokenizedData) -> list[dict]:
    """Samples as HF datasets hold them: input ids and labels (-100 where no loss is taken)."""
    masks = tokens.loss_masks
    return [
        {"input_ids": ids, "labels": ids if masks is None else [t if m else -100 for t, m in zip(ids, masks[i])]}
        for i, ids in enumerate(tokens.samples)
    ]


def in_cell_order(trainer_cls, spec, samples_per_step: int):
    """`trainer_cls` drawing its training samples in the cell's seeded order (order.py)."""

    class InCellOrder(trainer_cls):
        def _get_train_sampler(self, train_dataset=None):
            dataset = train_dataset if train_dataset is not None else self.train_dataset
            return CellOrderSampler(len(dataset), spec.seed, spec.measure.max_steps * samples_per_step)

    InCellOrder.__name__ = trainer_cls.__name__
    return InCellOrder


def training_arguments(spec, device: str, out_dir: str) -> dict:
    """TrainingArguments for the cell, as a user would set them: HF's own switches for
    checkpointing, mixed precision and compile; logging and checkpoints off (tunegrid's loop does
    neither)."""
    checkpointing = spec.gradient_checkpointing is True
    return dict(
        output_dir=out_dir,
        per_device_train_batch_size=spec.batch_size,
        gradient_accumulation_steps=spec.gradient_accumulation_steps,
        gradient_checkpointing=checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if checkpointing else None,
        learning_rate=spec.learning_rate,
        lr_scheduler_type=HF_SCHEDULE[spec.lr_scheduler_type],
        warmup_steps=spec.warmup_steps,
        weight_decay=spec.weight_decay,
        max_grad_norm=spec.max_grad_norm or 0.0,
        optim=HF_OPTIM[spec.optim],
        bf16=spec.precision == "bf16",
        fp16=spec.precision == "fp16",
        max_steps=spec.measure.max_steps,
        seed=spec.seed,
        torch_compile=spec.compile,
        logging_steps=10**9,
        save_strategy="no",
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        use_cpu=device == "cpu",
        disable_tqdm=True,
    )


def run_hf(spec, peer: Peer, progress: Progress) -> None:
    from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening, Trainer, TrainingArguments

    from .control import listen_for_stop

    session = callback.begin(spec, progress, listen_for_stop(), **peer.known)
    session.warnings.append(
        "hf: HF Trainer + PEFT, "
        + ("padding-free batches (DataCollatorWithFlattening)" if spec.padding == "packed" else "dynamic padding (DataCollatorForSeq2Seq)")
        + ", full logits, the model's own loss"
        + (", torch_compile" if spec.compile else ", eager")
    )
    collate = (
        DataCollatorWithFlattening(return_flash_attn_kwargs=True)
        if spec.padding == "packed"
        else DataCollatorForSeq2Seq(peer.tokenizer, padding=True, label_pad_token_id=-100)
    )
    with tempfile.TemporaryDirectory(prefix="tunegrid-hf-") as out_dir:
        trainer_cls = in_cell_order(Trainer, spec, spec.batch_size * spec.gradient_accumulation_steps)
        trainer_cls(
            model=peer.model,
            args=TrainingArguments(**training_arguments(spec, peer.device, out_dir)),
            train_dataset=labelled(peer.tokens),
            data_collator=collate,
            callbacks=[callback.TunegridCallback()],
        ).train()
