"""Model FLOP accounting for `started.model` (PROTOCOL.md §2): counts of frozen matmul and LoRA
weights read off the module tree, and the per-token training FLOPs formula."""

from __future__ import annotations

from typing import Sequence


def attn_flops_per_token_per_seq_len(layers: int, num_heads: int, head_dim: int) -> int:
    """Forward attention FLOPs per token per unit of sequence length: QKᵀ and AV each cost
    2·(heads·head_dim)·L per token per layer, so A(L) = 4·layers·heads·head_dim·L."""
    return 4 * layers * num_heads * head_dim


def token_weighted_mean_length(lengths: Sequence[int]) -> float:
    """L̄ = Σ L² / Σ L: the sequence length an average *token* sits in, which is what
    attention cost per token depends on."""
    total = sum(lengths)
    return sum(n * n for n in lengths) / total if total else 0.0


def flops_per_token(n_mm: int, n_lora: int, attn_per_len: int, mean_len: float) -> float:
    """Training FLOPs per token: frozen matmuls cost forward 2 + input-gradient 2 (no weight
    gradient); LoRA weights cost the full 6; attention 1 forward + 2 backward times A(L̄)."""
    return 4 * n_mm + 6 * n_lora + 3 * attn_per_len * mean_len


def count_matmul_weights(model) -> tuple[int, int]:
    """(n_mm, n_lora): weights of every linear layer in the model (LM head included even when
    tied to the embedding, embedding lookups excluded), split into frozen base weights and
    LoRA adapter weights. Works for nn.Linear, PEFT-wrapped and bitsandbytes 4-bit layers."""
    n_mm = n_lora = 0
    for name, module in model.named_modules():
        if not (hasattr(module, "in_features") and hasattr(module, "out_features")):
            continue
        if hasattr(module, "base_layer"):  # a PEFT wrapper: its base layer is counted on its own
            continue
        size = int(module.in_features) * int(module.out_features)
        if ".lora_A." in f".{name}." or ".lora_B." in f".{name}.":
            n_lora += size
        else:
            n_mm += size
    return n_mm, n_lora
