"""The runner's environment probe (`python -m tunegrid_trainer.env`): where no GPU can be reached
it reads torch's version file instead of importing torch, and must still say exactly what a
trainer that imported torch reports in `started.env` (the facts hashed into env_hash)."""

import dataclasses
import json
import subprocess
import sys

import pytest

from conftest import TRAINER_ROOT, child_env
from tunegrid_trainer.env import env_facts, no_gpu_reachable

pytestmark = pytest.mark.skipif(not no_gpu_reachable(), reason="a GPU is reachable here: the probe imports torch")


def test_probe_says_what_importing_torch_says():
    out = subprocess.run([sys.executable, "-m", "tunegrid_trainer.env"], capture_output=True, text=True, cwd=TRAINER_ROOT, env=child_env())
    assert out.returncode == 0, out.stderr
    import torch  # noqa: F401 - what a trainer has imported when it reports started.env

    assert json.loads(out.stdout) == dataclasses.asdict(env_facts("cpu"))


def test_probe_leaves_torch_unimported():
    code = "import sys\nfrom tunegrid_trainer.env import probe\nfacts = probe()\nprint(facts.device, facts.torch, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=TRAINER_ROOT, env=child_env())
    assert out.returncode == 0, out.stderr
    device, version, imported = out.stdout.split()
    assert (device, imported) == ("cpu", "False") and version.startswith("2.")
