"""`python -m tunegrid_trainer --spec` as a real subprocess: the event sequence of a good cell,
each failure kind with its exit code, and a stop request on stdin or by SIGTERM."""

import json
import signal
import statistics
import subprocess
import sys
import time

import pytest

from conftest import TRAINER_ROOT, child_env, parse_events, run_trainer


def test_tiny_cell_trains_and_reports_started_steps_finished(spec, tmp_path):
    spec.update(learning_rate=0.005, data={"source": "synthetic", "samples": 64, "seed": 0})
    spec["measure"] = {"warmup": {"steps": 5}, "window": {"steps": 25}, "ci_target": None, "max_steps": 100, "max_seconds": 300}
    t0 = time.time()
    code, events, err = run_trainer(spec, tmp_path)
    assert code == 0, err
    kinds = [e["event"] for e in events]
    assert kinds == ["started"] + ["step"] * 30 + ["finished"]
    started, steps, finished = events[0], events[1:-1], events[-1]
    assert started["spec"] == spec and started["run_id"] == "test-run" and started["cell_hash"] == "abc123"
    assert started["model"]["trainable_params"] == started["model"]["n_lora"] > 0
    assert started["model"]["flops_per_token"] > 4 * started["model"]["n_mm"]
    assert started["model"]["flops_per_token_hfu"] == started["model"]["flops_per_token"]  # no checkpointing
    assert started["model"]["gpu_peak_tflops"] is None and started["model"]["gpu_peak_name"] is None  # CPU
    assert started["data"]["samples"] == 64 and started["env"]["device"] == "cpu"
    # where start-up went: the phases in order, each ≥ 0, together no longer than the process has run
    timings = started["timings"]
    assert list(timings) == ["imports", "checks", "libraries", "model", "tokenizer", "data", "compile", "probe", "other"]
    assert all(v >= 0 for v in timings.values()) and timings["imports"] > 0
    assert sum(timings.values()) < started["t"] - t0 + 0.05
    assert [s["step"] for s in steps] == list(range(30))
    assert [s["phase"] for s in steps] == ["warmup"] * 5 + ["window"] * 25
    # the stop rule's CI of the window so far: none in warm-up nor for a one-step window
    assert [s["ci_half_rel"] for s in steps[:6]] == [None] * 6
    assert all(s["ci_half_rel"] > 0 for s in steps[6:])
    for s in steps:
        assert s["t_start"] <= s["t_end"] and 0 < s["tokens"] <= s["padded_tokens"] and s["samples"] == 2
        assert s["mem_allocated_mib"] is None and s["grad_norm"] is not None
    losses = [s["loss"] for s in steps]
    assert statistics.mean(losses[-5:]) < statistics.mean(losses[:5]) - 0.1, losses
    assert finished == {**finished, "reason": "window_complete", "steps": 30, "warmup_steps": 5, "window_steps": 25}


def assert_failed(code, events, err, kind, exit_code, fragment):
    assert code == exit_code, err
    assert events[-1]["event"] == "failed", events
    assert events[-1]["kind"] == kind and fragment in events[-1]["message"], events[-1]
    assert [e["event"] for e in events].count("failed") == 1


def test_unknown_key_is_bad_spec(spec, tmp_path):
    spec["learningRate"] = 1e-4  # the grid's name, not the spec's
    code, events, err = run_trainer(spec, tmp_path)
    assert_failed(code, events, err, "bad_spec", 2, "spec.learningRate")
    assert len(events) == 1


def test_qlora_on_cpu_is_bad_spec_when_bitsandbytes_is_installed_else_missing_dependency(spec, tmp_path):
    # missing libraries are reported first: installing is the first thing a user must do
    spec.update(method="qlora", quant={"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True, "bnb_4bit_compute_dtype": "bf16"})
    code, events, err = run_trainer(spec, tmp_path)
    try:
        import bitsandbytes  # noqa: F401

        assert_failed(code, events, err, "bad_spec", 2, "needs CUDA")
    except ImportError:
        assert_failed(code, events, err, "missing_dependency", 2, "pip install")


def test_8bit_optimizer_without_bitsandbytes_is_missing_dependency(spec, tmp_path):
    pytest.importorskip("torch")
    try:
        import bitsandbytes  # noqa: F401

        pytest.skip("bitsandbytes is installed here")
    except ImportError:
        pass
    spec["optim"] = "adamw_8bit"
    code, events, err = run_trainer(spec, tmp_path)
    assert_failed(code, events, err, "missing_dependency", 2, "pip install 'tunegrid-trainer[gpu]'")


def test_malformed_jsonl_line_is_data_error(spec, tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"instruction": "a", "input": "", "output": "b"}\n{"instruction": oops}\n')
    spec["data"] = {"source": "file", "path": str(data), "samples": None, "columns": None}
    code, events, err = run_trainer(spec, tmp_path)
    assert_failed(code, events, err, "data_error", 2, "train.jsonl: line 2")


def test_diverging_loss_is_nan_loss_at_its_step(spec, tmp_path):
    # an absurd lr without clipping blows the attention logits up to inf, then NaN
    spec.update(learning_rate=1e8, max_grad_norm=None)
    spec["measure"]["window"] = {"steps": 40}
    code, events, err = run_trainer(spec, tmp_path)
    assert_failed(code, events, err, "nan_loss", 3, "loss became nan")
    failed = events[-1]
    assert failed["step"] == len([e for e in events if e["event"] == "step"])


@pytest.mark.parametrize("how", ["stdin", "sigterm"])
def test_stop_request_finishes_after_the_current_step(spec, tmp_path, how):
    spec["measure"] = {"warmup": {"steps": 1000}, "window": {"steps": 10}, "ci_target": None, "max_steps": 100000, "max_seconds": 600}
    spec_file = tmp_path / "cell.json"
    spec_file.write_text(json.dumps(spec))
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "tunegrid_trainer", "--spec", str(spec_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TRAINER_ROOT,
        env=child_env(),
    )
    seen = []
    for line in proc.stdout:  # wait for a couple of steps
        seen.append(json.loads(line))
        if seen[-1]["event"] == "step" and seen[-1]["step"] == 2:
            break
    if how == "stdin":
        proc.stdin.write('{"command":"stop"}\n')
        proc.stdin.flush()
    else:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    events = seen + parse_events(out)
    assert proc.returncode == 0, err
    assert events[-1]["event"] == "finished" and events[-1]["reason"] == "stop_requested"
    assert events[-1]["steps"] == len([e for e in events if e["event"] == "step"]) < 20


def test_detected_warmup_and_adaptive_window_end_the_cell_when_the_ci_target_is_met(spec, tmp_path):
    spec.update(learning_rate=0.005, gradient_checkpointing=True, data={"source": "synthetic", "samples": 64, "seed": 0})
    spec["measure"] = {
        "warmup": {"detect": {"floor_seconds": 0.0, "cap_seconds": 5.0}},
        "window": {"adaptive": {"min_seconds": 1.0}},
        "ci_target": 0.5,
        "max_steps": 500,
        "max_seconds": 60,
    }
    code, events, err = run_trainer(spec, tmp_path)
    assert code == 0, err
    started, steps, finished = events[0], [e for e in events if e["event"] == "step"], events[-1]
    assert finished["reason"] == "window_complete"
    assert finished["warmup_steps"] + finished["window_steps"] == finished["steps"] == len(steps)
    assert steps[-1]["t_end"] - steps[finished["warmup_steps"]]["t_start"] >= 1.0
    model = started["model"]
    assert model["flops_per_token_hfu"] > model["flops_per_token"]  # checkpointing recomputes the forward
