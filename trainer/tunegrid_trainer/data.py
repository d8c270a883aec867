"""The cell's training data: rows from a file (JSON, JSONL, Parquet, CSV), the hub or the built-in
synthetic set, their format detected (formats.py), tokenized with their loss masks (encode.py),
truncated, summarised for `started.data`. Batching is packing.py's; the order, order.py's.

Tokens are counted real (every non-pad token the model computes) whichever of them carry loss:
throughput and memory, which tunegrid measures, do not depend on the loss mask."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from . import formats, readers
from .encode import Encoder
from .errors import DataError, SpecError
from .protocol import DataFacts
from .synthetic import synthetic_rows

# ---------------------------------------------------------------- tokenizer


def load_tokenizer(source: str, path: Optional[str], model_where: Optional[str]):
    """`source` "file": a tokenizer.json (or a directory holding one); eos/pad tokens and the chat
    template come from a tokenizer_config.json beside it when there is one. "model": the
    hub/local model's own tokenizer."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if source == "model":
        try:
            return AutoTokenizer.from_pretrained(model_where)
        except OSError as e:
            raise SpecError(f"spec.tokenizer: cannot load the tokenizer of model {model_where!r}: {e}") from e
    p = Path(path)
    file = p / "tokenizer.json" if p.is_dir() else p
    if not file.is_file():
        raise SpecError(f"spec.tokenizer.path: got {path!r}; expected a tokenizer.json file or a directory holding one")
    tok = PreTrainedTokenizerFast(tokenizer_file=str(file))
    config_file = file.parent / "tokenizer_config.json"
    if config_file.is_file():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        for key in ("eos_token", "pad_token", "bos_token"):
            value = config.get(key)
            value = value.get("content") if isinstance(value, dict) else value
            if isinstance(value, str):
                setattr(tok, key, value)
        if isinstance(config.get("chat_template"), str):
            tok.chat_template = config["chat_template"]
    return tok


# ---------------------------------------------------------------- rows


@dataclass
class Rows:
    label: str  # the file path or hub name, for messages
    format: str  # formats.FORMATS
    rows: list[dict]  # checked, canonical fields only


def load_rows(
    source: str,
    path: Optional[str],
    name: Optional[str],
    split: Optional[str],
    subset: Optional[str],
    columns: Optional[dict],
    samples: Optional[int],
    synthetic_seed: Optional[int],
) -> Rows:
    """Every row is read and checked (a bad row anywhere is refused, not only in the first
    `samples`); then the first `samples` rows are kept."""
    if source == "synthetic":
        return Rows("synthetic", formats.ALPACA, synthetic_rows(samples, synthetic_seed))
    located = readers.read_file(path) if source == "file" else readers.read_hub(name, split, subset)
    label = path if source == "file" else f"hub:{name}"
    if not located:
        raise DataError(f"dataset {label} has no rows")
    fmt, rows = formats.detect(located, columns)
    return Rows(label, fmt, rows[:samples] if samples is not None else rows)


# ---------------------------------------------------------------- tokens


@dataclass
class TokenizedData:
    samples: list[list[int]]
    loss_masks: Optional[list[list[bool]]]  # per token, whether its label counts; None: every token does
    truncated: int  # samples cut at max_seq_len
    dropped: int  # samples left without a loss token (after truncation) and dropped, as TRL does
    pad_id: int
    warnings: list[str]
    format: str


def tokenize(
    rows: Rows,
    tokenizer,
    *,
    template: str,
    completion_only_loss: Optional[bool],
    assistant_only_loss: bool,
    max_seq_len: int,
    model_vocab: int,
) -> TokenizedData:
    problem = formats.loss_rule_problem(rows.format, completion_only_loss, assistant_only_loss)
    if problem:
        raise SpecError(f"spec: {problem} ({rows.label})")
    encoder = Encoder(
        tokenizer, rows.format, template, formats.resolve_completion_only(rows.format, completion_only_loss), assistant_only_loss
    )
    encoded = [encoder.row(r) for r in rows.rows]
    warnings = []
    if tokenizer.eos_token is None:
        warnings.append("tokenizer has no eos token: samples end without one")
    truncated = sum(len(e.ids) > max_seq_len for e in encoded)
    kept = [(e.ids[:max_seq_len], e.loss[:max_seq_len]) for e in encoded if len(e.ids) > 0]
    if len(kept) < len(encoded):
        raise DataError(f"{rows.label}: a sample tokenized to zero tokens")
    # a sample whose loss tokens were all cut is no training signal; TRL drops it, so every backend does
    kept = [(ids, loss) for ids, loss in kept if any(loss[1:])]
    dropped = len(encoded) - len(kept)
    if not kept:
        raise DataError(f"{rows.label}: no sample keeps a token that carries loss within max_seq_len {max_seq_len}")
    if dropped:
        warnings.append(f"{dropped} samples dropped: no token carrying loss within max_seq_len {max_seq_len}")
    ids = [k[0] for k in kept]
    top = max(max(s) for s in ids)
    if top >= model_vocab:
        ids = [[t % model_vocab for t in s] for s in ids]
        warnings.append(
            f"token ids up to {top} exceed the model vocab {model_vocab}: folded modulo {model_vocab}"
            " (throughput is unaffected; token meaning is lost)"
        )
    masks = [k[1] for k in kept]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return TokenizedData(
        ids, None if all(all(m) for m in masks) else masks, truncated, dropped, (pad or 0) % model_vocab, warnings, rows.format
    )


