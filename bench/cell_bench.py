"""What the bench scripts that run one planned cell alone share (`bare_loop.py`, `host_bound.py`):
the command line (a cell spec from `tunegrid plan`, warm-up and timed steps, --out) and the cell
made ready by the trainer's own `prepare` and `Stepper`, so they time exactly the cell."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "trainer"))


def arguments(doc: str, warmup_help: str, steps_help: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path)
    parser.add_argument("--warmup", type=int, required=True, help=warmup_help)
    parser.add_argument("--steps", type=int, required=True, help=steps_help)
    parser.add_argument("--out", type=Path)
    return parser


@dataclass
class Cell:
    spec: Any  # tunegrid_trainer.spec.Spec
    ready: Any  # tunegrid_trainer.train.Prepared
    stepper: Any  # tunegrid_trainer.stepper.Stepper
    cuda: bool
    sync: Callable[[], None]


def load(path: Path) -> Cell:
    import torch

    from tunegrid_trainer.spec import load_spec
    from tunegrid_trainer.stepper import Stepper
    from tunegrid_trainer.train import prepare

    spec = load_spec(str(path))
    ready = prepare(spec)
    cuda = ready.options.device == "cuda"
    return Cell(spec, ready, Stepper(ready.model, ready.options), cuda,
                torch.cuda.synchronize if cuda else (lambda: None))


def write(out: Path | None, result: dict) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result))
