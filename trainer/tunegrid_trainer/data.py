"""The cell's training data: Alpaca rows from a file, the hub or the built-in synthetic set,
formatted with a template, tokenized, truncated, summarised for `started.data`, and served as
shuffled, endlessly cycled, dynamically padded micro-batches.

Loss is computed on every real token (prompt and response), padding excluded: throughput and
memory, which tunegrid measures, do not depend on which tokens carry loss."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from .errors import DataError, MissingDependency, SpecError
from .protocol import DataFacts
from .synthetic import synthetic_rows

FIELDS = ("instruction", "input", "output")
ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)

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


def _check_row(row, where: str) -> dict:
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected an object with {', '.join(FIELDS)}, got {type(row).__name__}")
    for key in FIELDS:
        if key not in row:
            raise DataError(f"{where}: missing field {key!r}")
        if not isinstance(row[key], str):
            raise DataError(f"{where}: field {key!r} must be a string, got {type(row[key]).__name__}")
    return row


def read_file_rows(path: str) -> list[dict]:
    """Alpaca JSON array or JSONL (one object per line; blank lines skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read data file {path}: {e}") from e
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from e
        return [_check_row(row, f"{path}: row {i + 1}") for i, row in enumerate(rows)]
    if text.lstrip().startswith("{") and "\n" in text.strip():
        # one object over several lines is a JSON document, not JSONL: say what shape was expected
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict):
            raise DataError(
                f"{path}: expected a JSON array of rows or JSONL (one object per line), "
                f"got a JSON object with keys {sorted(whole)[:5]}"
            )
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {lineno}: invalid JSON ({e.msg} at column {e.colno})") from e
        rows.append(_check_row(row, f"{path}: line {lineno}"))
    return rows


def read_hub_rows(name: str, split: str) -> list[dict]:
    try:
        import datasets
    except ImportError as e:
        raise MissingDependency(
            "data source hub needs the datasets library; install it: pip install 'tunegrid-trainer[hub]' (or: pip install datasets)"
        ) from e
    dataset = datasets.load_dataset(name, split=split)
    return [_check_row(row, f"{name}[{split}]: row {i + 1}") for i, row in enumerate(dataset)]


def load_rows(source: str, path: Optional[str], name: Optional[str], split: Optional[str],
              samples: Optional[int], synthetic_seed: Optional[int]) -> list[dict]:
    if source == "synthetic":
        rows = synthetic_rows(samples, synthetic_seed)
    elif source == "file":
        rows = read_file_rows(path)
    else:
        rows = read_hub_rows(name, split)
    if samples is not None:
        rows = rows[:samples]
    if not rows:
        raise DataError(f"dataset {path or name or source} has no rows")
    return rows


# ---------------------------------------------------------------- tokens


def format_texts(rows: list[dict], template: str, tokenizer) -> list[str]:
    if template == "alpaca":
        eos = tokenizer.eos_token or ""
        return [
            (ALPACA_WITH_INPUT if r["input"] else ALPACA_NO_INPUT).format(**r) + r["output"] + eos for r in rows
        ]
    if not getattr(tokenizer, "chat_template", None):
        raise SpecError('spec.template: got "chat"; expected a tokenizer with a chat template (this one has none)')
    texts = []
    for r in rows:
        user = r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")
        messages = [{"role": "user", "content": user}, {"role": "assistant", "content": r["output"]}]
        texts.append(tokenizer.apply_chat_template(messages, tokenize=False))
    return texts


@dataclass
class TokenizedData:
    samples: list[list[int]]
    truncated: int
    pad_id: int
    warnings: list[str]


def tokenize(texts: list[str], tokenizer, max_seq_len: int, model_vocab: int) -> TokenizedData:
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    warnings = []
    if tokenizer.eos_token is None:
        warnings.append("tokenizer has no eos token: samples end without one")
    truncated = sum(len(s) > max_seq_len for s in ids)
    ids = [s[:max_seq_len] for s in ids]
    if any(not s for s in ids):
        raise DataError("a sample tokenized to zero tokens")
    top = max(max(s) for s in ids)
    if top >= model_vocab:
        ids = [[t % model_vocab for t in s] for s in ids]
        warnings.append(
            f"token ids up to {top} exceed the model vocab {model_vocab}: folded modulo {model_vocab}"
            " (throughput is unaffected; token meaning is lost)"
        )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return TokenizedData(ids, truncated, (pad or 0) % model_vocab, warnings)


def data_facts(source: str, data: TokenizedData) -> DataFacts:
    lengths = np.array([len(s) for s in data.samples])
    digest = hashlib.sha256()
    for s in data.samples:  # length-prefixed little-endian int32 ids, so boundaries count
        digest.update(np.array([len(s)], dtype="<i4").tobytes())
        digest.update(np.asarray(s, dtype="<i4").tobytes())
    return DataFacts(
        source=source,
        samples=len(lengths),
        tokens_mean=float(lengths.mean()),
        tokens_median=float(np.median(lengths)),
        tokens_p95=float(np.percentile(lengths, 95)),
        tokens_max=int(lengths.max()),
        truncated=data.truncated,
        digest=digest.hexdigest(),
    )


# ---------------------------------------------------------------- batches


@dataclass
class Batch:
    input_ids: "object"  # torch.LongTensor [batch, padded_len]
    attention_mask: "object"
    labels: "object"  # input_ids with padding set to -100
    tokens: int  # real tokens
    padded_tokens: int  # batch × padded_len
    samples: int


def batches(samples: list[list[int]], batch_size: int, seed: int, pad_id: int) -> Iterator[Batch]:
    """Endless micro-batches: each epoch is a fresh seeded shuffle; padded to the longest sample
    of the micro-batch (right padding)."""
    import torch

    def order() -> Iterator[int]:
        epoch = 0
        while True:
            idx = list(range(len(samples)))
            random.Random(seed * 1_000_003 + epoch).shuffle(idx)
            yield from idx
            epoch += 1

    stream = order()
    while True:
        chunk = [samples[next(stream)] for _ in range(batch_size)]
        width = max(len(s) for s in chunk)
        input_ids = torch.full((batch_size, width), pad_id, dtype=torch.long)
        mask = torch.zeros((batch_size, width), dtype=torch.long)
        for row, s in enumerate(chunk):
            input_ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[row, : len(s)] = 1
        labels = input_ids.masked_fill(mask == 0, -100)
        yield Batch(input_ids, mask, labels, int(mask.sum()), batch_size * width, batch_size)

