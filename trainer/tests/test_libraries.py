"""Which libraries a cell's trainer loads: bitsandbytes only for a cell that needs it (QLoRA or a
bitsandbytes optimizer), since transformers and PEFT import it whenever it is installed and its
import compiles kernels (seconds of every cell's start-up)."""

import subprocess
import sys

import pytest

from conftest import TRAINER_ROOT, child_env
from tunegrid_trainer.preflight import keep_bitsandbytes_out


@pytest.fixture
def no_bnb_loaded():
    """sys.modules without bitsandbytes for the test, restored after it."""
    saved = sys.modules.pop("bitsandbytes", "absent")
    yield
    sys.modules.pop("bitsandbytes", None)
    if saved != "absent":
        sys.modules["bitsandbytes"] = saved


@pytest.mark.parametrize(
    "method, optim, kept_out",
    [("lora", "adamw_torch", True), ("qlora", "adamw_torch", False), ("lora", "paged_adamw_8bit", False), ("lora", "adamw_8bit", False)],
)
def test_kept_out_only_when_nothing_needs_it(no_bnb_loaded, method, optim, kept_out):
    assert keep_bitsandbytes_out(method, optim) is kept_out
    assert ("bitsandbytes" in sys.modules) is kept_out


def test_left_alone_once_imported(no_bnb_loaded):
    sys.modules["bitsandbytes"] = object()  # already imported by someone: not ours to hide
    assert keep_bitsandbytes_out("lora", "adamw_torch") is False


def test_transformers_and_peft_load_without_it():
    """In a fresh interpreter, a LoRA cell's libraries load and see bitsandbytes as absent, while the
    environment facts still name its installed version."""
    code = (
        "from tunegrid_trainer.preflight import keep_bitsandbytes_out\n"
        "assert keep_bitsandbytes_out('lora', 'adamw_torch')\n"
        "from tunegrid_trainer.train import import_libraries\n"
        "import_libraries()\n"
        "import sys, importlib.metadata\n"
        "from transformers.utils import is_bitsandbytes_available\n"
        "from peft.import_utils import is_bnb_available\n"
        "print(sys.modules['bitsandbytes'] is None, is_bitsandbytes_available(), is_bnb_available())\n"
        "from tunegrid_trainer.env import env_facts\n"
        "print(env_facts('cpu').bitsandbytes == importlib.metadata.version('bitsandbytes'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=TRAINER_ROOT, env=child_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "False", "True"]
