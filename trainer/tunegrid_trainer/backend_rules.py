"""Which cell fields each trainer backend cannot honour, and why. The grid rejects these at
expansion (src/grid/backends.ts says the same in the grid's field names); the spec decoder
rejects them here for specs that did not come through a grid. Never ignored silently."""

from __future__ import annotations


def unsupported(spec) -> list[tuple[str, str]]:
    """(spec key, why) for every field of `spec` its trainer cannot honour."""
    out: list[tuple[str, str]] = []
    if spec.trainer in ("hf", "trl") and spec.gradient_checkpointing == "auto":
        out.append(("gradient_checkpointing", 'cannot decide "auto": the memory probe measures tunegrid\'s own loop; set true or false'))
    if spec.trainer == "hf":
        if spec.tokens_per_step is not None:
            out.append(("tokens_per_step", "fills each micro-batch with batch_size samples; it has no token budget"))
        if spec.loss_kernel == "fused":
            out.append(
                ("loss_kernel", "computes the loss from the full logits (the model's own loss); \"fused\" is tunegrid's chunked loss")
            )
    if spec.trainer == "trl":
        if spec.loss_kernel == "standard":
            out.append(("loss_kernel", 'always computes the loss with its own fused LM head (TRL 1.16, no full logits): set "fused"'))
        if spec.tokens_per_step is not None and spec.padding != "packed":
            out.append(
                (
                    "tokens_per_step",
                    'is TRL\'s packing (packing=True, max_length = tokens_per_step / gradient_accumulation_steps), which is padding-free: set padding "packed"',
                )
            )
    if spec.trainer != "tunegrid":
        # issue #17: the budget's memory report and the fit's largest batches come from tunegrid's own loop
        if spec.vram_budget is not None:
            out.append(("vram_budget", "does not report where its memory went under a VRAM budget (tunegrid's own loop does); set null"))
        if spec.probe:
            out.append(("probe", "cannot run fit probes (the largest micro-batches): tunegrid's own loop does"))
    return out
