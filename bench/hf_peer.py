"""The peer tunegrid is measured against: what the reference study's users run, HF Trainer + PEFT
(+ bitsandbytes for QLoRA and 8-bit optimizers) with dynamic padding, driven by the same tunegrid
cell spec and speaking tunegrid's trainer protocol on stdout, so `tunegrid ingest` records it
exactly like a tunegrid run and the ledger computes both results the same way.

`python bench/hf_peer.py --spec cell.json` (trainer/ on PYTHONPATH). Same model build (presets,
LoRA, QLoRA), same tokens and the same stop rule as tunegrid; HF Trainer does the rest: its
sampler, its DataCollatorForSeq2Seq padding, its gradient checkpointing switch, its loss. It has
no switch for the speed levers, so padding, loss_kernel, compile and tokens_per_step are taken
at HF's behaviour (dynamic, full logits, eager, batch_size samples) and listed in `warnings`;
gradient_checkpointing "auto" becomes true, the study's setting."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from tunegrid_trainer import data as data_mod
from tunegrid_trainer.errors import NanLoss, Progress, run_guarded
from tunegrid_trainer.env import env_facts
from tunegrid_trainer.flops import flop_facts, token_weighted_mean_length
from tunegrid_trainer.models import build_model, model_facts
from tunegrid_trainer.preflight import check_dependencies, check_device, resolve_device
from tunegrid_trainer.protocol import Finished, ModelFacts, Started, Step, claim_stdout, emit
from tunegrid_trainer.spec import load_spec
from tunegrid_trainer.train import _memory, listen_for_stop, stop_rule

# tunegrid's optimizer names → TrainingArguments.optim
HF_OPTIM = {"adamw_torch": "adamw_torch", "adamw_8bit": "adamw_bnb_8bit",
            "paged_adamw_8bit": "paged_adamw_8bit", "paged_adamw_32bit": "paged_adamw_32bit"}


def run(spec_path: str, progress: Progress) -> None:
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments

    spec = load_spec(spec_path)
    stop_requested = listen_for_stop()
    device = resolve_device(spec.device)
    check_dependencies(spec.method, spec.optim, spec.data.source)
    check_device(spec.method, spec.optim, spec.precision, device)
    warnings = ["peer: HF Trainer + PEFT, dynamic padding (DataCollatorForSeq2Seq), full logits, eager"]
    ignored = [f"{k}={v!r}" for k, v, hf in (("padding", spec.padding, "dynamic"), ("loss_kernel", spec.loss_kernel, "standard"),
                                             ("compile", spec.compile, False), ("tokens_per_step", spec.tokens_per_step, None))
               if v != hf]
    if ignored:
        warnings.append(f"peer ignores {', '.join(ignored)}: HF Trainer has no such switch")
    checkpointing = spec.gradient_checkpointing is not False
    quant = spec.quant
    built = build_model(
        source=spec.model.source,
        where=getattr(spec.model, "name", None) or getattr(spec.model, "id", None) or spec.model.path,
        method=spec.method, lora_r=spec.lora.r, lora_alpha=spec.lora.alpha, lora_dropout=spec.lora.dropout,
        target_modules=spec.lora.target_modules, quant_type=quant and quant.quant_type,
        double_quant=quant and quant.double_quant, compute_dtype=quant and quant.compute_dtype,
        precision=spec.precision, gradient_checkpointing=False, device=device,  # TrainingArguments switches it
    )
    shape = model_facts(built.model)
    tokenizer = data_mod.load_tokenizer(spec.tokenizer.source, getattr(spec.tokenizer, "path", None),
                                        built.name if spec.model.source != "preset" else None)
    rows = data_mod.load_rows(spec.data.source, getattr(spec.data, "path", None), getattr(spec.data, "name", None),
                              getattr(spec.data, "split", None), spec.data.samples, getattr(spec.data, "seed", None))
    tokens = data_mod.tokenize(data_mod.format_texts(rows, spec.template, tokenizer), tokenizer, spec.max_seq_len, shape["vocab"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    mean_len = token_weighted_mean_length([len(s) for s in tokens.samples])
    env = env_facts(device)
    model = ModelFacts(name=built.name, source=spec.model.source, random_weights=built.random_weights, **shape,
                       **flop_facts(shape, mean_len, spec.gradient_checkpointing is True, env.gpu_name))
    emit(Started(spec.run_id, spec.cell_hash, spec, model, data_mod.data_facts(spec.data.source, tokens),
                 env, built.warnings + tokens.warnings + warnings))

    pad_collate = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    counts: list[tuple[int, int, int]] = []  # (real tokens, padded tokens, samples) per micro-batch since the last step

    def collate(features):
        batch = pad_collate(features)
        counts.append((int(batch["attention_mask"].sum()), batch["input_ids"].numel(), len(features)))
        return batch

    rule = stop_rule(spec)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    losses: list = []
    finished: list[Finished] = []

    class Peer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            out = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            losses.append((out[0] if return_outputs else out).detach().float())
            return out

    class Protocol(TrainerCallback):
        """Times each optimizer step (synchronized) and emits it; applies tunegrid's stop rule."""

        def on_step_begin(self, args, state, control, **kwargs):
            sync()
            self.t_start = time.time()
            self.lr = kwargs["lr_scheduler"].get_last_lr()[0] if kwargs.get("lr_scheduler") else spec.lr
            progress.step = state.global_step

        def on_step_end(self, args, state, control, **kwargs):
            sync()
            t_end = time.time()
            step = state.global_step - 1
            # the dataloader may prefetch: take exactly grad_accum micro-batches per step
            taken, counts[:] = counts[: spec.grad_accum], counts[spec.grad_accum:]
            loss = float(sum(losses) / len(losses)) if losses else float("nan")
            losses.clear()
            if loss != loss or loss in (float("inf"), float("-inf")):
                raise NanLoss(step, loss)
            real = sum(c[0] for c in taken)
            verdict = rule.feed(step, self.t_start, t_end, real)
            emit(Step(step, self.t_start, t_end, real, sum(c[1] for c in taken),
                      sum(c[2] for c in taken), loss, self.lr, None, **_memory(device), phase=verdict.phase))
            reason = verdict.stop or ("stop_requested" if stop_requested.is_set() else None)
            if reason:
                finished.append(Finished(reason, rule.steps, rule.warmup_count, rule.window_count))
                control.should_training_stop = True

    dataset = [{"input_ids": s, "labels": s} for s in tokens.samples]
    with tempfile.TemporaryDirectory(prefix="tunegrid-peer-") as out_dir:
        args = TrainingArguments(
            output_dir=out_dir, per_device_train_batch_size=spec.batch_size,
            gradient_accumulation_steps=spec.grad_accum, gradient_checkpointing=checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False} if checkpointing else None,
            learning_rate=spec.lr, lr_scheduler_type=spec.lr_schedule, warmup_steps=spec.lr_warmup_steps,
            weight_decay=spec.weight_decay, max_grad_norm=spec.max_grad_norm or 0.0, optim=HF_OPTIM[spec.optim],
            bf16=spec.precision == "bf16", fp16=spec.precision == "fp16", max_steps=rule.max_steps, seed=spec.seed,
            logging_steps=10**9, save_strategy="no", report_to="none", remove_unused_columns=False,
            dataloader_num_workers=0, use_cpu=device == "cpu", disable_tqdm=True,
        )
        Peer(model=built.model, args=args, train_dataset=dataset, data_collator=collate,
             callbacks=[Protocol()]).train()
    emit(finished[0] if finished else Finished("max_steps", rule.steps, rule.warmup_count, rule.window_count))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/hf_peer.py", description=__doc__)
    parser.add_argument("--spec", required=True)
    args = parser.parse_args(argv)
    claim_stdout()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return run_guarded(lambda progress: run(args.spec, progress))


if __name__ == "__main__":
    sys.exit(main())
