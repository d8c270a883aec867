"""The wire shapes: `--dump` output, and events never carrying NaN."""

import json
import math
import subprocess
import sys

from conftest import TRAINER_ROOT, child_env
from tunegrid_trainer.protocol import Failed, Step, to_json


def test_dump_lists_every_event_and_the_spec():
    out = subprocess.run(
        [sys.executable, "-m", "tunegrid_trainer.protocol", "--dump"],
        capture_output=True,
        text=True,
        check=True,
        cwd=TRAINER_ROOT,
        env=child_env(),
    ).stdout
    shapes = json.loads(out)
    assert set(shapes) == {"started", "step", "finished", "failed", "memory", "sampler", "sample", "spec"}
    for name, shape in shapes.items():
        assert set(shape) == {"required", "optional", "enums"}
        assert not set(shape["required"]) & set(shape["optional"]), name
    assert shapes["step"]["required"][:2] == ["event", "step"]
    assert "model.flops_per_token" in shapes["started"]["required"]
    assert "env.gpu_uuid" in shapes["started"]["optional"]
    assert "grad_norm" in shapes["step"]["optional"]
    assert shapes["failed"]["enums"]["kind"] == ["oom", "nan_loss", "bad_spec", "missing_dependency", "data_error", "crash"]
    assert shapes["finished"]["enums"]["reason"] == ["window_complete", "max_steps", "max_seconds", "stop_requested"]
    spec = shapes["spec"]
    assert "model[preset].name" in spec["required"] and "model[hub].id" in spec["required"]
    assert "measure.warmup[seconds].seconds" in spec["required"]
    assert {"quant", "max_grad_norm", "data[file].samples"} <= set(spec["optional"])
    assert "quant.bnb_4bit_quant_type" in spec["required"]  # required whenever quant is non-null
    assert {"torch_dtype", "vram_budget"} <= set(spec["optional"]) and "vram_budget.cap_mib" in spec["required"]
    assert spec["enums"]["torch_dtype"] == ["auto", "fp32", "fp16", "bf16"] and "probe" in spec["required"]
    assert {"outside_torch_mib", "context_mib"} <= set(shapes["memory"]["optional"])
    assert {"budget.cap_mib", "torch_peak_reserved_mib", "paged_mib"} <= set(shapes["memory"]["required"])
    assert spec["enums"]["model[preset].name"] == ["tiny", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "llama-3.1-8b"]


def test_non_finite_floats_become_null_in_events():
    step = Step(0, 1.0, 2.0, 10, 12, 2, 1.5, 1e-4, math.inf, None, None, None, None, "warmup")
    event = json.loads(to_json(step))
    assert event["event"] == "step" and event["grad_norm"] is None
    assert json.loads(to_json(Failed("crash", "x", None, math.nan, None)))["memory_mib"] is None
