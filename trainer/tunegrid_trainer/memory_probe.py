"""gradient_checkpointing "auto": whether this cell's largest micro-batch trains without
checkpointing on this GPU, decided by trying it once before training starts."""

from __future__ import annotations

from typing import Optional

import torch

from . import packing
from .loss import forward_loss
from .models import TORCH_DTYPES, enable_checkpointing

# Share of the GPU's memory the probe's peak may reach for "auto" to leave checkpointing off: the
# rest covers optimizer state (LoRA: small), allocator fragmentation and longer-than-probed rows.
PROBE_HEADROOM = 0.85


def decide_checkpointing(
    model,
    *,
    device: str,
    padding: str,
    loss_kernel: str,
    dtype,
    precision: str,
    tokens: int,
    rows: int,
    vocab: int,
    capacity: Optional[int] = None,
) -> tuple[bool, str]:
    """gradient_checkpointing "auto": one forward + backward without checkpointing on the
        largest micro-batch shape this cell can produce (`rows` × tokens/rows positions, random ids);
        checkpointing is switched on when it runs out of memory or peaks above PROBE_HEADROOM of the
        GPU (or of `capacity` bytes: a VRAM budget's cap). Gradients are discarded, so training is unchanged. Returns (checkpointing on, the decision
    in words for `warnings`)."""
    if device != "cuda":
        return False, "gradient_checkpointing auto: off (no memory probe on cpu)"
    width = tokens // rows
    ids = torch.randint(0, vocab, (rows, width))
    probe = packing.packed([ids[0].tolist()]) if padding == "packed" else packing.padded([r.tolist() for r in ids], pad_id=0)
    total = capacity or torch.cuda.get_device_properties(0).total_memory
    torch.cuda.reset_peak_memory_stats()
    try:
        autocast = torch.autocast(device_type="cuda", dtype=TORCH_DTYPES[precision], enabled=precision != "fp32")
        with autocast:
            loss = forward_loss(model, probe, device, loss_kernel, dtype)
        loss.backward()
        peak = torch.cuda.max_memory_allocated()
        fits = peak <= PROBE_HEADROOM * total
        verdict = f"probe peak {peak / 2**20:.0f} MiB of {total / 2**20:.0f} MiB"
    except torch.OutOfMemoryError:
        fits, verdict = False, "probe ran out of memory"
    loss = None
    model.zero_grad(set_to_none=True)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()  # the steps' peaks describe training, not the probe
    if not fits:
        enable_checkpointing(model.get_base_model())
    return not fits, f"gradient_checkpointing auto: {'off' if fits else 'on'} ({verdict} at {rows}×{width} tokens)"
