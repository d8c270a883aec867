"""bench/hf_peer.py, the HF Trainer + PEFT peer, on the tiny preset: it must speak the same
protocol as the trainer (the runner decodes both), so a change to the protocol that the peer
misses shows up here rather than on the GPU."""

import json
import subprocess
import sys

from conftest import TRAINER_ROOT, child_env, parse_events

PEER = TRAINER_ROOT.parent / "bench" / "hf_peer.py"


def run_peer(spec: dict, tmp_path) -> list[dict]:
    path = tmp_path / "cell.json"
    path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, str(PEER), "--spec", str(path)], capture_output=True, text=True, timeout=300, cwd=TRAINER_ROOT, env=child_env()
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return parse_events(proc.stdout)


def test_peer_trains_a_tiny_cell_and_reports_started_steps_finished(spec, tmp_path):
    spec["measure"] = {"warmup": {"steps": 1}, "window": {"steps": 3}, "ci_target": None, "max_steps": 20, "max_seconds": 120}
    events = run_peer(spec, tmp_path)
    assert [e["event"] for e in events] == ["started"] + ["step"] * 4 + ["finished"]
    started = events[0]
    assert started["model"]["flops_per_token_hfu"] >= started["model"]["flops_per_token"] > 0
    assert [s["phase"] for s in events[1:-1]] == ["warmup"] + ["window"] * 3
    assert all(0 < s["tokens"] <= s["padded_tokens"] for s in events[1:-1])
    assert events[-1]["reason"] == "window_complete"


def test_peer_feeds_tokens_to_a_detected_warmup_and_adaptive_window(spec, tmp_path):
    # the stop rule needs each step's tokens for MSER-5 and the CI; the peer once passed none
    spec["measure"] = {
        "warmup": {"detect": {"floor_seconds": 0, "cap_seconds": 5}},
        "window": {"adaptive": {"min_seconds": 0}},
        "ci_target": 0.5,
        "max_steps": 8,
        "max_seconds": 120,
    }
    events = run_peer(spec, tmp_path)
    assert events[0]["event"] == "started" and events[-1]["event"] == "finished"
    assert events[-1]["reason"] in ("window_complete", "max_steps")
    assert events[-1]["window_steps"] >= 1
