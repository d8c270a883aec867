"""Model FLOP accounting for `started.model` (PROTOCOL.md §2): counts of frozen matmul and LoRA
weights read off the module tree, the per-token training FLOPs formula (and what gradient
checkpointing adds for HFU), and the table of known GPUs' dense 16-bit peaks for MFU."""

from __future__ import annotations

import re
from typing import Optional, Sequence


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


def recompute_flops_per_token(
    n_mm: int, n_lora: int, n_head: int, attn_per_len: int, mean_len: float, gradient_checkpointing: bool
) -> float:
    """Extra FLOPs per token that gradient checkpointing spends: every checkpointed decoder
    layer runs its forward again during backward (2 per frozen and LoRA weight, plus A(L̄));
    the LM head (n_head weights) sits outside the checkpointed layers and is not recomputed."""
    if not gradient_checkpointing:
        return 0.0
    return 2 * (n_mm - n_head) + 2 * n_lora + attn_per_len * mean_len


# Dense (no sparsity) 16-bit tensor-core peaks, TFLOP/s, with FP32 accumulation (what PyTorch's
# bf16/fp16 matmuls use), at boost clock. First match on the device name wins, so the more
# specific names come first. Sources, vendor figures halved where the vendor quotes sparsity:
#  - H100 SXM 1,979 / PCIe 1,513 / NVL 1,671 TFLOPS BF16 "with sparsity" (NVIDIA H100 datasheet;
#    its footnote: "1/2 lower without sparsity"; 989.4 dense for the SXM)
#  - H200 SXM 1,979 / NVL 1,671 TFLOPS BF16 "with sparsity" (NVIDIA H200 datasheet; same GH100 die)
#  - A100 312 TFLOPS BF16 dense (NVIDIA A100 datasheet; 624 with sparsity)
#  - RTX 4090 165.2 FP16 tensor TFLOPS with FP32 accumulate (NVIDIA Ada Lovelace whitepaper, Table 2)
#  - RTX 3090 71 FP16 tensor TFLOPS with FP32 accumulate (NVIDIA Ampere GA102 whitepaper, Table 9)
#  - GeForce cards without a whitepaper row of their own: SMs × boost clock × the per-SM rate of
#    their architecture's whitepaper card, 512 FLOP/clock/SM in both (RTX 4090: 165.2 TFLOPS at
#    128 SMs × 2,520 MHz; RTX 5090: 209.5 FP16/FP32-accumulate dense at 170 SMs × 2,407 MHz,
#    RTX Blackwell whitepaper):
#      RTX 4060 desktop 24 SMs (3,072 CUDA cores) × 2,460 MHz → 30.2
#      RTX 4060 Laptop 24 SMs × 2,370 MHz (its highest boost; laptops vary with power) → 29.1
#      RTX 5060 Ti 36 SMs (4,608 CUDA cores) × 2,572 MHz → 47.4
#    The product pages' "AI TOPS" (4060: 242 FP8 sparse; 5060 Ti: 759 FP4 sparse) give the same
#    figures when scaled by the 4090's and 5090's ratios of AI TOPS to these peaks.
GPU_PEAKS: tuple[tuple[str, str, float], ...] = (
    (r"H200 NVL", "H200 NVL", 835.5),
    (r"H200", "H200 SXM", 989.4),
    (r"H100 NVL", "H100 NVL", 835.5),
    (r"H100 PCIe", "H100 PCIe", 756.5),
    (r"H100", "H100 SXM", 989.4),
    (r"A100", "A100", 312.0),
    (r"RTX 5060 Ti", "RTX 5060 Ti", 47.4),
    (r"RTX 4090", "RTX 4090", 165.2),
    (r"RTX 4060 Laptop", "RTX 4060 Laptop", 29.1),
    (r"RTX 4060(?! Ti)", "RTX 4060", 30.2),
    (r"RTX 3090(?! Ti)", "RTX 3090", 71.0),
)


def gpu_peak(name) -> tuple[Optional[str], Optional[float]]:
    """(table entry, dense 16-bit TFLOP/s) for a device name such as "NVIDIA H100 80GB HBM3";
    (None, None) for a GPU not in the table, or no GPU."""
    if not name:
        return None, None
    for pattern, entry, tflops in GPU_PEAKS:
        if re.search(pattern, name, flags=re.IGNORECASE):
            return entry, tflops
    return None, None


def flop_facts(shape: dict, mean_len: float, checkpointing: bool, gpu_name) -> dict:
    """The FLOP fields of `started.model`: per-token FLOPs by the LoRA convention, the same plus the
    checkpointing recompute (for HFU), and the dense 16-bit peak of this GPU (None when unknown)."""
    fpt = flops_per_token(shape["n_mm"], shape["n_lora"], shape["attn_flops_per_token_per_seq_len"], mean_len)
    recompute = recompute_flops_per_token(
        shape["n_mm"], shape["n_lora"], shape["vocab"] * shape["hidden"], shape["attn_flops_per_token_per_seq_len"], mean_len, checkpointing
    )
    peak_name, peak_tflops = gpu_peak(gpu_name)
    return dict(flops_per_token=fpt, flops_per_token_hfu=fpt + recompute, gpu_peak_tflops=peak_tflops, gpu_peak_name=peak_name)
