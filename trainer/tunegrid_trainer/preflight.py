"""Checks a decoded spec against this machine before anything heavy is built, in the order a
user has to fix things: missing libraries first (`missing_dependency`: installing is the first
step whatever else is wrong), then what the hardware cannot do (`bad_spec`)."""

from __future__ import annotations

import importlib.util
import sys

from .errors import MissingDependency, SpecError
from .models import BNB_INSTALL

BNB_OPTIMS = ("adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit")


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def resolve_device(device: str) -> str:
    """ "auto" → "cuda" if available else "cpu"; "cuda" must be available."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SpecError('spec.device: got "cuda"; expected "cpu" or "auto": torch sees no CUDA device here')
    return device


def needs_bitsandbytes(method: str, optim: str) -> list[str]:
    """What in a cell needs bitsandbytes (empty: nothing does)."""
    return [what for what, yes in (("method qlora", method == "qlora"), (f"optim {optim}", optim in BNB_OPTIMS)) if yes]


def keep_bitsandbytes_out(method: str, optim: str) -> bool:
    """For a cell that needs no bitsandbytes, mark it unimportable before transformers and PEFT
    load: both import it whenever it is installed, and its import compiles kernels through
    torch.compile (torch._dynamo, inductor): ~4 s of every cell's start-up on a 2-core CPU, for
    nothing. `importlib.util.find_spec` then answers None, so they take it as not installed. A
    cell that needs it, or a process that already imported it, is left alone. Says whether it did."""
    if needs_bitsandbytes(method, optim) or "bitsandbytes" in sys.modules:
        return False
    sys.modules["bitsandbytes"] = None  # type: ignore[assignment]
    return True


def check_dependencies(method: str, optim: str, data_source: str) -> None:
    needs_bnb = needs_bitsandbytes(method, optim)
    if needs_bnb and not _importable("bitsandbytes"):
        raise MissingDependency(f"{' and '.join(needs_bnb)} needs bitsandbytes, which is not installed; install it: {BNB_INSTALL}")
    if data_source == "hub" and not _importable("datasets"):
        raise MissingDependency(
            "data source hub needs the datasets library, which is not installed; "
            "it is in trainer/requirements.lock: run npm run setup:python (or: pip install datasets)"
        )


def check_device(method: str, optim: str, precision: str, device: str) -> None:
    if device != "cuda":
        if method == "qlora":
            raise SpecError(f'spec.method: got "qlora" on device {device}; expected "lora": bitsandbytes 4-bit needs CUDA')
        if optim in BNB_OPTIMS:
            raise SpecError(f'spec.optim: got "{optim}" on device {device}; expected "adamw_torch": bitsandbytes optimizers need CUDA')
    elif precision == "bf16":
        import torch

        if not torch.cuda.is_bf16_supported():
            raise SpecError('spec.precision: got "bf16"; expected "fp16" or "fp32": this GPU has no bf16 support')
