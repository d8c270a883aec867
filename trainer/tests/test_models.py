"""Presets (real configs on the meta device, tiny for real), LoRA counts and the FLOPs formula."""

import pytest
import torch

from tunegrid_trainer.flops import flops_per_token, token_weighted_mean_length
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
    built = build_model(source="preset", where="tiny", method="lora", lora_r=8, lora_alpha=16, lora_dropout=0.0,
                        target_modules=TARGETS, quant_type=None, double_quant=None, compute_dtype=None,
                        precision="fp32", gradient_checkpointing=True, device="cpu")
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
