"""Python-only runs (PROTOCOL.md §4): `python -m tunegrid_trainer.batch <cells-dir> --out <runs-dir>
[--python X]` runs every cell spec in file-name order, each as a sampler + trainer subprocess
pair, writing `<runs-dir>/<run_id>/` as events arrive, and goes on after failures. Exits 0 once
every cell has run, whatever the cells' outcomes; 1 if the cells directory holds no spec."""

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
from typing import Optional

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # trainer/: on PYTHONPATH for the children


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


def _outcome(trainer_jsonl: Path) -> str:
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


def run_cell(spec_file: Path, runs_dir: Path, python: str, sampler_mode: str, interval_ms: int) -> Path:
    run_dir = runs_dir / _run_id(spec_file)
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(spec_file, run_dir / "cell.json")
    env = _child_env()
    with open(run_dir / "stderr.log", "ab") as err, open(run_dir / "sampler.jsonl", "wb") as samples, \
            open(run_dir / "trainer.jsonl", "wb") as events:
        sampler = subprocess.Popen(
            [python, "-u", "-m", "tunegrid_trainer.sampler", "--interval-ms", str(interval_ms), "--gpu", "0",
             "--mode", sampler_mode],
            stdin=subprocess.PIPE, stdout=samples, stderr=err, env=env,
        )
        # stdout straight to the file: the trainer flushes each event line, so the file grows live
        trainer = subprocess.Popen(
            [python, "-u", "-m", "tunegrid_trainer", "--spec", str(run_dir / "cell.json")],
            stdin=subprocess.PIPE, stdout=events, stderr=err, env=env,
        )
        try:
            code = trainer.wait()
        except KeyboardInterrupt:
            trainer.send_signal(signal.SIGTERM)  # a stop request: finish the current step, then exit
            code = trainer.wait()
            raise
        finally:
            t_end = time.time()
            if trainer.stdin:
                trainer.stdin.close()
            _stop(sampler, grace_s=5.0)
            signame: Optional[str] = None
            if code is not None and code < 0:
                signame = signal.Signals(-code).name
                code = 128 - code  # shell convention, as PROTOCOL.md's 130/143
            (run_dir / "exit.json").write_text(json.dumps({"exit_code": code, "signal": signame, "t_end": t_end}) + "\n")
    return run_dir


def _copy_plan_facts(cells_dir: Path, runs_dir: Path, python: str) -> None:
    """What `tunegrid ingest` needs beside the run folders: the plan's manifest.json, and this
    machine's environment facts (env.json) for runs that died before their `started` event."""
    manifest = cells_dir / "manifest.json"
    if manifest.exists():
        shutil.copyfile(manifest, runs_dir / "manifest.json")
    else:
        print(f"note: no manifest.json in {cells_dir}; `tunegrid ingest` will need one", file=sys.stderr)
    probe = subprocess.run([python, "-m", "tunegrid_trainer.env"], capture_output=True, text=True, env=_child_env())
    if probe.returncode == 0:
        (runs_dir / "env.json").write_text(probe.stdout)
    else:
        print(f"note: environment probe failed (exit {probe.returncode}): {probe.stderr.strip()[-500:]}", file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunegrid_trainer.batch", description=__doc__)
    parser.add_argument("cells_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="runs directory; one folder per run_id")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the trainer and sampler")
    parser.add_argument("--sampler-mode", default="auto", choices=("auto", "nvml", "smi", "none"))
    parser.add_argument("--interval-ms", type=int, default=100)
    args = parser.parse_args(argv)

    cells = sorted(p for p in args.cells_dir.glob("*.json") if p.name != "manifest.json")
    if not cells:
        print(f"no cell specs (*.json) in {args.cells_dir}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    _copy_plan_facts(args.cells_dir, args.out, args.python)
    failures = 0
    for i, spec_file in enumerate(cells, start=1):
        run_dir = run_cell(spec_file, args.out, args.python, args.sampler_mode, args.interval_ms)
        exit_info = json.loads((run_dir / "exit.json").read_text())
        failures += exit_info["exit_code"] != 0
        print(f"[{i}/{len(cells)}] {spec_file.name} → {run_dir.name}: {_outcome(run_dir / 'trainer.jsonl')} "
              f"(exit {exit_info['exit_code']})", file=sys.stderr, flush=True)
    print(f"{len(cells) - failures} of {len(cells)} cells finished; runs in {args.out}", file=sys.stderr)
    return 0  # failed cells are results (recorded in their folders), not a batch failure


if __name__ == "__main__":
    sys.exit(main())
