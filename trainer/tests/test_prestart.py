"""A pre-started trainer (`--prestart`, PROTOCOL.md §2a) as a real subprocess: it emits nothing
and does no device-side work until `go`, reports its wait in `started.timings`, and still obeys a
stop request sent right behind the `go`; with stdin closed before `go` it ends without events."""

import json
import subprocess
import sys
import time

from conftest import TRAINER_ROOT, child_env, parse_events


def start(spec, tmp_path):
    spec_file = tmp_path / "cell.json"
    spec_file.write_text(json.dumps(spec))
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "tunegrid_trainer", "--spec", str(spec_file), "--prestart"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TRAINER_ROOT,
        env=child_env(),
    )


def test_waits_for_go_then_trains_and_stops_on_the_line_behind_it(spec, tmp_path):
    spec["measure"] = {"warmup": {"steps": 1000}, "window": {"steps": 10}, "ci_target": None, "max_steps": 100000, "max_seconds": 600}
    proc = start(spec, tmp_path)
    # its imports take seconds (minutes on a loaded 2-core machine): go only once it waits
    said = [proc.stderr.readline()]
    while said[-1] not in ("", "tunegrid trainer: pre-started, waiting for go\n"):  # past any library's warnings
        said.append(proc.stderr.readline())
    assert said[-1] != "", said
    time.sleep(1)
    assert proc.poll() is None
    go = time.time()
    proc.stdin.write('{"command":"go"}\n{"command":"stop"}\n')  # one write: the stop may arrive in the go's chunk
    proc.stdin.flush()
    out, err = proc.communicate(timeout=120)
    events = parse_events(out)
    assert proc.returncode == 0, err
    started = events[0]
    assert started["event"] == "started" and started["t"] > go
    timings = started["timings"]
    assert list(timings)[:3] == ["imports", "libraries", "wait"]
    assert timings["wait"] > 0 and list(timings).index("model") > list(timings).index("wait")
    assert events[-1]["event"] == "finished" and events[-1]["reason"] == "stop_requested" and events[-1]["steps"] < 5


def test_closed_stdin_before_go_ends_it_without_events(spec, tmp_path):
    proc = start(spec, tmp_path)
    out, err = proc.communicate(input="", timeout=120)  # closes stdin at once
    assert proc.returncode == 0, err
    assert parse_events(out) == []
