"""Entry point: `python -u -m tunegrid_trainer --spec cell.json` runs one cell (PROTOCOL.md §2)
and exits with the contract's code. Wiring only: the work is in train.py, failures in errors.py."""

from __future__ import annotations

import argparse
import os
import sys

from . import startup  # first: its clock starts `started.timings`
from .errors import Progress, run_guarded
from .lifeline import die_with_parent
from .protocol import claim_stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunegrid_trainer", description=__doc__)
    parser.add_argument("--spec", required=True, help="path to the fully resolved cell.json")
    parser.add_argument(
        "--prestart",
        action="store_true",
        help='pre-started by the runner: import the libraries, then wait for a {"command":"go"} line'
        " on stdin before touching the device (PROTOCOL.md §2a)",
    )
    args = parser.parse_args(argv)
    die_with_parent()  # a killed runner must not leave this trainer holding the GPU
    claim_stdout()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings from the data threads

    def main_guarded(progress: Progress) -> None:
        from .train import run  # imported here so a broken torch install is reported as a `failed` event

        startup.mark("imports")

        run(args.spec, progress, prestarted=args.prestart)

    return run_guarded(main_guarded)


if __name__ == "__main__":
    sys.exit(main())
