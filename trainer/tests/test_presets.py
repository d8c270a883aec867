"""presets.json is the one preset list: the trainer builds its presets from it, and the LoRA
module names it lists per architecture (which the runner checks a grid's targetModules against
before any trainer starts) are exactly the Linear and Embedding modules of that architecture."""

import re

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM

from tunegrid_trainer.models import PRESETS, preset_config
from tunegrid_trainer.presets import LORA_MODULES
from tunegrid_trainer.protocol import PRESETS as PROTOCOL_PRESETS


def lora_module_names(config) -> list[str]:
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sorted(
        {re.sub(r"\.\d+\.", ".N.", name) for name, m in model.named_modules() if isinstance(m, (torch.nn.Linear, torch.nn.Embedding))}
    )


def test_the_protocol_and_the_models_read_the_same_preset_names():
    assert list(PROTOCOL_PRESETS) == list(PRESETS)
    assert set(PRESETS) >= {"tiny", "qwen2.5-1.5b", "llama-3.1-8b"}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_has_its_architecture_module_names(name):
    model_type, _ = PRESETS[name]
    config = preset_config(name)
    config.num_hidden_layers = 1
    assert lora_module_names(config) == sorted(LORA_MODULES[model_type])


@pytest.mark.parametrize("model_type", sorted(LORA_MODULES))
def test_listed_module_names_match_the_real_architecture(model_type):
    config = AutoConfig.for_model(
        model_type,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=256,
        head_dim=16,
    )
    assert lora_module_names(config) == sorted(LORA_MODULES[model_type])
