"""The trainer's failure kinds and the one place that turns an exception into a `failed` event
and an exit code (PROTOCOL.md §2). Everything else raises and lets errors rise."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Callable, Optional

from .protocol import Failed, emit

EXIT_OK = 0
EXIT_USER = 2  # bad_spec / data_error / missing_dependency: the user must change something
EXIT_FAILED = 3  # oom / nan_loss / crash
EXIT_SIGINT = 130


class SpecError(Exception):
    """The cell spec is malformed or asks for something this machine cannot do."""


class DataError(Exception):
    """The dataset cannot be read or is empty."""


class MissingDependency(Exception):
    """An optional library the cell needs is not installed; the message holds the pip command."""


class NanLoss(Exception):
    def __init__(self, step: int, loss: float):
        super().__init__(f"loss became {loss} at step {step}; lower lr, set max_grad_norm, or use bf16 instead of fp16")
        self.step = step


@dataclass
class Progress:
    """What the loop has reached, for attributing a failure to a step."""

    step: Optional[int] = None


def _traceback_tail(exc: BaseException, lines: int = 12, chars: int = 2000) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return "\n".join(text.rstrip().splitlines()[-lines:])[-chars:]


def _memory_at_failure_mib() -> Optional[float]:
    """Memory in use when the failure happened (MiB): what the VRAM budget's allocator held, or
    torch.cuda allocated on a GPU cell, else this process's resident set (the memory a CPU cell
    runs out of)."""
    from .vram import held_mib  # lazily: vram imports this module

    if held_mib() is not None:
        return held_mib()
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return torch.cuda.memory_allocated() / 2**20
    except Exception:
        pass
    try:
        with open("/proc/self/statm") as f:
            import os

            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def _host_oom(exc: BaseException) -> bool:
    """The CPU allocator's out-of-memory: MemoryError, or torch's RuntimeError from it."""
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "DefaultCPUAllocator: can't allocate memory" in str(exc))


def to_failed(exc: BaseException, progress: Progress) -> tuple[Failed, int]:
    """Map an exception to its `failed` event and exit code."""
    step = progress.step
    if isinstance(exc, SpecError):
        return Failed("bad_spec", str(exc), None, None, None), EXIT_USER
    if isinstance(exc, DataError):
        return Failed("data_error", str(exc), None, None, None), EXIT_USER
    if isinstance(exc, MissingDependency):
        return Failed("missing_dependency", str(exc), None, None, None), EXIT_USER
    if isinstance(exc, NanLoss):
        return Failed("nan_loss", str(exc), exc.step, None, None), EXIT_FAILED
    oom_type = _cuda_oom_type()
    cuda_oom = oom_type is not None and isinstance(exc, oom_type)
    if cuda_oom or _host_oom(exc):
        from .vram import oom_note  # lazily: vram imports this module

        message = (
            f"{'CUDA' if cuda_oom else 'host (CPU)'} out of memory{'' if step is None else f' at step {step}'}"
            f"{oom_note() if cuda_oom else ''}; "
            "lower batch_size or max_seq_length, enable gradient_checkpointing, or use qlora"
        )
        return Failed("oom", message, step, _memory_at_failure_mib(), _traceback_tail(exc, lines=3)), EXIT_FAILED
    message = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
    return Failed("crash", message, step, _memory_at_failure_mib(), _traceback_tail(exc)), EXIT_FAILED


def _cuda_oom_type():
    try:
        import torch

        return torch.cuda.OutOfMemoryError
    except Exception:
        return None


def run_guarded(main: Callable[[Progress], None]) -> int:
    """Run `main`; on any exception emit exactly one `failed` event. Returns the exit code."""
    progress = Progress()
    try:
        main(progress)
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_SIGINT
    except BaseException as exc:  # noqa: BLE001 - this is the one place that catches everything
        if isinstance(exc, SystemExit):
            raise
        event, code = to_failed(exc, progress)
        emit(event)
        traceback.print_exc()  # stderr, for humans
        return code
