"""bitsandbytes 4-bit weights (nf4/fp4, with or without double quant) dequantized by plain
PyTorch ops, so that a compiled decoder layer holds the whole QLoRA matmul.

Under torch.compile, `bitsandbytes.nn.Linear4bit` stays a chain of Python-registered custom
operators (absmax dequant, 4-bit dequant, matmul; the backward dequantizes again), and each call
runs Python on the host. On the H100 that made a QLoRA step at 8k tokens last as long as its host
took to queue it: 286 ms against 180 ms of GPU work (`bench/host_bound.py`). Written as indexing
and arithmetic, the dequantization becomes one fused kernel inside the compiled layer's graph, with
no Python per call.

The same values as bitsandbytes' kernels, bit for bit when run eagerly. Compiled, a few of the
large double-quant weights have a few elements one bf16 ulp apart (H100: at most 118 of 13.8M,
`bench/quant4_check.py`). The same memory as bitsandbytes: the stored 4-bit weight and its absmax
are what the layer keeps; the 16-bit weight exists only during a matmul. The dequantization runs
under a selective-checkpoint policy that makes the compiled graph recompute it for the backward
(otherwise the partitioner saves the 16-bit weight, since the backward's matmul needs it whole).
Only for compiled layers: run eagerly, the same ops would be a dozen kernels per matmul and the
16-bit weight would be saved.
"""

from __future__ import annotations

import functools
import math

import torch
from torch.utils.checkpoint import CheckpointPolicy, checkpoint, create_selective_checkpoint_contexts


def dequantize(
    packed: torch.Tensor,
    absmax: torch.Tensor,
    code: torch.Tensor,
    nested_code: torch.Tensor | None,
    nested_absmax: torch.Tensor | None,
    offset: torch.Tensor | None,
    *,
    shape: tuple[int, ...],
    blocksize: int,
    nested_blocksize: int,
    dtype: torch.dtype,
) -> torch.Tensor:
    """The weight of `shape` in `dtype` from bitsandbytes' storage: two 4-bit indices per byte,
    high nibble first, into the 16-value `code`, scaled by one absmax per `blocksize` values.
    With double quant the absmax values are themselves 8-bit indices into `nested_code`, scaled
    per `nested_blocksize` and shifted by `offset`."""
    if nested_code is not None:
        absmax = _blockwise(nested_code[absmax.long()], nested_absmax, nested_blocksize, absmax.numel()) + offset
    flat = packed.reshape(-1)
    index = torch.stack((flat >> 4, flat & 15), dim=-1).reshape(-1)
    return _blockwise(code[index.long()], absmax, blocksize, math.prod(shape)).to(dtype).reshape(shape)


def _blockwise(values: torch.Tensor, scales: torch.Tensor, blocksize: int, numel: int) -> torch.Tensor:
    """values[i] * scales[i // blocksize] for i < numel, as a reshape: an index tensor would be
    kept for backward by a compiled graph (int64, 4× the 16-bit weight). A partial last block is
    zero-padded."""
    padded = scales.numel() * blocksize
    if padded != len(values):
        values = torch.nn.functional.pad(values[:padded], (0, padded - min(padded, len(values))))
    return (values.view(-1, blocksize) * scales.view(-1, 1)).reshape(-1)[:numel]


def _must_recompute(ctx, op, *args, **kwargs):  # every op of the dequantization
    return CheckpointPolicy.MUST_RECOMPUTE


_RECOMPUTE = functools.partial(create_selective_checkpoint_contexts, _must_recompute)
_STATE = ("packed4", "absmax4", "code4", "nested_code4", "nested_absmax4", "offset4")


def _forward(self, x: torch.Tensor) -> torch.Tensor:
    in_dtype = x.dtype
    x = x.to(self.layout4["dtype"])
    weight = checkpoint(dequantize, *(getattr(self, name) for name in _STATE), **self.layout4, use_reentrant=False, context_fn=_RECOMPUTE)
    bias = None if self.bias is None else self.bias.to(x.dtype)
    return torch.nn.functional.linear(x, weight, bias).to(in_dtype)


def dequantize_in_graph(model: torch.nn.Module) -> int:
    """Switches every bitsandbytes `Linear4bit` of `model` (PEFT's base layers included) to the
    plain-PyTorch path above; returns how many. The layers keep their class, weight and quant
    state (FLOP counts, state dicts and `model_facts` see the same modules); the state's tensors
    are also registered as non-persistent buffers (shared storage, no copy) so a compiled graph
    takes them as inputs, one graph for every layer of the same shape."""
    try:
        from bitsandbytes.nn import Linear4bit
    except Exception:  # no bitsandbytes: nothing can be 4-bit
        return 0
    classes: dict[type, type] = {}
    switched = 0
    for module in model.modules():
        if not isinstance(module, Linear4bit) or hasattr(module, "layout4"):
            continue
        state = module.weight.quant_state
        nested = bool(getattr(state, "nested", False))
        module.layout4 = dict(
            shape=tuple(state.shape),
            blocksize=int(state.blocksize),
            nested_blocksize=int(state.state2.blocksize) if nested else 0,
            dtype=module.compute_dtype or state.dtype,
        )
        tensors = (
            module.weight.data,
            state.absmax,
            state.code,
            state.state2.code if nested else None,
            state.state2.absmax if nested else None,
            torch.as_tensor(state.offset, device=state.absmax.device) if nested else None,
        )
        for name, tensor in zip(_STATE, tensors):
            module.register_buffer(name, tensor, persistent=False)
        cls = type(module)
        if cls not in classes:
            classes[cls] = type(cls.__name__, (cls,), {"forward": _forward, "__module__": __name__})
        module.__class__ = classes[cls]
        switched += 1
    return switched
