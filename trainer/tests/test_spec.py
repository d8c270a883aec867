"""Strict spec decoding: errors name the key path, the value and what was expected."""

import copy

import pytest

from conftest import BASE_SPEC
from tunegrid_trainer.errors import SpecError
from tunegrid_trainer.protocol import PresetModel, Seconds, Steps
from tunegrid_trainer.spec import decode_spec


def decode_with(**changes):
    raw = copy.deepcopy(BASE_SPEC)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = raw
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return decode_spec(raw)


def test_the_base_spec_decodes_to_dataclasses():
    spec = decode_with()
    assert spec.model == PresetModel("preset", "tiny")
    assert spec.measure.warmup == Steps(2) and spec.lora.lora_alpha == 16


def test_seconds_bounds_decode():
    spec = decode_with(measure__window={"seconds": 1.5})
    assert spec.measure.window == Seconds(1.5)


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"batch_sise": 3}, ["spec.batch_sise", "unknown key"]),
        ({"seed": KeyError}, ["spec.seed", "missing key"]),
        ({"learning_rate": "fast"}, ["spec.learning_rate", '"fast"', "a number"]),
        ({"batch_size": 2.5}, ["spec.batch_size", "2.5", "an integer"]),
        ({"gradient_checkpointing": 1}, ["spec.gradient_checkpointing", 'one of true, false, "auto"']),
        ({"batch_size": True}, ["spec.batch_size", "an integer"]),
        ({"precision": "fp8"}, ["spec.precision", '"fp8"', '"bf16"']),
        ({"model__name": "gpt5"}, ["spec.model.name", '"gpt5"', '"qwen2.5-7b"']),
        ({"model": {"source": "s3", "id": "x"}}, ["spec.model.source", '"s3"', '"hub"']),
        ({"lora__target_modules": ["q_proj", 3]}, ["spec.lora.target_modules[1]", "a string"]),
        ({"lora__rank": 3}, ["spec.lora.rank", "unknown key"]),
        ({"measure__warmup": {"steps": 1, "seconds": 2}}, ["spec.measure.warmup", '{"steps": ...}']),
        ({"method": "qlora"}, ["spec.quant", "qlora"]),
        (
            {"quant": {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True, "bnb_4bit_compute_dtype": "bf16"}},
            ["spec.quant", '"lora"'],
        ),
        ({"tokenizer": {"source": "model"}}, ["spec.tokenizer.source", "preset"]),
        ({"max_seq_length": 1}, ["spec.max_seq_length", "≥ 2"]),
        ({"version": 2}, ["spec.version", "1"]),
    ],
)
def test_bad_specs_name_the_key_value_and_expectation(changes, fragments):
    with pytest.raises(SpecError) as err:
        decode_with(**changes)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_a_spec_written_with_the_old_key_names_still_decodes():
    """Plan folders made before the spec took the grid's names (#19) still run."""
    old = copy.deepcopy(BASE_SPEC)
    renames = {
        "learning_rate": "lr",
        "lr_scheduler_type": "lr_schedule",
        "warmup_steps": "lr_warmup_steps",
        "gradient_accumulation_steps": "grad_accum",
        "max_seq_length": "max_seq_len",
    }
    for new, legacy in renames.items():
        old[legacy] = old.pop(new)
    old["lora"] = {"r": 8, "alpha": 16, "dropout": 0.1, "target_modules": ["q_proj"]}
    old["method"], old["quant"] = "qlora", {"quant_type": "fp4", "double_quant": False, "compute_dtype": "bf16"}
    old["measure"] = {
        "warmup": {"steps": 1},
        "window": {"adaptive": {"ci_target": 0.05, "min_seconds": 3}},
        "max_steps": 9,
        "max_seconds": 60,
    }
    spec = decode_spec(old)
    assert (spec.learning_rate, spec.gradient_accumulation_steps, spec.max_seq_length) == (0.0002, 1, 64)
    assert (spec.lora.lora_alpha, spec.lora.lora_dropout, spec.quant.bnb_4bit_quant_type) == (16, 0.1, "fp4")
    assert spec.measure.ci_target == 0.05 and spec.measure.window.adaptive.min_seconds == 3
    fixed = copy.deepcopy(old)
    fixed["measure"] = {"warmup": {"steps": 1}, "window": {"steps": 2}, "max_steps": 9, "max_seconds": 60}
    assert decode_spec(fixed).measure.ci_target is None


def test_old_and_new_key_names_do_not_mix():
    raw = copy.deepcopy(BASE_SPEC)
    raw["lr"] = 0.1
    with pytest.raises(SpecError, match="spec.lr: unknown key"):
        decode_spec(raw)


def test_an_adaptive_window_needs_a_ci_target():
    with pytest.raises(SpecError, match='spec.measure.ci_target: got null; expected a fraction.*"adaptive"'):
        decode_with(measure__window={"adaptive": {"min_seconds": 1}})
    with pytest.raises(SpecError, match="spec.measure.ci_target: got 2; expected a fraction"):
        decode_with(measure__ci_target=2)