class TokenStats:
    """Samples' lengths, token-id digest and loss tokens, fed one sample at a time (a script's
    dataset is streamed). The digest hashes length-prefixed little-endian int32 ids, so sample
    boundaries count."""

    def __init__(self) -> None:
        self.lengths: list[int] = []
        self.digest = hashlib.sha256()
        self.loss_tokens = 0

    def add(self, ids, loss_tokens: int) -> None:
        self.lengths.append(len(ids))
        self.digest.update(np.array([len(ids)], dtype="<i4").tobytes())
        self.digest.update(np.asarray(ids, dtype="<i4").tobytes())
        self.loss_tokens += int(loss_tokens)

    def facts(self, source: str, fmt: str, truncated: int, dropped: int) -> DataFacts:
        lengths = np.array(self.lengths)
        return DataFacts(
            source=source,
            samples=len(lengths),
            tokens_mean=float(lengths.mean()),
            tokens_median=float(np.median(lengths)),
            tokens_p95=float(np.percentile(lengths, 95)),
            tokens_max=int(lengths.max()),
            truncated=truncated,
            token_ids_sha256=self.digest.hexdigest(),
            format=fmt,
            loss_tokens=self.loss_tokens,
            dropped=dropped,
        )


def data_facts(source: str, data: TokenizedData) -> DataFacts:
    stats = TokenStats()
    for i, s in enumerate(data.samples):
        # the first token of a sample is nobody's next token: it never carries loss
        stats.add(s, max(0, len(s) - 1) if data.loss_masks is None else sum(data.loss_masks[i][1:]))
    return stats.facts(source, data.format, data.truncated, data.dropped)


def prepare(
    data_spec,
    tokenizer,
    *,
    template: str,
    completion_only_loss: Optional[bool],
    assistant_only_loss: bool,
    max_seq_len: int,
    model_vocab: int,
) -> TokenizedData:
    """The spec's `data` object → tokenized samples with their loss masks."""
    columns = getattr(data_spec, "columns", None)
    rows = load_rows(
        data_spec.source,
        getattr(data_spec, "path", None),
        getattr(data_spec, "name", None),
        getattr(data_spec, "split", None),
        getattr(data_spec, "subset", None),
        None if columns is None else {k: v for k, v in vars(columns).items() if v is not None},
        data_spec.samples,
        getattr(data_spec, "seed", None),
    )
    return tokenize(
        rows,
        tokenizer,
        template=template,
        completion_only_loss=completion_only_loss,
        assistant_only_loss=assistant_only_loss,
        max_seq_len=max_seq_len,
        model_vocab=model_vocab,
    )


def for_cell(spec, model_name: str, model_vocab: int):
    """A cell's tokenizer, tokenized data and their started.data facts, as every trainer
    (tunegrid's loop, HF, TRL) builds them from its spec: a preset's tokenizer comes from the
    spec, a hub model's from the model. Marks the `tokenizer` and `data` start-up phases."""
    from . import startup

    tokenizer = load_tokenizer(
        spec.tokenizer.source, getattr(spec.tokenizer, "path", None), model_name if spec.model.source != "preset" else None
    )
    startup.mark("tokenizer")
    tokens = prepare(
        spec.data,
        tokenizer,
        template=spec.template,
        completion_only_loss=spec.completion_only_loss,
        assistant_only_loss=spec.assistant_only_loss,
        max_seq_len=spec.max_seq_length,
        model_vocab=model_vocab,
    )
    facts = data_facts(spec.data.source, tokens)
    startup.mark("data")
    return tokenizer, tokens, facts
