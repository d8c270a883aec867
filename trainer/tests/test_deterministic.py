"""Deterministic mode: the switches it turns on, and that two runs of one deterministic cell give
the same loss and gradient norm at every step, bit for bit (what `tunegrid rerun` checks)."""

import subprocess
import sys

from conftest import TRAINER_ROOT, child_env, run_trainer


def test_make_deterministic_turns_on_torch_cudnn_and_cublas_settings():
    code = (
        "import os, torch\n"
        "from tunegrid_trainer.seeding import make_deterministic\n"
        "assert not torch.are_deterministic_algorithms_enabled()\n"
        "make_deterministic()\n"
        "print(torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic,"
        " torch.backends.cudnn.benchmark, os.environ['CUBLAS_WORKSPACE_CONFIG'])\n"
    )
    env = {k: v for k, v in child_env().items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=TRAINER_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "False", ":4096:8"]


def test_two_runs_of_a_deterministic_cell_have_identical_losses(spec, tmp_path):
    spec.update(deterministic=True, learning_rate=0.01)
    spec["measure"] = {"warmup": {"steps": 1}, "window": {"steps": 5}, "ci_target": None, "max_steps": 50, "max_seconds": 300}
    runs = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        code, events, err = run_trainer(spec, tmp_path / str(i))
        assert code == 0, err
        runs.append([(e["loss"], e["grad_norm"]) for e in events if e["event"] == "step"])
    assert len(runs[0]) == 6
    assert runs[0] == runs[1]
    assert len({loss for loss, _ in runs[0]}) > 1  # it trained: the loss moved
