"""One run folder (PROTOCOL.md §4): a cell spec run as a sampler + trainer subprocess pair into
`<runs-dir>/<run_id>/` (cell.json, sampler.jsonl, trainer.jsonl, stderr.log, exit.json last), for
the Python-only runners: `batch` (every spec, or one Slurm array task's) and `fit`.

SIGTERM (Slurm's cancel, time limit or preemption; a plain kill) is held here, in one place, once
a runner installs `stop_on_sigterm`: it stops the trainer after its current step, exit.json then
says `stopped_by`, and no new cell starts after it."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # trainer/: on PYTHONPATH for the children


class Stopped(Exception):
    """SIGTERM reached the runner (Slurm's cancel, time limit or preemption; a plain kill)."""


# SIGTERM sets `by`; it interrupts only a wait on the trainer (`armed`), so the files of a run
# are always closed and exit.json written, and no new cell starts after it.
_STOP = {"by": None, "armed": False}


def _on_sigterm(signum, _frame) -> None:
    _STOP["by"] = signal.Signals(signum).name
    if _STOP["armed"]:
        _STOP["armed"] = False
        raise Stopped(_STOP["by"])


def stop_on_sigterm() -> None:
    """From now on SIGTERM stops the runner: the running trainer after its current step, and no
    cell after it. Installed by the runner's main, never on import."""
    signal.signal(signal.SIGTERM, _on_sigterm)


def write_atomic(path: Path, text: str) -> None:
    """Readers on shared storage (the Slurm collector) see the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _child_env() -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    return env


def _run_id(spec_file: Path) -> str:
    """The spec's run_id when readable, else the file's stem (the trainer then reports bad_spec)."""
    try:
        run_id = json.loads(spec_file.read_text(encoding="utf-8")).get("run_id")
    except (OSError, ValueError, AttributeError):
        run_id = None
    ok = isinstance(run_id, str) and run_id and all(c.isalnum() or c in "-_." for c in run_id) and run_id not in (".", "..")
    return run_id if ok else spec_file.stem


def _stop(proc: subprocess.Popen, grace_s: float) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def outcome(trainer_jsonl: Path) -> str:
    """One-line summary of a cell from its last finished/failed event."""
    last = None
    try:
        for line in trainer_jsonl.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") in ("finished", "failed"):
                last = event
    except OSError:
        pass
    if last is None:
        return "no finished/failed event"
    if last["event"] == "finished":
        return f"finished {last['reason']} after {last['steps']} steps ({last['window_steps']} in window)"
    return f"failed {last['kind']}: {last['message']}"


def _wait_for_header(path: Path, sampler: subprocess.Popen, timeout_s: float) -> None:
    """Block until the sampler wrote its `sampler` line (idle power is measured before it), so
    the trainer does not load the GPU during the idle measurement. Gives up after timeout_s or
    when the sampler exits; the cell then runs without a measured idle power."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and sampler.poll() is None and _STOP["by"] is None:
        try:
            if b"\n" in path.read_bytes():
                return
        except OSError:
            pass
        time.sleep(0.05)


def run_cell(
    spec_file: Path,
    runs_dir: Path,
    python: str,
    sampler_mode: str,
    interval_ms: int,
    idle_ms: int = 0,
    run_id: Optional[str] = None,
    prepare: Optional[Callable[[Path], None]] = None,
) -> Path:
    """Run one spec into `<runs_dir>/<run_id>/`. With `run_id`, the copied spec carries that id
    instead of the plan's; `prepare(run_dir)` writes extra facts before cell.json appears."""
    run_dir = runs_dir / (run_id or _run_id(spec_file))
    run_dir.mkdir(parents=True, exist_ok=True)
    if prepare is not None:
        prepare(run_dir)
    if run_id is None:
        shutil.copyfile(spec_file, run_dir / "cell.json")
    else:
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        write_atomic(run_dir / "cell.json", json.dumps(dict(spec, run_id=run_id), indent=2))
    env = _child_env()
    code: Optional[int] = None
    stopped_by: Optional[str] = None
    trainer: Optional[subprocess.Popen] = None
    with (
        open(run_dir / "stderr.log", "ab") as err,
        open(run_dir / "sampler.jsonl", "wb") as samples,
        open(run_dir / "trainer.jsonl", "wb") as events,
    ):
        sampler = subprocess.Popen(
            [
                python,
                "-u",
                "-m",
                "tunegrid_trainer.sampler",
                "--interval-ms",
                str(interval_ms),
                "--gpu",
                "0",
                "--mode",
                sampler_mode,
                "--idle-ms",
                str(idle_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=samples,
            stderr=err,
            env=env,
        )
        try:
            _wait_for_header(run_dir / "sampler.jsonl", sampler, timeout_s=idle_ms / 1000 + 30)
            if _STOP["by"] is None:
                # stdout straight to the file: the trainer flushes each event line, so the file grows live
                trainer = subprocess.Popen(
                    [python, "-u", "-m", "tunegrid_trainer", "--spec", str(run_dir / "cell.json")],
                    stdin=subprocess.PIPE,
                    stdout=events,
                    stderr=err,
                    env=env,
                )
                _STOP["armed"] = True
                if _STOP["by"] is not None:  # SIGTERM came between the check and the arming
                    raise Stopped(_STOP["by"])
                code = trainer.wait()
        except (KeyboardInterrupt, Stopped) as stop:
            stopped_by = "SIGINT" if isinstance(stop, KeyboardInterrupt) else str(stop)
            if trainer is not None:
                trainer.send_signal(signal.SIGTERM)  # a stop request: finish the current step, then exit
                code = trainer.wait()
            if isinstance(stop, KeyboardInterrupt):
                raise
        finally:
            _STOP["armed"] = False
            stopped_by = stopped_by or _STOP["by"]  # stopped before the trainer started
            t_end = time.time()
            if trainer is not None and trainer.stdin:
                trainer.stdin.close()
            _stop(sampler, grace_s=5.0)
            signame: Optional[str] = None
            if code is not None and code < 0:
                signame = signal.Signals(-code).name
                code = 128 - code  # shell convention, as PROTOCOL.md's 130/143
            # Last, and whole: a folder with exit.json is complete (the Slurm collector relies on it).
            write_atomic(
                run_dir / "exit.json", json.dumps({"exit_code": code, "signal": signame, "t_end": t_end, "stopped_by": stopped_by}) + "\n"
            )
    return run_dir


def probe_env(python: str) -> Optional[str]:
    """This machine's environment facts (PROTOCOL.md §5) as JSON text; None when the probe fails."""
    probe = subprocess.run([python, "-m", "tunegrid_trainer.env"], capture_output=True, text=True, env=_child_env())
    if probe.returncode == 0:
        return probe.stdout
    print(f"note: environment probe failed (exit {probe.returncode}): {probe.stderr.strip()[-500:]}", file=sys.stderr)
    return None


def copy_plan_facts(cells_dir: Path, runs_dir: Path, python: str) -> None:
    """What `tunegrid ingest` needs beside the run folders: the plan's manifest.json, and this
    machine's environment facts (env.json) for runs that died before their `started` event."""
    manifest = cells_dir / "manifest.json"
    if manifest.exists():
        shutil.copyfile(manifest, runs_dir / "manifest.json")
    else:
        print(f"note: no manifest.json in {cells_dir}; `tunegrid ingest` will need one", file=sys.stderr)
    facts = probe_env(python)
    if facts is not None:
        (runs_dir / "env.json").write_text(facts)


def add_runner_args(parser: argparse.ArgumentParser, out_help: str, idle_help: str) -> None:
    """The flags every runner of run folders takes (batch, fit): where the runs go, the trainer's
    interpreter, the sampler and its idle-power reading."""
    parser.add_argument("--out", type=Path, required=True, help=out_help)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the trainer and sampler")
    parser.add_argument("--sampler-mode", default="auto", choices=("auto", "nvml", "smi", "none"))
    parser.add_argument("--interval-ms", type=int, default=100)
    parser.add_argument("--idle-ms", type=int, default=3000, help=idle_help)
