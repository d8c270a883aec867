"""`python -m tunegrid_trainer.batch` on two tiny cells, one failing: both run folders are
complete, the batch goes on after the failure, and the plan's manifest and this machine's
environment facts are left beside them for `tunegrid ingest`."""

import copy
import json
import signal
import subprocess
import sys
import time

from conftest import TRAINER_ROOT, child_env


def test_batch_runs_every_cell_and_records_failures(spec, tmp_path):
    cells, runs = tmp_path / "cells", tmp_path / "runs"
    cells.mkdir()
    good = copy.deepcopy(spec)
    good.update(
        run_id="run-good", measure={"warmup": {"steps": 1}, "window": {"steps": 2}, "ci_target": None, "max_steps": 10, "max_seconds": 120}
    )
    bad = copy.deepcopy(good)
    bad.update(run_id="run-bad", precision="fp64")
    (cells / "00-bad.json").write_text(json.dumps(bad))  # the failure comes first: the batch must go on
    (cells / "01-good.json").write_text(json.dumps(good))
    (cells / "manifest.json").write_text('{"grid": "the plan"}')  # not a cell; copied for `tunegrid ingest`
    proc = subprocess.run(
        [sys.executable, "-m", "tunegrid_trainer.batch", str(cells), "--out", str(runs), "--interval-ms", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=TRAINER_ROOT,
        env=child_env(),
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


def _plan(spec, cells, windows):
    """Cell specs 00-…, 01-… with these window lengths (steps), planned run ids plan-0, plan-1…"""
    cells.mkdir()
    for i, window in enumerate(windows):
        s = copy.deepcopy(spec)
        s.update(
            run_id=f"plan-{i}",
            measure={"warmup": {"steps": 1}, "window": {"steps": window}, "ci_target": None, "max_steps": 500, "max_seconds": 300},
        )
        (cells / f"{i:02d}-cell.json").write_text(json.dumps(s))
    (cells / "manifest.json").write_text('{"grid": "the plan"}')


SLURM_TASK_ENV = {
    "SLURM_JOB_ID": "127",
    "SLURM_ARRAY_JOB_ID": "123",
    "SLURM_ARRAY_TASK_ID": "1",
    "SLURMD_NODENAME": "gpu07",
    "SLURM_JOB_GPUS": "3",
}


def test_an_indexed_task_runs_its_spec_under_a_fresh_run_id_with_its_slurm_facts(spec, tmp_path):
    cells, runs = tmp_path / "cells", tmp_path / "runs"
    _plan(spec, cells, [2, 2])
    env = dict(child_env(), **SLURM_TASK_ENV)
    for attempt in range(2):  # a resubmitted or requeued task runs the same spec again
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tunegrid_trainer.batch",
                str(cells),
                "--out",
                str(runs),
                "--index",
                "1",
                "--interval-ms",
                "50",
                "--idle-ms",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=TRAINER_ROOT,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
    folders = sorted(p for p in runs.iterdir() if p.is_dir())
    assert len(folders) == 2 and json.loads((runs / "manifest.json").read_text()) == {"grid": "the plan"}
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == {
            "task.json",
            "env.json",
            "cell.json",
            "trainer.jsonl",
            "sampler.jsonl",
            "stderr.log",
            "exit.json",
        }
        task = json.loads((folder / "task.json").read_text())
        assert task["index"] == 1 and task["spec_file"] == "01-cell.json" and task["planned_run_id"] == "plan-1"
        assert task["run_id"] == folder.name != "plan-1"
        assert task["slurm"] == {
            "job_id": "127",
            "array_job_id": "123",
            "array_task_id": "1",
            "restart_count": 0,
            "node": "gpu07",
            "partition": None,
            "job_gpus": "3",
            "gpu_device_ordinal": None,
        }
        assert json.loads((folder / "cell.json").read_text())["run_id"] == folder.name
        events = [json.loads(line) for line in (folder / "trainer.jsonl").read_text().splitlines()]
        assert events[0]["run_id"] == folder.name and events[-1]["event"] == "finished"
        assert json.loads((folder / "env.json").read_text())["device"] == "cpu"
        assert json.loads((folder / "exit.json").read_text())["stopped_by"] is None


def test_an_index_outside_the_plan_is_refused(spec, tmp_path):
    cells = tmp_path / "cells"
    _plan(spec, cells, [2])
    proc = subprocess.run(
        [sys.executable, "-m", "tunegrid_trainer.batch", str(cells), "--out", str(tmp_path / "runs"), "--index", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=TRAINER_ROOT,
        env=child_env(),
    )
    assert proc.returncode == 1 and "--index 1" in proc.stderr and "holds 1 cell specs" in proc.stderr


def test_sigterm_stops_the_trainer_after_its_step_and_exit_json_says_so(spec, tmp_path):
    """What Slurm does on scancel, a time limit or preemption: SIGTERM to the task."""
    cells, runs = tmp_path / "cells", tmp_path / "runs"
    _plan(spec, cells, [400])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tunegrid_trainer.batch",
            str(cells),
            "--out",
            str(runs),
            "--index",
            "0",
            "--interval-ms",
            "50",
            "--idle-ms",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TRAINER_ROOT,
        env=child_env(),
    )
    try:
        deadline = time.monotonic() + 300  # a loaded 2-core machine takes minutes to import torch
        events_file = None
        while time.monotonic() < deadline and proc.poll() is None:  # until the trainer is in its window
            found = list(runs.glob("*/trainer.jsonl")) if runs.exists() else []
            if found and any(json.loads(line).get("phase") == "window" for line in found[0].read_text().splitlines()[:-1]):
                events_file = found[0]
                break
            time.sleep(0.2)
        assert events_file is not None, "the trainer never reached its window"
        assert not (events_file.parent / "exit.json").exists()
        proc.send_signal(signal.SIGTERM)  # the batch runner only: it must pass the stop on
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, stderr
    exit_info = json.loads((events_file.parent / "exit.json").read_text())
    assert exit_info["stopped_by"] == "SIGTERM" and exit_info["exit_code"] == 0
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert events[-1]["event"] == "finished" and events[-1]["reason"] == "stop_requested"
    assert "stopped by SIGTERM" in stderr
