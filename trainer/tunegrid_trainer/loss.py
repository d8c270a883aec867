"""The next-token loss of a micro-batch: `forward_loss` runs the decoder to its last hidden
states and hands them to `lm_loss`, either "standard" (the full logits, as HF's causal-LM loss
computes them: [tokens × vocab] in the compute dtype, then upcast to fp32) or "fused" (a chunked
linear cross-entropy that never holds more than CHUNK_TOKENS rows of logits: each chunk's logits
are computed, reduced to its loss and its input gradient, and dropped).

Both take the mean over tokens whose shifted target is not -100, so they agree to rounding."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import packing

# Rows of logits alive at once in the fused path: 2048 × 151,936 fp32 ≈ 1.2 GiB (plus a bf16 copy,
# 0.6 GiB), against ≈ 9.3 GiB fp32 (+ 4.6 GiB bf16) for the full logits of a 16k-token micro-batch.
# Each chunk's two matmuls are still ~1 TFLOP, large enough to run at full matmul rate.
CHUNK_TOKENS = 2048


def shifted_targets(labels: torch.Tensor) -> torch.Tensor:
    """Target of position t is the label at t + 1; the last position has none."""
    return F.pad(labels[:, 1:], (0, 1), value=-100)


def _accumulate(dtype: torch.dtype) -> torch.dtype:
    """Logits are reduced in fp32 at least (fp64 stays fp64, for tests)."""
    return torch.promote_types(dtype, torch.float32)


def standard_loss(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    logits = F.linear(hidden.to(dtype), weight.to(dtype)).to(_accumulate(dtype))
    return F.cross_entropy(logits, targets, ignore_index=-100)


class _ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of softmax(hidden @ weightᵀ) against targets. The gradient with respect
    to `hidden` (and `weight`, if it trains) is computed chunk by chunk during the forward pass,
    when each chunk's logits are at hand, and only scaled in backward."""

    @staticmethod
    def forward(ctx, hidden, weight, targets, dtype, chunk):
        h_all = hidden.to(dtype)
        w = weight.to(dtype)
        count = (targets != -100).sum().clamp(min=1)
        acc = _accumulate(dtype)
        loss = torch.zeros((), dtype=acc, device=hidden.device)
        grad_h = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
        grad_w = torch.zeros_like(weight, dtype=acc) if ctx.needs_input_grad[1] else None
        for start in range(0, hidden.shape[0], chunk):
            h = h_all[start : start + chunk]
            t = targets[start : start + chunk]
            valid = t != -100
            logits = (h @ w.T).to(acc)  # [chunk, vocab]
            lse = torch.logsumexp(logits, dim=-1)
            safe = t.clamp(min=0)
            picked = logits.gather(1, safe[:, None])[:, 0]
            loss += ((lse - picked) * valid).sum()
            if grad_h is None and grad_w is None:
                continue
            probs = logits.sub_(lse[:, None]).exp_()  # softmax in place of the logits
            probs[torch.arange(len(t), device=t.device), safe] -= 1.0
            probs *= valid[:, None]
            g = probs.to(dtype)
            if grad_h is not None:
                grad_h[start : start + chunk] = (g @ w).to(hidden.dtype)
            if grad_w is not None:
                grad_w += (g.T @ h).to(acc)
        ctx.save_for_backward(
            grad_h if grad_h is not None else torch.empty(0),
            grad_w if grad_w is not None else torch.empty(0),
            count,
        )
        ctx.has = (grad_h is not None, grad_w is not None)
        ctx.weight_dtype = weight.dtype
        return loss / count

    @staticmethod
    def backward(ctx, grad_out):
        grad_h, grad_w, count = ctx.saved_tensors
        scale = grad_out / count
        dh = (grad_h * scale).to(grad_h.dtype) if ctx.has[0] else None
        dw = (grad_w * scale).to(ctx.weight_dtype) if ctx.has[1] else None
        return dh, dw, None, None, None


def fused_loss(
    hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, dtype: torch.dtype, chunk: int = CHUNK_TOKENS
) -> torch.Tensor:
    with torch.autocast(device_type=hidden.device.type, enabled=False):  # dtypes are explicit here
        return _ChunkedLinearCrossEntropy.apply(hidden, weight, targets, dtype, chunk)


def lm_loss(kernel: str, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """hidden [rows, width, hidden], labels [rows, width] → mean next-token loss (fp32 scalar)."""
    targets = shifted_targets(labels).reshape(-1)
    flat = hidden.reshape(-1, hidden.shape[-1])
    if kernel == "fused":
        return fused_loss(flat, weight, targets, dtype)
    return standard_loss(flat, weight, targets, dtype)


def forward_loss(model, batch: packing.Batch, device: str, loss_kernel: str, dtype) -> torch.Tensor:
    """Decoder → last hidden states → next-token loss; the logits are left to `lm_loss`, which
    either materialises them (standard) or streams them in chunks (fused)."""
    base = model.get_base_model()
    hidden = base.get_decoder()(
        input_ids=batch.input_ids.to(device, non_blocking=True),
        use_cache=False,
        **packing.attention_kwargs(batch, device),
    ).last_hidden_state
    return lm_loss(loss_kernel, hidden, base.get_output_embeddings().weight, batch.labels.to(device, non_blocking=True), dtype)
