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
    assert spec.measure.warmup == Steps(2) and spec.lora.alpha == 16


def test_seconds_bounds_decode():
    spec = decode_with(measure__window={"seconds": 1.5})
    assert spec.measure.window == Seconds(1.5)


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"batch_sise": 3}, ["spec.batch_sise", "unknown key"]),
        ({"seed": KeyError}, ["spec.seed", "missing key"]),
        ({"lr": "fast"}, ["spec.lr", '"fast"', "a number"]),
        ({"batch_size": 2.5}, ["spec.batch_size", "2.5", "an integer"]),
        ({"gradient_checkpointing": 1}, ["spec.gradient_checkpointing", "one of true, false, \"auto\""]),
        ({"batch_size": True}, ["spec.batch_size", "an integer"]),
        ({"precision": "fp8"}, ["spec.precision", '"fp8"', '"bf16"']),
        ({"model__name": "gpt5"}, ["spec.model.name", '"gpt5"', '"qwen2.5-7b"']),
        ({"model": {"source": "s3", "id": "x"}}, ["spec.model.source", '"s3"', '"hub"']),
        ({"lora__target_modules": ["q_proj", 3]}, ["spec.lora.target_modules[1]", "a string"]),
        ({"lora__rank": 3}, ["spec.lora.rank", "unknown key"]),
        ({"measure__warmup": {"steps": 1, "seconds": 2}}, ["spec.measure.warmup", '{"steps": ...}']),
        ({"method": "qlora"}, ["spec.quant", "qlora"]),
        ({"quant": {"quant_type": "nf4", "double_quant": True, "compute_dtype": "bf16"}}, ["spec.quant", '"lora"']),
        ({"tokenizer": {"source": "model"}}, ["spec.tokenizer.source", "preset"]),
        ({"max_seq_len": 1}, ["spec.max_seq_len", "≥ 2"]),
        ({"version": 2}, ["spec.version", "1"]),
    ],
)
def test_bad_specs_name_the_key_value_and_expectation(changes, fragments):
    with pytest.raises(SpecError) as err:
        decode_with(**changes)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))
