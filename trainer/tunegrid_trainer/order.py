"""The cell's sample order for the HF and TRL backends: the same seeded, epoch-by-epoch reshuffled
stream of sample indices tunegrid's own loop draws from (packing._order), handed to their
DataLoader as one long sampler. Cut into `batch_size` chunks it gives the micro-batches tunegrid
builds without a token budget, so runs of one seed see the same samples at the same step
whichever backend trains them, and `paired_runs` pairs them step by step.

One long pass rather than one pass per epoch: HF Trainer ends a short last batch at every epoch
boundary, which tunegrid's endless stream has not; a single "epoch" as long as the cell may ever
train (max_steps × gradient_accumulation_steps × batch_size samples) keeps the batches identical throughout."""

from __future__ import annotations

import itertools
from typing import Iterator

from torch.utils.data import Sampler

from .packing import _order


class CellOrderSampler(Sampler[int]):
    def __init__(self, n_samples: int, seed: int, length: int):
        self.n_samples, self.seed, self.length = n_samples, seed, length

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(_order(self.n_samples, self.seed), self.length)

    def __len__(self) -> int:
        return self.length


def cell_order(n_samples: int, seed: int, count: int) -> list[int]:
    """The first `count` indices of the cell's order (for tests and checks)."""
    return list(itertools.islice(_order(n_samples, seed), count))
