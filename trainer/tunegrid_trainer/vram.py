"""VRAM budgets on the trainer's side (PROTOCOL.md §1 `vram_budget`, §2 `memory`): hold PyTorch's
CUDA caching allocator to a smaller card's cap, so that going over is a real CUDA OOM at the
allocation that would not fit on that card; and measure what the cap cannot hold (the CUDA
context and other memory outside the allocator, bitsandbytes' paged optimizer state).

The allocator is reached through `allocator_for`, the one seam tests replace (a fake allocator
whose accounting is the trainer's own tensors, test/fixtures/fake-allocator); the product has
only PyTorch's."""

from __future__ import annotations

import contextlib
from typing import Optional

import torch

from .errors import SpecError
from .protocol import Memory, VramBudget

MIB = 2**20


class CudaAllocator:
    """PyTorch's caching allocator on the cell's GPU (device 0 of this process)."""

    def total_bytes(self) -> int:
        # the total set_per_process_memory_fraction multiplies (cudaMemGetInfo's)
        return torch.cuda.mem_get_info()[1]

    def hold(self, cap_bytes: int) -> int:
        """Limit what the allocator may reserve from the device; → the limit as applied."""
        torch.cuda.set_per_process_memory_fraction(cap_bytes / self.total_bytes())
        return cap_bytes

    def release(self) -> None:
        """The whole device again (the limit off)."""
        torch.cuda.set_per_process_memory_fraction(1.0)

    def reset_peak(self) -> None:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()

    def peak_allocated_bytes(self) -> int:
        return torch.cuda.max_memory_allocated()

    def peak_reserved_bytes(self) -> int:
        return torch.cuda.max_memory_reserved()

    def allocated_bytes(self) -> int:
        return torch.cuda.memory_allocated()

    def outside_bytes(self) -> Optional[int]:
        """This process's device memory that PyTorch's allocator did not reserve (the CUDA context,
        libraries' own allocations, resident unified memory), by NVML; None where NVML cannot say."""
        used = _nvml_process_used_bytes()
        return None if used is None else max(0, used - torch.cuda.memory_reserved())


def _nvml_process_used_bytes() -> Optional[int]:
    """Device memory NVML attributes to this process. In a container NVML may list processes by
    the host's PIDs: then the one compute process on the GPU is taken as this one (it has a CUDA
    context, so it is listed). None when NVML cannot say; never device-wide use, which would count
    other processes."""
    import os

    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
            procs = [p for p in pynvml.nvmlDeviceGetComputeRunningProcesses(handle) if p.usedGpuMemory is not None]
            mine = [p for p in procs if p.pid == os.getpid()] or (procs if len(procs) == 1 else [])
            return int(mine[0].usedGpuMemory) if mine else None
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        return None


def allocator_for(device: str):
    """The allocator a budget holds on `device`, or None where there is none to hold (CPU)."""
    return CudaAllocator() if device == "cuda" else None


class Guard:
    """An applied budget: the cap, what was outside the allocator before the model was built, and
    the `memory` event that reports where the cell's memory went."""

    def __init__(self, budget: VramBudget, allocator, cap_bytes: int, context: Optional[int]):
        self.budget, self.allocator, self.cap_bytes, self.context = budget, allocator, cap_bytes, context

    def report(self, step: int, optimizer) -> Memory:
        a = self.allocator
        outside = a.outside_bytes()
        return Memory(
            step=step,
            budget=self.budget,
            cap_applied_mib=self.cap_bytes / MIB,
            device_total_mib=a.total_bytes() / MIB,
            torch_peak_allocated_mib=a.peak_allocated_bytes() / MIB,
            torch_peak_reserved_mib=a.peak_reserved_bytes() / MIB,
            outside_torch_mib=None if outside is None else outside / MIB,
            context_mib=None if self.context is None else self.context / MIB,
            paged_mib=paged_bytes(optimizer) / MIB,
        )

    def oom_note(self) -> str:
        b = self.budget
        return (
            f" under the VRAM budget {b.name} (PyTorch's allocator held to {b.cap_mib:,.0f} MiB ="
            f" {b.usable_mib:,.0f} MiB usable − {b.context_mib:,.0f} MiB CUDA context allowance)"
        )


_active: Optional[Guard] = None


def hold(budget: Optional[VramBudget], device: str) -> Optional[Guard]:
    """Apply the cell's budget before anything is allocated; None without one."""
    global _active
    if budget is None:
        return None
    allocator = allocator_for(device)
    if allocator is None:
        raise SpecError(
            f"spec.vram_budget: {budget.name} needs a CUDA device (the budget holds PyTorch's CUDA allocator); this cell runs on {device}"
        )
    total = allocator.total_bytes()
    cap = int(budget.cap_mib * MIB)
    if cap > total:
        raise SpecError(
            f"spec.vram_budget: {budget.name}'s cap of {budget.cap_mib:,.0f} MiB is more than this GPU's"
            f" {total / MIB:,.0f} MiB; a budget can only stand for a smaller card"
        )
    context = allocator.outside_bytes()
    _active = Guard(budget, allocator, allocator.hold(cap), context)
    return _active


@contextlib.contextmanager
def lifted():
    """The cap off, and out of the peaks, for what a real run would not allocate: a preset's
    temporary random checkpoint, built on the GPU only so that bitsandbytes can quantize it while
    loading (a real run loads its checkpoint from disk). A no-op without a budget."""
    if _active is None:
        yield
        return
    _active.allocator.release()
    try:
        yield
    finally:
        _active.allocator.reset_peak()
        _active.allocator.hold(_active.cap_bytes)


def held_mib() -> Optional[float]:
    """What the budget's allocator holds now (MiB), or None without a budget."""
    return None if _active is None else _active.allocator.allocated_bytes() / MIB


def oom_note() -> str:
    """Appended to an OOM's message when a budget was held: the budget it hit."""
    return "" if _active is None else _active.oom_note()


def paged_bytes(optimizer) -> int:
    """bitsandbytes' paged optimizer state (cudaMallocManaged, marked `is_paged`): not in PyTorch's
    allocator, so not held by the cap. Small tensors (< 1e5 elements) bitsandbytes keeps unpaged."""
    if optimizer is None:
        return 0
    seen, total = set(), 0
    for state in optimizer.state.values():
        for t in state.values():
            if isinstance(t, torch.Tensor) and getattr(t, "is_paged", False) and id(t) not in seen:
                seen.add(id(t))
                total += t.numel() * t.element_size()
    return total
