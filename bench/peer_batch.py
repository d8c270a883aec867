"""`python bench/peer_batch.py <cells-dir> --out <runs-dir>`: the batch runner of
`tunegrid_trainer.batch` (PROTOCOL.md §4: sampler + trainer per cell spec, one run folder each,
then `tunegrid ingest`), with the HF Trainer peer (bench/hf_peer.py) as the trainer. Ingest the
result into its own ledger: the peer runs the same cells, so their hashes are tunegrid's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "trainer"))

from tunegrid_trainer import batch, run_folder  # noqa: E402

PEER = str(Path(__file__).resolve().parent / "hf_peer.py")


class _PeerPopen(subprocess.Popen):
    """Starts the peer script wherever run_folder.run_cell starts `-m tunegrid_trainer`."""

    def __init__(self, args, *rest, **kwargs):
        if list(args[-4:-2]) == ["-m", "tunegrid_trainer"]:
            args = [*args[:-4], PEER, *args[-2:]]
        super().__init__(args, *rest, **kwargs)


if __name__ == "__main__":
    run_folder.subprocess.Popen = _PeerPopen
    sys.exit(batch.main())
