"""The other trainers a cell can name: HF Trainer and TRL draw samples in the cell's seeded order
and get the cell's options as their own arguments; what a backend cannot honour is refused with
the spec; a user's script that fails, exits or never trains is reported as a failed trainer; hub
datasets are read with their split and subset."""

import copy
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from conftest import BASE_SPEC, TRAINER_ROOT, child_env, parse_events
from tunegrid_trainer import callback, readers
from tunegrid_trainer.errors import SpecError
from tunegrid_trainer.order import CellOrderSampler
from tunegrid_trainer.packing import micro_batches
from tunegrid_trainer.spec import decode_spec


def test_the_cell_order_sampler_gives_tunegrids_micro_batches_across_epochs():
    samples = [[i] * (1 + i % 7) for i in range(1, 12)]  # 11 samples: batches of 3 straddle epoch ends
    sampler = CellOrderSampler(len(samples), seed=42, length=3 * 20)
    indices = list(sampler)
    hf_batches = [[samples[i] for i in indices[k : k + 3]] for k in range(0, len(indices), 3)]
    ours = micro_batches(samples, padding="dynamic", batch_size=3, token_budget=None, seed=42, pad_id=0)
    for batch in hf_batches:
        b = next(ours)
        assert [row[: int(m.sum())].tolist() for row, m in zip(b.input_ids, b.attention_mask)] == batch
    assert len(sampler) == 60 and sorted(indices[:11]) == list(range(11))


def spec_with(**changes):
    raw = copy.deepcopy(BASE_SPEC)
    raw["tokenizer"]["path"] = "/tok"
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"trainer": "hf", "tokens_per_step": 4096}, "spec.tokens_per_step: got 4096; expected another value: trainer hf fills"),
        ({"trainer": "hf", "loss_kernel": "fused"}, "spec.loss_kernel"),
        (
            {"trainer": "trl"},
            'spec.loss_kernel: got "standard"; expected another value: trainer trl always computes the loss with its own fused',
        ),
        ({"trainer": "trl", "loss_kernel": "fused", "gradient_checkpointing": "auto"}, "memory probe"),
        ({"trainer": "script"}, 'spec.script: got null; expected an object {path, args, cwd} because trainer is "script"'),
        ({"script": {"path": "/t.py", "args": [], "cwd": "/"}}, 'only trainer "script" runs a script'),
    ],
)
def test_what_a_backend_cannot_honour_is_refused_with_the_spec(changes, fragment):
    with pytest.raises(SpecError) as err:
        decode_spec(spec_with(**changes))
    assert fragment in str(err.value)


def test_trl_gets_the_cells_padding_packing_and_schedule_as_sft_config_arguments():
    from tunegrid_trainer.backend_trl import sft_config_arguments

    peer = SimpleNamespace(device="cpu", tokens=SimpleNamespace(format="prompt_completion"))
    base = dict(trainer="trl", loss_kernel="fused")
    dynamic = sft_config_arguments(decode_spec(spec_with(**base)), peer, "/out")
    assert (dynamic["padding_free"], dynamic["packing"], dynamic["max_length"], dynamic["per_device_train_batch_size"]) == (
        False,
        False,
        64,
        2,
    )
    assert dynamic["completion_only_loss"] is True and dynamic["lr_scheduler_type"] == "constant_with_warmup"
    assert dynamic["shuffle_dataset"] is False and dynamic["optim"] == "adamw_torch" and dynamic["bf16"] is False
    free = sft_config_arguments(decode_spec(spec_with(**base, padding="packed")), peer, "/out")
    assert (free["padding_free"], free["packing"], free["max_length"]) == (True, False, None)
    packed = sft_config_arguments(
        decode_spec(spec_with(**base, padding="packed", tokens_per_step=512, gradient_accumulation_steps=2)), peer, "/out"
    )
    assert (packed["packing"], packed["max_length"], packed["per_device_train_batch_size"], packed["gradient_accumulation_steps"]) == (
        True,
        256,
        1,
        2,
    )


def test_outside_a_cell_the_callback_does_nothing(monkeypatch, capsys):
    monkeypatch.delenv(callback.SPEC_ENV, raising=False)
    monkeypatch.setattr(callback, "_session", None)
    cb = callback.TunegridCallback()
    assert cb.session is None
    cb.on_train_begin(SimpleNamespace(), SimpleNamespace(), SimpleNamespace())
    assert "nothing is measured" in capsys.readouterr().err


def run_script_cell(tmp_path, source: str):
    script = tmp_path / "user_script.py"
    script.write_text(source)
    spec = copy.deepcopy(BASE_SPEC)
    spec["tokenizer"]["path"] = "/unused"
    spec.update(trainer="script", script={"path": str(script), "args": ["--flag", "7"], "cwd": str(tmp_path)})
    (tmp_path / "cell.json").write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, "-u", "-m", "tunegrid_trainer", "--spec", str(tmp_path / "cell.json")],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(),
        cwd=TRAINER_ROOT,
    )
    return proc.returncode, parse_events(proc.stdout), proc.stderr


