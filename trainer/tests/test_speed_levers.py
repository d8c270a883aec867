"""The speed levers change how the work is laid out, never what is computed: packed rows give the
padded batch's loss and gradients, the fused loss gives the standard loss and gradients, and a
token budget bounds every micro-batch without skipping samples."""

from __future__ import annotations

import random

import pytest
import torch

from tunegrid_trainer import packing
from tunegrid_trainer.loss import forward_loss, fused_loss, lm_loss, standard_loss
from tunegrid_trainer.models import build_model

SAMPLES = [[random.Random(i).randrange(1000, 5000) for _ in range(n)] for i, n in enumerate([7, 31, 12, 50, 3, 19, 44, 26])]


def tiny_model(padding: str):
    torch.manual_seed(0)
    built = build_model(
        source="preset",
        where="tiny",
        method="lora",
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        quant_type=None,
        double_quant=None,
        compute_dtype=None,
        precision="fp32",
        gradient_checkpointing=False,
        device="cpu",
    )
    for name, p in built.model.named_parameters():  # LoRA B starts at zero: make the adapters matter
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.02)
    if padding == "packed":
        built.model.get_base_model().set_attn_implementation(packing.register_document_attention())
    return built.model.double()  # fp64: the comparisons then test the layout, not rounding


def loss_and_grads(padding: str, kernel: str):
    model = tiny_model(padding)
    batch = packing.packed(SAMPLES) if padding == "packed" else packing.padded(SAMPLES, pad_id=0)
    loss = forward_loss(model, batch, "cpu", kernel, torch.float64)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.item(), grads


def assert_close_grads(a: dict, b: dict, rtol: float) -> None:
    assert a.keys() == b.keys() and a
    for name in a:
        err = (a[name] - b[name]).norm() / b[name].norm().clamp(min=1e-12)
        assert err < rtol, f"{name}: relative gradient error {err:.2e}"


def test_packed_rows_give_the_padded_batchs_loss_and_gradients():
    ref_loss, ref_grads = loss_and_grads("dynamic", "standard")
    loss, grads = loss_and_grads("packed", "standard")
    # fp64 on the CPU; the only difference is summation order
    assert loss == pytest.approx(ref_loss, rel=1e-10)
    assert_close_grads(grads, ref_grads, rtol=1e-6)


def test_packed_attention_does_not_see_across_samples():
    """Changing one sample must leave the loss of the others' tokens unchanged: the mask works."""
    model = tiny_model("packed")
    other = [list(s) for s in SAMPLES]
    other[0] = [t + 1 for t in other[0]]
    hidden = [
        model.get_base_model().get_decoder()(input_ids=b.input_ids, **packing.attention_kwargs(b, "cpu")).last_hidden_state
        for b in (packing.packed(SAMPLES), packing.packed(other))
    ]
    start = len(SAMPLES[0])
    assert not torch.allclose(hidden[0][0, :start], hidden[1][0, :start])
    torch.testing.assert_close(hidden[0][0, start:], hidden[1][0, start:], rtol=1e-10, atol=1e-10)


