"""torch_dtype (issue #16): the dtype a LoRA cell's frozen base is loaded in, null keeping the
precision's (the old behaviour), and QLoRA's fp32 upcast of the unquantized weights; the spec rules."""

import copy

import pytest
import torch

from conftest import BASE_SPEC
from tunegrid_trainer.errors import SpecError
from tunegrid_trainer.models import build_model, upcast_unquantized
from tunegrid_trainer.spec import decode_spec

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def tiny(precision: str, torch_dtype):
    return build_model(
        source="preset",
        where="tiny",
        method="lora",
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        target_modules=TARGETS,
        quant_type=None,
        double_quant=None,
        compute_dtype=None,
        precision=precision,
        gradient_checkpointing=False,
        device="cpu",
        torch_dtype=torch_dtype,
    )


def dtypes(model) -> tuple[set, set]:
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    trainable = {p.dtype for p in model.parameters() if p.requires_grad}
    return frozen, trainable


def test_null_keeps_the_base_in_the_training_precision_as_before():
    built = tiny("bf16", None)
    assert dtypes(built.model) == ({torch.bfloat16}, {torch.float32})
    assert not any("torch_dtype" in w for w in built.warnings)


def test_fp32_loads_the_base_in_fp32_under_16_bit_autocast_and_says_so():
    built = tiny("bf16", "fp32")
    assert dtypes(built.model) == ({torch.float32}, {torch.float32})
    assert "base weights loaded in float32 (torch_dtype fp32), training precision bf16" in built.warnings


def test_auto_on_a_preset_is_its_checkpoint_dtype():
    assert dtypes(tiny("fp32", "auto").model)[0] == {torch.bfloat16}


def test_fp32_base_trains_a_step_under_bf16_autocast(spec):
    from tunegrid_trainer.stepper import Stepper
    from tunegrid_trainer.train import prepare

    spec.update(precision="bf16", torch_dtype="fp32", batch_size=2)
    ready = prepare(decode_spec(spec))
    stepper = Stepper(ready.model, ready.options)
    loss, tokens, _, _ = stepper.forward_backward(ready.batches)
    stepper.update()
    assert torch.isfinite(loss) and tokens > 0
    assert {p.dtype for p in ready.model.parameters() if not p.requires_grad} == {torch.float32}


def test_qlora_fp32_upcasts_every_16_bit_weight_and_leaves_packed_4_bit_ones():
    model = tiny("bf16", None).model
    packed = torch.nn.Parameter(torch.zeros(8, dtype=torch.uint8), requires_grad=False)
    model.register_parameter("packed_4bit", packed)
    upcast_unquantized(model)
    assert {p.dtype for n, p in model.named_parameters() if n != "packed_4bit"} == {torch.float32}
    assert model.packed_4bit.dtype == torch.uint8


def spec_with(**changes):
    raw = copy.deepcopy(BASE_SPEC)
    raw.update(changes)
    return decode_spec(raw)


@pytest.mark.parametrize(
    "changes, fragments",
    [
        (
            {
                "method": "qlora",
                "quant": {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True, "bnb_4bit_compute_dtype": "bf16"},
                "torch_dtype": "bf16",
            },
            ["spec.torch_dtype", '"bf16"', 'null or "fp32"'],
        ),
        ({"precision": "fp32", "torch_dtype": "fp16"}, ["spec.torch_dtype", "a 16-bit base needs autocast"]),
        ({"torch_dtype": "fp64"}, ["spec.torch_dtype", '"fp64"', '"bf16"']),
        (
            {"vram_budget": {"name": "c", "usable_mib": 100, "context_mib": 10, "cap_mib": 200}},
            ["spec.vram_budget.cap_mib", "(0, usable_mib = 100]"],
        ),
    ],
)
def test_bad_torch_dtype_or_budget_is_named(changes, fragments):
    with pytest.raises(SpecError) as err:
        spec_with(**changes)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_qlora_accepts_fp32_and_lora_accepts_every_dtype():
    assert (
        spec_with(
            method="qlora",
            quant={"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True, "bnb_4bit_compute_dtype": "bf16"},
            torch_dtype="fp32",
        ).torch_dtype
        == "fp32"
    )
    for dtype in ("auto", "fp32", "fp16", "bf16"):
        assert spec_with(precision="bf16", torch_dtype=dtype).torch_dtype == dtype
