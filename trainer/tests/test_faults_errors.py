"""The one place that turns exceptions into `failed` events: out-of-memory on the host counts as
`oom` (not `crash`), and every failure carries the step and the memory in use at that moment."""

import torch

from tunegrid_trainer.errors import EXIT_FAILED, NanLoss, Progress, to_failed


def test_a_real_host_allocation_failure_is_oom_with_step_and_memory():
    try:
        torch.empty(1 << 50, dtype=torch.uint8)  # 1 PiB: the real CPU allocator refuses
    except RuntimeError as exc:
        event, code = to_failed(exc, Progress(step=4))
    assert (event.kind, event.step, code) == ("oom", 4, EXIT_FAILED)
    assert "host (CPU) out of memory at step 4" in event.message
    assert event.memory_mib > 10  # this process's resident set, MiB


def test_memory_error_is_oom_and_cuda_oom_says_cuda():
    assert to_failed(MemoryError(), Progress(step=1))[0].kind == "oom"
    event, _ = to_failed(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), Progress(step=7))
    assert event.kind == "oom" and event.message.startswith("CUDA out of memory at step 7")


def test_other_errors_are_crashes_with_the_traceback_tail_and_nan_keeps_its_step():
    try:
        raise ValueError("shapes do not match")
    except ValueError as exc:
        event, code = to_failed(exc, Progress(step=2))
    assert (event.kind, event.step, code) == ("crash", 2, EXIT_FAILED)
    assert event.message == "ValueError: shapes do not match" and "shapes do not match" in event.detail
    assert to_failed(NanLoss(9, float("nan")), Progress(step=9))[0].step == 9
