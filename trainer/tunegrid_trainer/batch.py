"""Python-only runs (PROTOCOL.md §4): `python -m tunegrid_trainer.batch <cells-dir> --out <runs-dir>
[--python X]` runs every cell spec in file-name order, each as a sampler + trainer subprocess
pair, writing `<runs-dir>/<run_id>/` as events arrive, and goes on after failures. Exits 0 once
every cell has run, whatever the cells' outcomes; 1 if the cells directory holds no spec.

`--index I` runs only the I-th spec (0-based, file-name order), as one Slurm array task does:
under a fresh run id (a task may run again: resubmitted, or requeued by Slurm), with task.json
(which spec, Slurm job and GPU facts) and this node's env.json in its run folder. SIGTERM (a
cancel, time limit or preemption) stops the trainer after its current step; exit.json, always
written last, then says `stopped_by`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .run_folder import add_runner_args, copy_plan_facts, outcome, run_cell, stop_on_sigterm


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunegrid_trainer.batch", description=__doc__)
    parser.add_argument("cells_dir", type=Path)
    add_runner_args(
        parser, out_help="runs directory; one folder per run_id", idle_help="idle power measured before each cell's trainer starts"
    )
    parser.add_argument(
        "--index", type=int, default=None, help="run only this spec (0-based, file-name order) under a fresh run id, as a Slurm array task"
    )
    args = parser.parse_args(argv)

    cells = sorted(p for p in args.cells_dir.glob("*.json") if p.name != "manifest.json")
    if not cells:
        print(f"no cell specs (*.json) in {args.cells_dir}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    stop_on_sigterm()
    if args.index is not None:
        from .slurm_task import run_task

        return run_task(cells, args.index, args)
    copy_plan_facts(args.cells_dir, args.out, args.python)
    failures = 0
    for i, spec_file in enumerate(cells, start=1):
        run_dir = run_cell(spec_file, args.out, args.python, args.sampler_mode, args.interval_ms, args.idle_ms)
        exit_info = json.loads((run_dir / "exit.json").read_text())
        failures += exit_info["exit_code"] != 0
        print(
            f"[{i}/{len(cells)}] {spec_file.name} → {run_dir.name}: {outcome(run_dir / 'trainer.jsonl')} (exit {exit_info['exit_code']})",
            file=sys.stderr,
            flush=True,
        )
        if exit_info["stopped_by"]:
            print(f"stopped by {exit_info['stopped_by']}: {len(cells) - i} cells after it did not run", file=sys.stderr)
            return 143
    print(f"{len(cells) - failures} of {len(cells)} cells finished; runs in {args.out}", file=sys.stderr)
    return 0  # failed cells are results (recorded in their folders), not a batch failure


if __name__ == "__main__":
    sys.exit(main())