def test_fused_loss_gives_the_standard_loss_and_gradients_through_the_model():
    ref_loss, ref_grads = loss_and_grads("packed", "standard")
    loss, grads = loss_and_grads("packed", "fused")
    # both reduce fp32 logits (as HF's loss upcasts them), in different orders
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    assert_close_grads(grads, ref_grads, rtol=1e-4)


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_fused_loss_matches_standard_at_any_chunk_size_including_a_trainable_head(chunk):
    gen = torch.Generator().manual_seed(chunk)
    hidden = torch.randn(37, 16, generator=gen, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(300, 16, generator=gen, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 300, (37,), generator=gen)
    targets[::4] = -100
    ref = standard_loss(hidden, weight, targets, torch.float64)
    ref_h, ref_w = torch.autograd.grad(ref * 3.0, (hidden, weight))
    out = fused_loss(hidden, weight, targets, torch.float64, chunk=chunk)
    h, w = torch.autograd.grad(out * 3.0, (hidden, weight))  # an upstream factor reaches both grads
    assert out.item() == pytest.approx(ref.item(), rel=1e-12)
    torch.testing.assert_close(h, ref_h, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(w, ref_w, rtol=1e-10, atol=1e-12)


def test_losses_ignore_positions_whose_next_token_is_padding():
    labels = torch.tensor([[5, 6, 7, -100], [8, 9, -100, -100]])
    hidden = torch.randn(2, 4, 8)
    weight = torch.randn(20, 8)
    expected = standard_loss(hidden[[0, 0, 1], [0, 1, 0]], weight, torch.tensor([6, 7, 9]), torch.float32)
    for kernel in ("standard", "fused"):
        assert lm_loss(kernel, hidden, weight, labels, torch.float32).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("padding", ["dynamic", "packed"])
def test_a_token_budget_bounds_each_micro_batch_and_skips_no_sample(padding):
    samples = [[i + 1] * n for i, n in enumerate([5, 9, 3, 12, 7, 2, 11, 4, 8, 6])]  # sample i holds id i+1
    stream = packing.micro_batches(samples, padding=padding, batch_size=99, token_budget=16, seed=3, pad_id=0)
    served = []
    for _ in range(12):
        b = next(stream)
        assert b.padded_tokens <= 16 and b.samples >= 1
        if padding == "packed":
            assert b.padded_tokens == b.tokens and b.attention_mask is None
            bounds = b.cu_seqlens.tolist()
            rows = [b.input_ids[0, lo:hi] for lo, hi in zip(bounds, bounds[1:])]
        else:
            rows = [r[m == 1] for r, m in zip(b.input_ids, b.attention_mask)]
        served += [int(r[0]) - 1 for r in rows]
    order = packing._order(len(samples), 3)
    assert served == [next(order) for _ in served]  # the shuffled order, nothing dropped
    assert len(served) > len(samples)  # and it cycles into the next epoch


def test_packed_labels_drop_each_samples_first_token():
    b = packing.packed([[10, 11, 12], [20, 21]])
    assert b.labels.tolist() == [[-100, 11, 12, -100, 21]]
    assert b.position_ids.tolist() == [[0, 1, 2, 0, 1]]
    assert b.cu_seqlens.tolist() == [0, 3, 5]


def test_a_cell_with_every_lever_trains_through_the_real_entry_point(spec, tmp_path):
    from conftest import run_trainer

    spec.update(
        padding="packed",
        loss_kernel="fused",
        gradient_checkpointing="auto",
        tokens_per_step=256,
        gradient_accumulation_steps=2,
        learning_rate=0.005,
    )
    spec["measure"] = {"warmup": {"steps": 2}, "window": {"steps": 12}, "ci_target": None, "max_steps": 50, "max_seconds": 300}
    code, events, err = run_trainer(spec, tmp_path)
    assert code == 0, err
    started, steps = events[0], [e for e in events if e["event"] == "step"]
    assert events[-1]["event"] == "finished" and len(steps) == 14
    assert "gradient_checkpointing auto: off (no memory probe on cpu)" in started["warnings"]
    assert any("block-diagonal" in w for w in started["warnings"])  # no varlen kernel on the CPU, said so
    for s in steps:  # packed: no padding; two micro-batches of at most 128 tokens each
        assert s["tokens"] == s["padded_tokens"] <= 256 and s["samples"] >= 2
    assert sum(s["loss"] for s in steps[-3:]) < sum(s["loss"] for s in steps[:3])


def test_a_token_budget_smaller_than_a_sample_is_bad_spec(spec, tmp_path):
    from conftest import run_trainer

    spec.update(tokens_per_step=100, gradient_accumulation_steps=2)  # 50 tokens per micro-batch < max_seq_length 64
    code, events, err = run_trainer(spec, tmp_path)
    assert code == 2 and events[-1]["kind"] == "bad_spec", err
    assert "spec.tokens_per_step" in events[-1]["message"] and "128" in events[-1]["message"]


def test_lookahead_yields_every_micro_batch_once_in_order_whether_filled_or_not():
    source = iter(range(10))
    ahead = packing.Lookahead(source, "cpu")  # to_device leaves CPU batches as they are
    seen = [next(ahead)]
    ahead.fill()
    ahead.fill()  # a second fill before the batch is used builds nothing more
    seen += [next(ahead), next(ahead)]
    ahead.fill()
    seen += list(ahead)
    assert seen == list(range(10))
