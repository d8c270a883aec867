"""The trainer alone, instrumentation off (issue #3: harness overhead).

Runs a planned cell through the trainer's own preparation (`train.prepare`: same model, levers,
data and batch order) and its own optimizer step (`train.Stepper`), but with nothing around it:
no sampler process, no protocol events, no loss check, and no synchronisation between steps (the
CPU may queue the next step while the GPU finishes this one). Timed by CUDA events on the GPU's
clock over the steps after the warm-up, and by the host clock over the same span.

  python bench/bare_loop.py CELL.json --warmup N --steps M [--out FILE]

Give it the warm-up cut and window length of a tunegrid run of the same cell, and compare its
tok/s with that run's window tok/s (bench/measure_check.py does). Prints one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "trainer"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path)
    parser.add_argument("--warmup", type=int, required=True, help="steps before timing starts")
    parser.add_argument("--steps", type=int, required=True, help="timed steps")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    import torch

    from tunegrid_trainer.spec import load_spec
    from tunegrid_trainer.train import Stepper, prepare

    spec = load_spec(str(args.spec))
    ready = prepare(spec)
    stepper = Stepper(ready.model, **ready.options)
    cuda = ready.options["device"] == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)

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
    text = json.dumps(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
