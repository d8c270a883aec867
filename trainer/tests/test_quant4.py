"""The compiled 4-bit path (`quant4`) against bitsandbytes itself, on the CPU: the same weight
values, the same outputs and LoRA gradients, and no dequantized weight kept for backward."""

import pytest
import torch

bnb = pytest.importorskip("bitsandbytes")
from bitsandbytes import functional as bnbf  # noqa: E402

from tunegrid_trainer.quant4 import dequantize, dequantize_in_graph  # noqa: E402


def _nested(state):
    if not state.nested:
        return None, None, None
    return state.state2.code, state.state2.absmax, torch.as_tensor(state.offset)


@pytest.mark.parametrize("quant_type", ["nf4", "fp4"])
@pytest.mark.parametrize("double_quant", [True, False])
@pytest.mark.parametrize("shape", [(96, 128), (90, 33)])  # 90 × 33: the last absmax block is partial
def test_dequantize_equals_bitsandbytes(quant_type, double_quant, shape):
    torch.manual_seed(0)
    weight = torch.randn(shape, dtype=torch.bfloat16)
    packed, state = bnbf.quantize_4bit(weight, blocksize=64, quant_type=quant_type, compress_statistics=double_quant)
    ours = dequantize(
        packed,
        state.absmax,
        state.code,
        *_nested(state),
        shape=tuple(state.shape),
        blocksize=state.blocksize,
        nested_blocksize=state.state2.blocksize if state.nested else 0,
        dtype=state.dtype,
    )
    assert torch.equal(ours, bnbf.dequantize_4bit(packed, state))


class Block(torch.nn.Module):
    def __init__(self, linear=torch.nn.Linear):
        super().__init__()
        self.up = linear(128, 256, bias=True)
        self.down = linear(256, 128, bias=False)

    def forward(self, x):
        return self.down(torch.nn.functional.silu(self.up(x)))


def _qlora_block():
    """A two-layer block of nf4 + double-quant weights (quantized on the CPU by bitsandbytes),
    frozen, with LoRA adapters from PEFT on both layers; the same block every call."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    dense = Block().to(torch.bfloat16)
    block = Block(
        lambda i, o, bias: bnb.nn.Linear4bit(i, o, bias=bias, compute_dtype=torch.bfloat16, quant_type="nf4", compress_statistics=True)
    )
    block.load_state_dict(dense.state_dict())
    block = block.to("cpu")  # quantizes
    block.up.bias.data = block.up.bias.data.to(torch.bfloat16)
    for p in block.parameters():
        p.requires_grad_(False)
    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["up", "down"], init_lora_weights=False)
    return get_peft_model(block, config)


def _step(model, x):
    out = model(x)
    out.float().square().mean().backward()
    return out.detach(), [p.grad for p in model.parameters() if p.requires_grad]


def test_switched_layers_keep_class_and_state_dict():
    model = _qlora_block()
    keys = set(model.state_dict())
    assert dequantize_in_graph(model) == 2
    assert dequantize_in_graph(model) == 0  # already switched
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(layers) == 2 and all(hasattr(m, "layout4") for m in layers)
    assert set(model.state_dict()) == keys  # the buffers are views, not state
    assert all(m.packed4.data_ptr() == m.weight.data_ptr() for m in layers)


def test_compiled_block_matches_bitsandbytes_and_saves_no_dequantized_weight():
    x = torch.randn(2, 7, 128, dtype=torch.bfloat16, requires_grad=True)
    out_ref, grads_ref = _step(_qlora_block(), x)
    grad_x_ref, x.grad = x.grad, None

    model = _qlora_block()
    dequantize_in_graph(model)
    # AOTAutograd with the min-cut partitioner, as under inductor, without compiling C++
    model.base_model.model.compile(backend="aot_eager_decomp_partition")
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        out, grads = _step(model, x)

    assert torch.equal(out, out_ref)
    assert torch.equal(x.grad, grad_x_ref)
    assert len(grads) == len(grads_ref) == 4
    assert all(torch.equal(g, r) for g, r in zip(grads, grads_ref))
    assert saved, "the hook saw nothing: the check below would pass vacuously"
    # only the stored 4-bit weights (uint8, half the weight's element count) may be as large as a
    # weight: a dequantized weight or an int64 index over it would make QLoRA's memory LoRA's
    weight_numel = 128 * 256
    assert not [(tuple(t.shape), t.dtype) for t in saved if t.numel() >= weight_numel // 2 and t.dtype != torch.uint8]


def test_compiled_block_under_gradient_checkpointing_matches_bitsandbytes():
    """`gradientCheckpointing: true` with `compile`: the trainer's non-reentrant checkpoint wraps
    each compiled layer, whose dequantization has its own selective-checkpoint policy inside."""
    x = torch.randn(2, 7, 128, dtype=torch.bfloat16, requires_grad=True)
    out_ref, grads_ref = _step(_qlora_block(), x)
    grad_x_ref, x.grad = x.grad, None

    model = _qlora_block()
    dequantize_in_graph(model)
    inner = model.base_model.model
    inner.compile(backend="aot_eager_decomp_partition")
    out = torch.utils.checkpoint.checkpoint(inner, x, use_reentrant=False)
    out.float().square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]

    assert torch.equal(out.detach(), out_ref) and torch.equal(x.grad, grad_x_ref)
    assert len(grads) == 4 and all(torch.equal(g, r) for g, r in zip(grads, grads_ref))
