"""Presets (real configs on the meta device, tiny for real), LoRA counts and the FLOPs formula."""

import pytest
import torch

from tunegrid_trainer.flops import flops_per_token, gpu_peak, recompute_flops_per_token, token_weighted_mean_length
from tunegrid_trainer.models import add_lora, build_model, model_facts, preset_config, random_model

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


@pytest.mark.parametrize(
    "name, params, architecture",
    [
        ("qwen2.5-0.5b", 0.494e9, "Qwen2ForCausalLM"),
        ("qwen2.5-1.5b", 1.544e9, "Qwen2ForCausalLM"),
        ("qwen2.5-7b", 7.616e9, "Qwen2ForCausalLM"),
        ("llama-3.1-8b", 8.030e9, "LlamaForCausalLM"),
    ],
)
def test_big_presets_have_the_published_parameter_counts(name, params, architecture):
    facts = model_facts(random_model(preset_config(name), "meta", torch.bfloat16))
    assert facts["params"] == pytest.approx(params, rel=0.002)
    assert facts["architecture"] == architecture


def test_lora_on_the_7b_preset_counts_adapter_weights():
    model = add_lora(random_model(preset_config("qwen2.5-7b"), "meta", torch.bfloat16), 16, 32, 0.0, TARGETS)
    facts = model_facts(model)
    hidden, kv, layers = 3584, 4 * 128, 28
    per_layer = 16 * ((hidden + hidden) * 2 + (hidden + kv) * 2)  # q, o: h→h; k, v: h→kv
    assert facts["n_lora"] == facts["trainable_params"] == per_layer * layers


def test_tiny_builds_on_cpu_and_counts_matmuls_including_the_tied_head():
    built = build_model(
        source="preset",
        where="tiny",
        method="lora",
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        target_modules=TARGETS,
        quant_type=None,
        double_quant=None,
        compute_dtype=None,
        precision="fp32",
        gradient_checkpointing=True,
        device="cpu",
    )
    facts = model_facts(built.model)
    h, inter, vocab, kv, layers = 64, 128, 151936, 2 * 16, 2
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * inter
    assert facts["n_mm"] == layers * per_layer + vocab * h  # the LM head shares the embedding but is a matmul
    assert facts["n_lora"] == layers * 8 * ((h + h) * 2 + (h + kv) * 2)
    assert facts["trainable_params"] == facts["n_lora"]
    assert facts["attn_flops_per_token_per_seq_len"] == 4 * 2 * 4 * 16
    assert built.random_weights and built.warnings


def test_flops_per_token_uses_the_token_weighted_mean_length():
    assert token_weighted_mean_length([100, 300]) == pytest.approx((100**2 + 300**2) / 400)
    assert flops_per_token(n_mm=10, n_lora=2, attn_per_len=4, mean_len=250.0) == 4 * 10 + 6 * 2 + 3 * 4 * 250


@pytest.mark.parametrize(
    "name, entry, tflops",
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM", 989.4),
        ("NVIDIA H100 PCIe", "H100 PCIe", 756.5),
        ("NVIDIA H100 NVL", "H100 NVL", 835.5),
        ("NVIDIA H200", "H200 SXM", 989.4),
        ("NVIDIA A100-SXM4-80GB", "A100", 312.0),
        ("NVIDIA GeForce RTX 4060", "RTX 4060", 30.2),
        ("NVIDIA GeForce RTX 4060 Laptop GPU", "RTX 4060 Laptop", 29.1),
        ("NVIDIA GeForce RTX 4090", "RTX 4090", 165.2),
        ("NVIDIA GeForce RTX 3090", "RTX 3090", 71.0),
        ("NVIDIA GeForce RTX 5060 Ti", "RTX 5060 Ti", 47.4),
        ("NVIDIA GeForce RTX 4060 Ti", None, None),  # not in the table: no MFU rather than the 4060's peak
        ("NVIDIA GeForce RTX 3090 Ti", None, None),
        (None, None, None),
    ],
)
def test_gpu_peak_table_matches_device_names_most_specific_first(name, entry, tflops):
    assert gpu_peak(name) == (entry, tflops)


def test_checkpointing_recomputes_the_forward_of_every_layer_but_not_the_lm_head():
    assert recompute_flops_per_token(100, 4, 30, 2, 50.0, gradient_checkpointing=False) == 0.0
    assert recompute_flops_per_token(100, 4, 30, 2, 50.0, gradient_checkpointing=True) == 2 * 70 + 2 * 4 + 2 * 50.0
