"""Micro-batches for the speed levers: dynamic padding by sample count or by token budget, and
padding-free packing (samples laid end to end in one row, positions restarting at each sample)
with the document-masked attention that keeps packed samples from seeing each other.

Labels carry -100 where no loss is taken (padding; in a packed row, the first token of every
sample, so the shifted next-token target never crosses from one sample into the next). The loss
of a packed micro-batch is therefore the same function of the same tokens as the padded one."""

from __future__ import annotations

import dataclasses
import functools

import inspect
import random
from dataclasses import dataclass
from typing import Iterator, Optional

import torch

ATTN_IMPLEMENTATION = "tunegrid_varlen"


@dataclass
class Batch:
    input_ids: torch.Tensor  # [rows, width]
    attention_mask: Optional[torch.Tensor]  # [rows, width] 1 = real token; None when packed
    position_ids: Optional[torch.Tensor]  # [1, width] restarting at 0 per sample; None when padded
    cu_seqlens: Optional[torch.Tensor]  # int32 [samples + 1] sample boundaries in the packed row
    max_seqlen: int  # longest sample in the micro-batch (tokens)
    labels: torch.Tensor  # input_ids with -100 where no loss is taken
    tokens: int  # real tokens
    padded_tokens: int  # computed positions incl. padding
    samples: int


def _order(n: int, seed: int) -> Iterator[int]:
    """Endless sample indices: each epoch a fresh seeded shuffle (HF/TRL cells draw the same: order.py)."""
    epoch = 0
    while True:
        idx = list(range(n))
        random.Random(seed * 1_000_003 + epoch).shuffle(idx)
        yield from idx
        epoch += 1


def padded(chunk: list[list[int]], pad_id: int, loss: Optional[list[list[bool]]] = None) -> Batch:
    """Right-padded to the longest sample of the chunk. `loss`: per sample and token, whether its
    label counts (None: every real token's does)."""
    width = max(len(s) for s in chunk)
    input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(chunk), width), dtype=torch.long)
    keep = torch.zeros((len(chunk), width), dtype=torch.bool)
    for row, s in enumerate(chunk):
        input_ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[row, : len(s)] = 1
        keep[row, : len(s)] = True if loss is None else torch.tensor(loss[row], dtype=torch.bool)
    labels = input_ids.masked_fill(~keep, -100)
    return Batch(input_ids, mask, None, None, width, labels, int(mask.sum()), len(chunk) * width, len(chunk))


def packed(chunk: list[list[int]], loss: Optional[list[list[bool]]] = None) -> Batch:
    """One row of the chunk's samples end to end: no padding at all."""
    lengths = [len(s) for s in chunk]
    input_ids = torch.tensor([t for s in chunk for t in s], dtype=torch.long)[None]
    position_ids = torch.cat([torch.arange(n) for n in lengths])[None]
    cu_seqlens = torch.tensor([0, *lengths], dtype=torch.int32).cumsum(0, dtype=torch.int32)
    labels = input_ids.clone()
    if loss is not None:
        labels[0, ~torch.tensor([b for m in loss for b in m], dtype=torch.bool)] = -100
    labels[0, cu_seqlens[:-1].long()] = -100  # a sample's first token is nobody's next token
    total = sum(lengths)
    return Batch(input_ids, None, position_ids, cu_seqlens, max(lengths), labels, total, total, len(chunk))


def micro_batches(
    samples: list[list[int]],
    *,
    padding: str,
    batch_size: int,
    token_budget: Optional[int],
    seed: int,
    pad_id: int,
    loss_masks: Optional[list[list[bool]]] = None,
) -> Iterator[Batch]:
    """Endless micro-batches in seeded shuffled order. Without a token budget, `batch_size` samples
    each. With one, as many samples as fit: packed, real tokens ≤ budget; padded, rows × the
    longest row ≤ budget. A sample is never split; a single sample always fits (max_seq_length ≤ budget
    is checked on the spec). `loss_masks`: per sample and token, whether its label counts (None:
    every token's)."""
    stream = _order(len(samples), seed)
    carry: Optional[int] = None
    while True:
        chunk: list[int] = []  # sample indices
        if token_budget is None:
            chunk = [next(stream) for _ in range(batch_size)]
        else:
            used = width = 0
            while True:
                i = carry if carry is not None else next(stream)
                carry, n = None, len(samples[i])
                cost = used + n if padding == "packed" else (len(chunk) + 1) * max(width, n)
                if chunk and cost > token_budget:
                    carry = i  # opens the next micro-batch, so no sample is skipped
                    break
                chunk.append(i)
                used, width = used + n, max(width, n)
        ids = [samples[i] for i in chunk]
        loss = None if loss_masks is None else [loss_masks[i] for i in chunk]
        yield packed(ids, loss) if padding == "packed" else padded(ids, pad_id, loss)


# ---------------------------------------------------------------- document-masked attention


