"""The fit command's probes (spec `probe`): every micro-batch is the largest the cell's data can
produce, so a few optimizer steps show the memory the cell's worst step needs, not a lucky one."""

from __future__ import annotations

from typing import Iterator, Optional

from . import packing


def largest_chunk(samples: list[list[int]], *, padding: str, batch_size: int, token_budget: Optional[int]) -> list[list[int]]:
    """The samples of the largest micro-batch: without a token budget the batch_size longest
    (padded to the longest); with one, packed: the longest first, then any that still fit (first
    fit decreasing, real tokens ≤ budget); padded: as many of the longest as rows × longest ≤ budget."""
    longest = sorted(samples, key=len, reverse=True)
    if token_budget is None:
        return [longest[i % len(longest)] for i in range(batch_size)]
    if padding == "packed":
        chunk, used = [], 0
        for s in longest:
            if used + len(s) <= token_budget:
                chunk.append(s)
                used += len(s)
        return chunk or longest[:1]
    rows = max(1, token_budget // len(longest[0]))
    return [longest[i % len(longest)] for i in range(rows)]


def largest_batches(
    samples: list[list[int]], *, padding: str, batch_size: int, token_budget: Optional[int], pad_id: int
) -> Iterator[packing.Batch]:
    chunk = largest_chunk(samples, padding=padding, batch_size=batch_size, token_budget=token_budget)
    while True:
        yield packing.packed(chunk) if padding == "packed" else packing.padded(chunk, pad_id)
