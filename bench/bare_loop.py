"""The trainer alone, instrumentation off (issue #3: harness overhead).

Runs a planned cell through the trainer's own preparation (`train.prepare`: same model, levers,
data and batch order) and its own optimizer step (`stepper.Stepper`), but with nothing around it:
no sampler process, no protocol events, no loss check, and no synchronisation between steps (the
CPU may queue the next step while the GPU finishes this one). Timed by CUDA events on the GPU's
clock over the steps after the warm-up, and by the host clock over the same span.

  python bench/bare_loop.py CELL.json --warmup N --steps M [--out FILE]

Give it the warm-up cut and window length of a tunegrid run of the same cell, and compare its
tok/s with that run's window tok/s (bench/measure_check.py does). Prints one JSON object."""

from __future__ import annotations

import json
import sys
import time

import cell_bench


def main(argv=None) -> int:
    args = cell_bench.arguments(__doc__, "steps before timing starts", "timed steps").parse_args(argv)

    import torch

    cell = cell_bench.load(args.spec)
    spec, ready, stepper, cuda, sync = cell.spec, cell.ready, cell.stepper, cell.cuda, cell.sync

    def step() -> int:
        _, tokens, _, _ = stepper.forward_backward(ready.batches)
        stepper.update()
        return tokens

    for _ in range(args.warmup):
        step()
    sync()
    start = torch.cuda.Event(enable_timing=True) if cuda else None
    end = torch.cuda.Event(enable_timing=True) if cuda else None
    t0 = time.time()
    if cuda:
        start.record()
    tokens = sum(step() for _ in range(args.steps))
    if cuda:
        end.record()
    sync()
    host_s = time.time() - t0
    gpu_s = start.elapsed_time(end) / 1000 if cuda else None
    result = {
        "run_id": spec.run_id, "cell_hash": spec.cell_hash, "warmup_steps": args.warmup, "steps": args.steps,
        "tokens": tokens, "host_s": host_s, "tok_s_host": tokens / host_s,
        "gpu_s": gpu_s, "tok_s_cuda": None if gpu_s is None else tokens / gpu_s,
    }
    cell_bench.write(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
