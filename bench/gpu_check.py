"""The losses check on the GPU (issue #7): the same real samples through the Qwen2.5-1.5B preset
with LoRA (bf16), as a padded batch with the standard loss (the reference path: SDPA, full
logits), as a packed row (varlen flash attention) with the standard loss, and as a packed row
with the fused chunked loss. Prints one JSON object: each path's loss, its relative difference
to the reference, and the relative difference of the LoRA gradient vector.

`python bench/gpu_check.py [--preset qwen2.5-1.5b] [--samples 48] [--tokenizer DIR]` (trainer/ on PYTHONPATH)."""

from __future__ import annotations

import argparse
import json

import torch

from tunegrid_trainer import data as data_mod
from tunegrid_trainer import packing
from tunegrid_trainer.models import build_model
from tunegrid_trainer.loss import forward_loss

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="qwen2.5-1.5b")
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--tokenizer", default="/tmp/tok")
    args = parser.parse_args()
    torch.manual_seed(0)
    built = build_model(source="preset", where=args.preset, method="lora", lora_r=16, lora_alpha=32, lora_dropout=0.0,
                        target_modules=ALL_LINEAR, quant_type=None, double_quant=None, compute_dtype=None,
                        precision="bf16", gradient_checkpointing=False, device="cuda")
    model = built.model
    for name, p in model.named_parameters():  # LoRA B starts at zero: give the adapters a gradient path
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.01)
    tok = data_mod.load_tokenizer("file", args.tokenizer, None)
    rows = data_mod.load_rows("synthetic", None, None, None, args.samples, 0)
    samples = data_mod.tokenize(data_mod.format_texts(rows, "alpaca", tok), tok, 2048, 151936).samples
    base = model.get_base_model()

    def run(padding: str, kernel: str):
        base.set_attn_implementation(packing.register_document_attention() if padding == "packed" else "sdpa")
        batch = packing.packed(samples) if padding == "packed" else packing.padded(samples, pad_id=0)
        model.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = forward_loss(model, batch, "cuda", kernel, torch.bfloat16)
        loss.backward()
        grads = torch.cat([p.grad.float().flatten() for p in model.parameters() if p.requires_grad])
        return loss.item(), grads

    ref_loss, ref_grad = run("dynamic", "standard")
    out = {"preset": args.preset, "samples": len(samples), "tokens": sum(map(len, samples)),
           "varlen_kernel": packing.varlen_available("cuda"), "reference": {"path": "dynamic+standard", "loss": ref_loss}}
    for padding, kernel in (("packed", "standard"), ("packed", "fused"), ("dynamic", "fused")):
        loss, grad = run(padding, kernel)
        out[f"{padding}+{kernel}"] = {
            "loss": loss, "loss_rel_diff": abs(loss - ref_loss) / abs(ref_loss),
            "grad_rel_diff": float((grad - ref_grad).norm() / ref_grad.norm()),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
