"""The HF Trainer + PEFT peer for a cell spec whatever its `trainer` field says: the trainer
package's `hf` backend (tunegrid_trainer/backends.py, where this script's code now lives), kept
so that bench/peer_batch.py can run tunegrid's own cells (same cell hashes) as the peer. A grid
gets the same by setting `trainer: "hf"` on a cell.

`python bench/hf_peer.py --spec cell.json` (trainer/ on PYTHONPATH). What HF Trainer cannot
honour (a token budget, the fused loss, checkpointing "auto") is refused with bad_spec."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from tunegrid_trainer.backend_rules import unsupported
from tunegrid_trainer.backends import prepare_peer, run_hf
from tunegrid_trainer.errors import Progress, SpecError, run_guarded
from tunegrid_trainer.protocol import claim_stdout
from tunegrid_trainer.spec import load_spec


def run(spec_path: str, progress: Progress) -> None:
    spec = dataclasses.replace(load_spec(spec_path), trainer="hf", script=None)
    for field, reason in unsupported(spec):
        raise SpecError(f"spec.{field}: HF Trainer {reason}")
    run_hf(spec, prepare_peer(spec), progress)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/hf_peer.py", description=__doc__)
    parser.add_argument("--spec", required=True)
    args = parser.parse_args(argv)
    claim_stdout()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return run_guarded(lambda progress: run(args.spec, progress))


if __name__ == "__main__":
    sys.exit(main())
