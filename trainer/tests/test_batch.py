"""`python -m tunegrid_trainer.batch` on two tiny cells, one failing: both run folders are
complete, the batch goes on after the failure, and the plan's manifest and this machine's
environment facts are left beside them for `tunegrid ingest`."""

import copy
import json
import subprocess
import sys

from conftest import TRAINER_ROOT, child_env


def test_batch_runs_every_cell_and_records_failures(spec, tmp_path):
    cells, runs = tmp_path / "cells", tmp_path / "runs"
    cells.mkdir()
    good = copy.deepcopy(spec)
    good.update(run_id="run-good", measure={"warmup": {"steps": 1}, "window": {"steps": 2}, "max_steps": 10, "max_seconds": 120})
    bad = copy.deepcopy(good)
    bad.update(run_id="run-bad", precision="fp64")
    (cells / "00-bad.json").write_text(json.dumps(bad))  # the failure comes first: the batch must go on
    (cells / "01-good.json").write_text(json.dumps(good))
    (cells / "manifest.json").write_text('{"grid": "the plan"}')  # not a cell; copied for `tunegrid ingest`
    proc = subprocess.run(
        [sys.executable, "-m", "tunegrid_trainer.batch", str(cells), "--out", str(runs), "--interval-ms", "50"],
        capture_output=True, text=True, timeout=120, cwd=TRAINER_ROOT, env=child_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in runs.iterdir()) == ["env.json", "manifest.json", "run-bad", "run-good"]
    assert json.loads((runs / "manifest.json").read_text()) == {"grid": "the plan"}
    assert json.loads((runs / "env.json").read_text())["device"] == "cpu"
    for name, exit_code, last in (("run-bad", 2, "failed"), ("run-good", 0, "finished")):
        folder = runs / name
        assert {p.name for p in folder.iterdir()} == {"cell.json", "trainer.jsonl", "sampler.jsonl", "stderr.log", "exit.json"}
        assert json.loads((folder / "cell.json").read_text())["run_id"] == name
        events = [json.loads(line) for line in (folder / "trainer.jsonl").read_text().splitlines()]
        assert events[-1]["event"] == last
        samples = [json.loads(line) for line in (folder / "sampler.jsonl").read_text().splitlines()]
        assert samples[0]["event"] == "sampler"
        exit_info = json.loads((folder / "exit.json").read_text())
        assert exit_info["exit_code"] == exit_code and exit_info["signal"] is None and exit_info["t_end"] > 0
    assert "run-bad: failed bad_spec" in proc.stderr and "run-good: finished window_complete" in proc.stderr
