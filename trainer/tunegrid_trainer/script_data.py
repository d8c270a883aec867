"""started.data for a user's script (trainer "script"): its Trainer's own tokenized dataset,
streamed (a hub dataset may not fit in lists) and described as tunegrid describes its own data
(data.TokenStats: the same lengths, digest and loss-token count)."""

from __future__ import annotations

from .data import TokenStats
from .errors import SpecError
from .protocol import DataFacts


def _rows(dataset):
    """(input_ids, labels or None) of every sample, streamed (a hub dataset may not fit in lists)."""
    if dataset is None:
        raise SpecError("TunegridCallback: the Trainer has no train_dataset to describe")
    columns = getattr(dataset, "column_names", None)
    if columns is not None and "input_ids" in columns:
        keep = [c for c in ("input_ids", "labels") if c in columns]
        for batch in dataset.select_columns(keep).iter(batch_size=1024):
            yield from zip(batch["input_ids"], batch.get("labels") or [None] * len(batch["input_ids"]))
        return
    try:
        for i in range(len(dataset)):
            yield dataset[i]["input_ids"], dataset[i].get("labels")
    except (KeyError, TypeError) as e:
        raise SpecError(
            "TunegridCallback: the Trainer's train_dataset has no input_ids (tokenized on the fly by a "
            "collator?): tunegrid needs the token counts of the samples for started.data"
        ) from e


def script_data_facts(dataset) -> tuple[DataFacts, list[int]]:
    """started.data for a script's own (tokenized) dataset, and its sample lengths."""
    stats = TokenStats()
    for ids, labels in _rows(dataset):
        stats.add(ids, sum(1 for x in labels[1:] if x != -100) if labels is not None else max(0, len(ids) - 1))
    if not stats.lengths:
        raise SpecError("TunegridCallback: the Trainer's train_dataset is empty")
    return stats.facts("script", "tokenized", truncated=0, dropped=0), stats.lengths