@pytest.mark.parametrize(
    "source, code, fragment",
    [
        (
            "import sys\nassert sys.argv[1:] == ['--flag', '7']\nraise RuntimeError('tokenizer blew up')\n",
            3,
            "RuntimeError: tokenizer blew up",
        ),
        ("import sys\nsys.exit(3)\n", 3, "exited with code 3 before a Trainer began training"),
        (
            "import os\nprint('cell at', os.environ['TUNEGRID_SPEC'])\n",
            3,
            "ended without training a Trainer with TunegridCallback (no step was reported)",
        ),
    ],
)
def test_a_script_that_crashes_exits_or_never_trains_is_a_failed_trainer(tmp_path, source, code, fragment):
    exit_code, events, stderr = run_script_cell(tmp_path, source)
    assert exit_code == code, stderr
    assert [e["event"] for e in events] == ["failed"]
    assert events[0]["kind"] == "crash" and fragment in events[0]["message"], events[0]


def test_a_hub_dataset_is_read_with_its_split_and_subset(tmp_path):
    repo = tmp_path / "org-chat"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "a_train.jsonl").write_text(json.dumps({"text": "from a, train"}) + "\n")
    (repo / "data" / "b_train.jsonl").write_text(json.dumps({"text": "from b, train"}) + "\n")
    (repo / "data" / "b_test.jsonl").write_text("".join(json.dumps({"text": f"from b, test {i}"}) + "\n" for i in range(3)))
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: a\n  data_files:\n  - split: train\n    path: data/a_train.jsonl\n"
        "- config_name: b\n  data_files:\n  - split: train\n    path: data/b_train.jsonl\n"
        "  - split: test\n    path: data/b_test.jsonl\n---\n"
    )
    rows = readers.read_hub(str(repo), "test", "b")
    assert [r["text"] for _, r in rows] == ["from b, test 0", "from b, test 1", "from b, test 2"]
    assert rows[2][0].endswith("subset 'b' split 'test': row 3")
    with pytest.raises(Exception, match=r"cannot load hub:.* subset 'a' split 'test'"):
        readers.read_hub(str(repo), "test", "a")


def test_hf_and_trl_collators_give_tunegrids_loss_on_the_same_samples(tokenizer):
    """Padded and padding-free batches as HF's and TRL's collators build them, through the same
    model, give the loss tunegrid's own micro-batches give on the same samples: no token attends
    across a sample boundary (the flattened row without its boundaries would, and differs)."""
    import torch
    from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from tunegrid_trainer import packing
    from tunegrid_trainer.loss import forward_loss
    from tunegrid_trainer.models import build_model

    torch.manual_seed(0)
    model = build_model(
        source="preset",
        where="tiny",
        method="lora",
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        target_modules=["q_proj", "v_proj"],
        quant_type=None,
        double_quant=None,
        compute_dtype=None,
        precision="fp32",
        gradient_checkpointing=False,
        device="cpu",
    ).model
    samples = [tokenizer(text=t)["input_ids"] for t in ("a short one", "a rather longer sample of text here", "mid length text")]
    features = [{"input_ids": s, "labels": s} for s in samples]
    with torch.no_grad():
        padded = forward_loss(model, packing.padded(samples, pad_id=0), "cpu", "standard", torch.float32)
        hf_padded = model(**DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)(features)).loss
        flat = DataCollatorWithFlattening()(features)
        leaking = model(input_ids=flat["input_ids"], labels=flat["labels"]).loss  # one causal row: samples see each other
        model.get_base_model().set_attn_implementation(packing.register_document_attention())  # as the backends do for "packed"
        packed = forward_loss(model, packing.packed(samples), "cpu", "standard", torch.float32)
        hf_flat = model(**DataCollatorWithFlattening(return_flash_attn_kwargs=True)(features)).loss
        trl_flat = model(**DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(features)).loss
    assert torch.allclose(packed, padded, atol=1e-5)
    assert not torch.allclose(leaking, padded, atol=1e-3)
    for loss in (hf_flat, trl_flat, hf_padded):
        assert torch.allclose(loss.float(), packed, atol=1e-5), (float(loss), float(packed))


def test_the_hf_trainers_steps_report_the_stop_rules_ci(spec, tmp_path):
    """The HF/TRL callback path emits the same per-step CI as tunegrid's loop (#19)."""
    from conftest import run_trainer

    spec.update(trainer="hf")
    spec["measure"] = {"warmup": {"steps": 2}, "window": {"steps": 4}, "ci_target": None, "max_steps": 20, "max_seconds": 300}
    code, events, err = run_trainer(spec, tmp_path)
    assert code == 0, err
    steps = [e for e in events if e["event"] == "step"]
    assert [s["phase"] for s in steps] == ["warmup"] * 2 + ["window"] * 4
    assert [s["ci_half_rel"] for s in steps[:3]] == [None] * 3
    assert all(s["ci_half_rel"] > 0 for s in steps[3:])
