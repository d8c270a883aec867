"""The `trl` backend: TRL's SFTTrainer with an SFTConfig built from the cell. TRL receives the
cell's samples already tokenized with their labels (encode.py follows TRL's own preparation
steps), so its dataset preparation only checks them; its collator, padding-free mode, packing,
fused loss and training loop do the rest:

- padding "dynamic": TRL's padded batches of batch_size samples;
- padding "packed": `padding_free=True`, the same samples flattened into one row (sample
  boundaries as cu_seq_lens, kept apart by tunegrid's document attention);
- tokens_per_step n (with padding "packed"): TRL's packing (`packing=True`, best-fit decreasing)
  into rows of n / gradient_accumulation_steps tokens, one row per micro-batch: the nearest TRL has to a token
  budget. Its rows mix samples differently from tunegrid's budget, so steps do not pair;
- completion-only / assistant-only loss: in the labels (the same tokens TRL would mask)."""

from __future__ import annotations

import tempfile

from . import callback, formats
from .backends import Peer, in_cell_order, labelled, training_arguments
from .errors import Progress


def sft_config_arguments(spec, peer: Peer, out_dir: str) -> dict:
    args = training_arguments(spec, peer.device, out_dir)
    packing = spec.tokens_per_step is not None
    if packing:
        args["per_device_train_batch_size"] = 1
    return dict(
        args,
        packing=packing,
        packing_strategy="bfd",
        padding_free=spec.padding == "packed",
        # padding-free without packing: TRL refuses a max_length (the samples are already truncated at max_seq_length)
        max_length=spec.tokens_per_step // spec.gradient_accumulation_steps
        if packing
        else None
        if spec.padding == "packed"
        else spec.max_seq_length,
        completion_only_loss=formats.resolve_completion_only(peer.tokens.format, spec.completion_only_loss),
        assistant_only_loss=False,  # the mask is in the labels already: TRL would re-render conversations to build it
        shuffle_dataset=False,
        dataset_num_proc=None,
    )


def run_trl(spec, peer: Peer, progress: Progress) -> None:
    import datasets
    from trl import SFTConfig, SFTTrainer

    from .control import listen_for_stop

    session = callback.begin(spec, progress, listen_for_stop(), **peer.known)
    mode = (
        "packing into rows of tokens_per_step / gradient_accumulation_steps tokens"
        if spec.tokens_per_step is not None
        else "padding-free batches"
        if spec.padding == "packed"
        else "padded batches"
    )
    session.warnings.append(
        f"trl: TRL SFTTrainer, {mode}, its fused LM head loss; tokens and labels from tunegrid's data preparation (TRL's steps)"
    )
    dataset = datasets.Dataset.from_list(labelled(peer.tokens))
    with tempfile.TemporaryDirectory(prefix="tunegrid-trl-") as out_dir:
        config = SFTConfig(**sft_config_arguments(spec, peer, out_dir))
        per_step = config.per_device_train_batch_size * spec.gradient_accumulation_steps
        trainer_cls = in_cell_order(SFTTrainer, spec, per_step)
        trainer_cls(
            model=peer.model, args=config, train_dataset=dataset, processing_class=peer.tokenizer, callbacks=[callback.TunegridCallback()]
        ).train()
