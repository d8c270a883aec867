"""The compiled 4-bit path on the GPU (issue #7): `tunegrid_trainer.quant4` against bitsandbytes'
CUDA kernels, on the weight shapes of the Qwen2.5-1.5B preset.

1. `dequantize` (eager and compiled) against `bitsandbytes.functional.dequantize_4bit`, for nf4
   and fp4, with and without double quant, on a few random weights each: how many equal bit for
   bit; for the others, how many elements differ, by how much, and whether bitsandbytes gives
   the same result when asked again.
2. A PEFT LoRA layer over the largest 4-bit weight, bitsandbytes eager against the switched layer
   compiled by inductor: relative difference of the output, the input gradient and the LoRA
   gradients, and the memory the compiled layer keeps for backward.

Prints one JSON object. `python bench/quant4_check.py` (trainer/ and bitsandbytes on PYTHONPATH)."""

from __future__ import annotations

import json

import torch

SHAPES = {"q_proj/o_proj": (1536, 1536), "k_proj/v_proj": (256, 1536), "gate_proj/up_proj": (8960, 1536),
          "down_proj": (1536, 8960)}


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def dequant_checks(trials: int = 8) -> list[dict]:
    from bitsandbytes import functional as bnbf

    from tunegrid_trainer.quant4 import dequantize

    compiled = torch.compile(dequantize, dynamic=False)
    rows = []
    torch.manual_seed(0)
    for name, shape in SHAPES.items():
        for quant_type, double_quant in (("nf4", True), ("nf4", False), ("fp4", True), ("fp4", False)):
            equal, misses = dict(eager=0, compiled=0), []
            for trial in range(trials):
                weight = torch.randn(shape, device="cuda", dtype=torch.bfloat16)
                packed, state = bnbf.quantize_4bit(weight, blocksize=64, quant_type=quant_type,
                                                   compress_statistics=double_quant)
                nested = (state.state2.code, state.state2.absmax, torch.as_tensor(state.offset, device="cuda")) \
                    if state.nested else (None, None, None)
                layout = dict(shape=tuple(state.shape), blocksize=state.blocksize,
                              nested_blocksize=state.state2.blocksize if state.nested else 0, dtype=state.dtype)
                ref = bnbf.dequantize_4bit(packed, state)
                eager = dequantize(packed, state.absmax, state.code, *nested, **layout)
                fused = compiled(packed, state.absmax, state.code, *nested, **layout)
                for path, ours in (("eager", eager), ("compiled", fused)):
                    unequal = int((ours != ref).sum())
                    equal[path] += unequal == 0
                    if unequal:
                        again = bnbf.dequantize_4bit(packed, state)
                        misses.append(dict(trial=trial, path=path, elements=unequal, of=ref.numel(),
                                           max_abs_diff=(ours.float() - ref.float()).abs().max().item(),
                                           bitsandbytes_repeat_equal=torch.equal(again, ref),
                                           repeat_equal=torch.equal(again, ours)))
            rows.append(dict(weight=name, shape=shape, quant_type=quant_type, double_quant=double_quant, trials=trials,
                             eager_equal=equal["eager"], compiled_equal=equal["compiled"], unequal=misses))
    return rows


def layer_check(shape=SHAPES["gate_proj/up_proj"], tokens=8192) -> dict:
    import bitsandbytes as bnb
    from peft import LoraConfig, get_peft_model

    from tunegrid_trainer.quant4 import dequantize_in_graph

    out_features, in_features = shape

    def build():
        torch.manual_seed(0)
        holder = torch.nn.Module()
        holder.proj = bnb.nn.Linear4bit(in_features, out_features, bias=False, compute_dtype=torch.bfloat16,
                                        quant_type="nf4", compress_statistics=True)
        holder.proj.load_state_dict({"weight": torch.randn(shape, dtype=torch.bfloat16) * 0.02})
        holder = holder.cuda()
        holder.proj.weight.requires_grad_(False)
        holder.forward = lambda x: holder.proj(x)
        torch.manual_seed(1)
        return get_peft_model(holder, LoraConfig(r=16, lora_alpha=32, target_modules=["proj"], init_lora_weights=False))

    torch.manual_seed(2)
    x0 = torch.randn(tokens, in_features, device="cuda", dtype=torch.bfloat16)

    def step(model):
        x = x0.clone().requires_grad_(True)
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        out = model(x)
        kept = torch.cuda.memory_allocated() - base - out.numel() * out.element_size()
        out.float().square().mean().backward()
        return out.detach(), x.grad, [p.grad for p in model.parameters() if p.requires_grad], kept

    out_ref, gx_ref, g_ref, kept_ref = step(build())
    model = build()
    dequantize_in_graph(model)
    model.base_model.model.proj.compile()
    step(model)  # compile
    model.zero_grad(set_to_none=True)
    out, gx, g, kept = step(model)
    return dict(shape=shape, tokens=tokens, out_rel=rel(out, out_ref), grad_x_rel=rel(gx, gx_ref),
                lora_grad_rel=max(rel(a, b) for a, b in zip(g, g_ref)),
                kept_for_backward_mib=dict(bitsandbytes_eager=kept_ref / 2**20, quant4_compiled=kept / 2**20),
                dequantized_weight_mib=out_features * in_features * 2 / 2**20)


def main() -> None:
    result = dict(dequantize=dequant_checks(), layer=layer_check())
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
