"""Bench-only second clock for the trainer's steps (issue #3: ledger tok/s vs CUDA-event timing).

bench/measure-check.sh puts this directory on PYTHONPATH with TUNEGRID_CUDA_EVENTS_DIR set;
Python imports `sitecustomize` at start-up, and this module wraps the `emit` of the real
trainer's loop (tunegrid_trainer.train) so that every `step` event also records a CUDA event on
the current stream. The loop emits a step after synchronising with the GPU, so each event marks
the end of that step's GPU work on the GPU's own clock. When the run finishes, the elapsed times
of all events since the first one go to $TUNEGRID_CUDA_EVENTS_DIR/<run_id>.json:

  {"run_id": ..., "steps": [0, 1, ...], "end_ms": [0.0, 412.3, ...]}

so the GPU time of steps a..b is end_ms[b] − end_ms[a−1]. Nothing else in the trainer changes;
without the variable this module does nothing."""

import json
import os
import sys


def _wrap(train) -> None:
    import torch

    from tunegrid_trainer.protocol import Finished, Started, Step

    out_dir = os.environ["TUNEGRID_CUDA_EVENTS_DIR"]
    original_emit = train.emit
    state = {"run_id": None, "steps": [], "events": []}

    def write() -> None:
        if not state["events"]:
            return
        torch.cuda.synchronize()
        first = state["events"][0]
        record = {"run_id": state["run_id"], "steps": state["steps"],
                  "end_ms": [first.elapsed_time(e) for e in state["events"]]}
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"{state['run_id']}.json"), "w") as f:
            json.dump(record, f)

    def emit(event) -> None:
        if isinstance(event, Started):
            state["run_id"] = event.run_id
        if isinstance(event, Step) and torch.cuda.is_available():
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            state["steps"].append(event.step)
            state["events"].append(e)
        if isinstance(event, Finished):
            write()
        original_emit(event)

    train.emit = emit


def _install() -> None:
    if not os.environ.get("TUNEGRID_CUDA_EVENTS_DIR"):
        return
    import importlib.abc
    import importlib.machinery

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "tunegrid_trainer.train":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            exec_module = spec.loader.exec_module

            def exec_and_wrap(module):
                exec_module(module)
                _wrap(module)

            spec.loader.exec_module = exec_and_wrap
            return spec

    sys.meta_path.insert(0, Finder())


_install()
