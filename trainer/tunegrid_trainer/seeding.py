"""A cell's randomness, fixed: every generator seeded from the cell's seed, and, for a
deterministic cell, kernels that reduce in a fixed order (so a rerun reproduces its losses bit
for bit)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def make_deterministic() -> None:
    """Deterministic kernels where PyTorch has them (an op without one raises instead of varying).
    cuBLAS needs a fixed workspace (":4096:8" = 8 buffers of 4 MiB) to reduce in a fixed order."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
