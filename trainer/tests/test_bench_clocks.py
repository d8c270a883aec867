"""bench/ scripts of issue #3's GPU check that can run here: the bare loop (the trainer alone,
through the trainer's own `prepare` and `Stepper`) on the tiny preset, and the arithmetic that
sets CUDA-event times beside the ledger's window."""

import json
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
    proc = subprocess.run([sys.executable, str(BENCH / "bare_loop.py"), str(path), "--warmup", "1", "--steps", "3",
                           "--out", str(out)], capture_output=True, text=True, timeout=300, env=child_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "event" not in proc.stdout  # no protocol lines: one JSON result
    result = json.loads(out.read_text())
    assert result["run_id"] == spec["run_id"] and result["steps"] == 3
    assert result["tokens"] > 0 and result["tok_s_host"] == result["tokens"] / result["host_s"]
    assert result["tok_s_cuda"] is None  # no GPU here


def test_cuda_span_runs_from_the_end_of_the_last_warmup_step_to_the_end_of_the_window(tmp_path):
    # steps 0-1 warm-up, 2-4 window; host clock and GPU clock disagree on purpose
    steps = [{"step": i, "t_start": 100.0 + i, "t_end": 100.9 + i, "tokens": 1000} for i in range(5)]
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "run", "steps": [0, 1, 2, 3, 4],
                                                   "end_ms": [0.0, 1000.0, 2000.0, 3000.0, 6000.0]}))
    out = measure_check.second_clocks("run", steps, 2, 3, tmp_path, None)
    assert out["cuda_span_s"] == 5.0  # end of step 1 (1,000 ms) to end of step 4 (6,000 ms)
    assert out["tok_s_cuda"] == 3000 / 5.0
    assert abs(out["host_span_s"] - 3.0) < 1e-9  # 101.9 → 104.9 on the host clock
    assert measure_check.second_clocks("other", steps, 2, 3, tmp_path, None) == {}
