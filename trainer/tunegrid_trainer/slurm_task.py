"""One Slurm array task (`python -m tunegrid_trainer.batch --index I`, PROTOCOL.md §4): the I-th
cell spec run under a fresh run id (a task may run again: resubmitted, or requeued by Slurm),
with task.json (which spec, the Slurm job, the GPU it was given) and this node's env.json in its
run folder, so the collector can match the folder to its task."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path

from .run_folder import outcome, probe_env, run_cell, write_atomic

# Where a task ran, as Slurm tells its job: the collector matches a run folder to its array task
# (and requeued attempt) by these, and the GPU a task was given is kept beside the trainer's own
# GPU UUID (`started.env.gpu_uuid`).
SLURM_VARS = {
    "job_id": "SLURM_JOB_ID",
    "array_job_id": "SLURM_ARRAY_JOB_ID",
    "array_task_id": "SLURM_ARRAY_TASK_ID",
    "restart_count": "SLURM_RESTART_COUNT",
    "node": "SLURMD_NODENAME",
    "partition": "SLURM_JOB_PARTITION",
    "job_gpus": "SLURM_JOB_GPUS",
    "gpu_device_ordinal": "GPU_DEVICE_ORDINAL",
}


def task_facts(index: int, spec_file: Path, run_id: str) -> dict:
    env = os.environ
    slurm = {key: env.get(var) for key, var in SLURM_VARS.items()} if "SLURM_JOB_ID" in env else None
    if slurm is not None:
        slurm["restart_count"] = int(slurm["restart_count"] or 0)  # Slurm leaves it unset before a requeue
    planned = json.loads(spec_file.read_text(encoding="utf-8")).get("run_id")
    return {
        "index": index,
        "spec_file": spec_file.name,
        "planned_run_id": planned,
        "run_id": run_id,
        "host": socket.gethostname(),
        "cuda_visible_devices": env.get("CUDA_VISIBLE_DEVICES"),
        "slurm": slurm,
        "t_start": time.time(),
    }


def run_task(cells: list, index: int, args) -> int:
    """One array task: the index-th spec, under a fresh run id. Exit 0 when the trainer exited 0;
    143 when SIGTERM stopped it; 1 otherwise (so Slurm's own state says FAILED)."""
    if not 0 <= index < len(cells):
        print(f"--index {index}: {args.cells_dir} holds {len(cells)} cell specs (0 to {len(cells) - 1})", file=sys.stderr)
        return 1
    spec_file = cells[index]
    manifest = args.cells_dir / "manifest.json"
    if manifest.exists() and not (args.out / "manifest.json").exists():
        write_atomic(args.out / "manifest.json", manifest.read_text(encoding="utf-8"))
    run_id = str(uuid.uuid4())

    def prepare(run_dir: Path) -> None:
        write_atomic(run_dir / "task.json", json.dumps(task_facts(index, spec_file, run_id), indent=2))
        facts = probe_env(args.python)  # this node's facts, for a run that dies before `started`
        if facts is not None:
            write_atomic(run_dir / "env.json", facts)

    run_dir = run_cell(spec_file, args.out, args.python, args.sampler_mode, args.interval_ms, args.idle_ms, run_id=run_id, prepare=prepare)
    exit_info = json.loads((run_dir / "exit.json").read_text())
    stopped = f"; stopped by {exit_info['stopped_by']}" if exit_info["stopped_by"] else ""
    print(
        f"task {index} ({spec_file.name}) → {run_id}: {outcome(run_dir / 'trainer.jsonl')} (exit {exit_info['exit_code']}{stopped})",
        file=sys.stderr,
        flush=True,
    )
    return 143 if exit_info["stopped_by"] else 0 if exit_info["exit_code"] == 0 else 1