@functools.cache
def _varlen_kernel():
    """PyTorch's variable-length flash attention (torch ≥ 2.9, CUDA), or None. Imported on first
    use, on CUDA only: `torch.nn.attention.varlen` pulls in torch._dynamo, ~3 s of every trainer's
    start-up on an idle 2-core CPU (~8 s under load), which cells without packed CUDA attention never use."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None, {}
    params = inspect.signature(varlen_attn).parameters
    causal = {"is_causal": True} if "is_causal" in params else {"window_size": (-1, 0)}
    return varlen_attn, causal


def varlen_available(device: str) -> bool:
    return device == "cuda" and _varlen_kernel()[0] is not None


def block_causal_mask(cu_seqlens: torch.Tensor, total: int, device) -> torch.Tensor:
    """[1, 1, T, T] bool: token i sees token j iff same sample and j ≤ i."""
    doc = torch.zeros(total, dtype=torch.long, device=device)
    doc[cu_seqlens[1:-1].long().to(device)] = 1
    doc = doc.cumsum(0)
    pos = torch.arange(total, device=device)
    return ((doc[:, None] == doc[None, :]) & (pos[None, :] <= pos[:, None]))[None, None]


def document_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Attention for a packed row ([1, heads, T, head_dim]), each sample attending causally to
    itself only. CUDA: varlen flash attention over the sample boundaries (no T×T work). Elsewhere:
    SDPA with a block-diagonal causal mask (T×T, fine for CPU test sizes). Returns [1, T, heads,
    head_dim] as transformers' attention functions do."""
    cu = kwargs.get("cu_seq_lens_q")
    if cu is None:
        raise ValueError("packed attention needs cu_seq_lens_q (sample boundaries); dynamic batches use sdpa")
    groups = query.shape[1] // key.shape[1]
    if groups > 1:  # grouped-query attention: each key/value head serves `groups` query heads
        key = key.repeat_interleave(groups, dim=1)
        value = value.repeat_interleave(groups, dim=1)
    total = query.shape[2]
    varlen, causal = _varlen_kernel() if query.is_cuda else (None, {})
    if varlen is not None:
        dtype = query.dtype if query.dtype in (torch.float16, torch.bfloat16) else torch.bfloat16
        q, k, v = (t[0].transpose(0, 1).to(dtype) for t in (query, key, value))  # [T, heads, head_dim]
        max_len = int(kwargs.get("max_length_q"))
        out = varlen(q, k, v, cu, cu, max_len, max_len, scale=scaling, **causal)
        return out.to(query.dtype)[None], None
    mask = block_causal_mask(cu, total, query.device)
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, scale=scaling)
    return out.transpose(1, 2).contiguous(), None


def register_document_attention() -> str:
    """Makes `ATTN_IMPLEMENTATION` a transformers attention implementation whose mask builder
    returns None (the sample boundaries travel as cu_seq_lens_q instead)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(ATTN_IMPLEMENTATION, document_attention)
    AttentionMaskInterface.register(ATTN_IMPLEMENTATION, lambda *args, **kwargs: None)
    return ATTN_IMPLEMENTATION


def attention_kwargs(batch: Batch, device: str) -> dict:
    """Extra keyword arguments for the decoder call of a micro-batch."""
    if batch.cu_seqlens is None:
        return {"attention_mask": batch.attention_mask.to(device, non_blocking=True)}
    cu = batch.cu_seqlens.to(device, non_blocking=True)
    return {
        "position_ids": batch.position_ids.to(device, non_blocking=True),
        "cu_seq_lens_q": cu,
        "cu_seq_lens_k": cu,
        "max_length_q": batch.max_seqlen,
        "max_length_k": batch.max_seqlen,
    }


def to_device(batch: Batch, device: str) -> Batch:
    """The micro-batch with its tensors on `device`; on CUDA copied from pinned memory without
    blocking the host, so the copy can overlap kernels still running. Later `.to(device)` calls on
    its tensors are no-ops."""
    if device != "cuda":
        return batch

    def move(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return None if t is None else t.pin_memory().to(device, non_blocking=True)

    return dataclasses.replace(
        batch,
        input_ids=move(batch.input_ids),
        attention_mask=move(batch.attention_mask),
        position_ids=move(batch.position_ids),
        cu_seqlens=move(batch.cu_seqlens),
        labels=move(batch.labels),
    )


class Lookahead:
    """The loop's micro-batches with one built ahead: `fill()`, called once a step's kernels are
    queued, builds the next micro-batch and starts its copy to the GPU while they run, instead of
    after the step, when the GPU would wait for it."""

    def __init__(self, batches: Iterator[Batch], device: str):
        self._batches, self._device, self._ahead = batches, device, None

    def fill(self) -> None:
        if self._ahead is None:
            self._ahead = to_device(next(self._batches), self._device)

    def __iter__(self) -> "Lookahead":
        return self

    def __next__(self) -> Batch:
        batch, self._ahead = self._ahead, None
        return batch if batch is not None else next(self._batches)
