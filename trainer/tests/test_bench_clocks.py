"""bench/ scripts of issue #3's GPU check that can run here: the bare loop (the trainer alone,
through the trainer's own `prepare` and `Stepper`) on the tiny preset, and the arithmetic that
sets CUDA-event times beside the ledger's window."""

import json
import math
import subprocess
import sys

from conftest import TRAINER_ROOT, child_env

BENCH = TRAINER_ROOT.parent / "bench"
sys.path.insert(0, str(BENCH))

import measure_check  # noqa: E402


def test_bare_loop_trains_the_cell_without_the_protocol(spec, tmp_path):
    path = tmp_path / "cell.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "bare.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bare_loop.py"), str(path), "--warmup", "1", "--steps", "3", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "event" not in proc.stdout  # no protocol lines: one JSON result
    result = json.loads(out.read_text())
    assert result["run_id"] == spec["run_id"] and result["steps"] == 3
    assert result["tokens"] > 0 and result["tok_s_host"] == result["tokens"] / result["host_s"]
    assert result["tok_s_cuda"] is None  # no GPU here


def test_cuda_span_runs_from_the_end_of_the_last_warmup_step_to_the_end_of_the_window(tmp_path):
    # steps 0-1 warm-up, 2-4 window; host clock and GPU clock disagree on purpose
    steps = [{"step": i, "t_start": 100.0 + i, "t_end": 100.9 + i, "tokens": 1000} for i in range(5)]
    (tmp_path / "run.json").write_text(
        json.dumps({"run_id": "run", "steps": [0, 1, 2, 3, 4], "end_ms": [0.0, 1000.0, 2000.0, 3000.0, 6000.0]})
    )
    out = measure_check.second_clocks("run", steps, 2, 3, tmp_path, None)
    assert out["cuda_span_s"] == 5.0  # end of step 1 (1,000 ms) to end of step 4 (6,000 ms)
    assert out["tok_s_cuda"] == 3000 / 5.0
    assert abs(out["host_span_s"] - 3.0) < 1e-9  # 101.9 → 104.9 on the host clock
    assert measure_check.second_clocks("other", steps, 2, 3, tmp_path, None) == {}


def test_host_bound_times_enqueue_and_wall_and_names_the_busiest_host_ops(spec, tmp_path):
    path = tmp_path / "cell.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "host.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "host_bound.py"), str(path), "--warmup", "1", "--steps", "3", "--profile", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["run_id"] == spec["run_id"] and result["steps"] == 3 and result["tokens_per_step"] > 0
    assert 0 < result["enqueue_ms"] <= result["wall_ms"]  # queued before the synchronisation ends
    assert len(result["losses"]) == 3 and all(math.isfinite(x) and x > 0 for x in result["losses"])
    assert result["stock_4bit"] is False and result["warnings"]  # e.g. "device cpu: timings say nothing ..."
    assert result["gpu_busy_ms"] is None and result["torch_peak_mib"] is None and result["kernels_per_step"] is None  # no GPU here
    names = [op["name"] for op in result["top_cpu_ops"]]
    assert any(name.startswith("aten::") for name in names) and len(names) <= 8
    assert all(op["self_cpu_ms_per_step"] >= 0 for op in result["top_cpu_ops"])
    assert "| wall ms/step |" in proc.stdout


def test_busy_length_counts_overlapping_kernels_once():
    import host_bound

    assert host_bound.busy_length([]) == 0.0
    assert host_bound.busy_length([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0), (5.5, 5.8)]) == 4.0  # [0,3) ∪ [5,6)
    assert host_bound.busy_length([(4.0, 5.0), (0.0, 1.0)]) == 2.0  # unsorted input
