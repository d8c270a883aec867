"""VRAM budgets on the trainer's side (issue #17): no budget changes nothing; a budget holds the
allocator to its cap (PyTorch's through set_per_process_memory_fraction; here also the test
allocator, whose accounting is the trainer's own tensors), going over is an `oom` naming the
budget; the `memory` event reports what was held and what was not; probes take the largest batch."""

import sys
from pathlib import Path

import pytest
import torch

from tunegrid_trainer import fit_probe, vram
from tunegrid_trainer.errors import Progress, SpecError, to_failed
from tunegrid_trainer.protocol import VramBudget

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "test/fixtures/fake-allocator"))
from fake_allocator import FakeAllocator  # noqa: E402

BUDGET = VramBudget(name="test card", usable_mib=110, context_mib=10, cap_mib=100)


@pytest.fixture
def fake(monkeypatch):
    """The test allocator behind the trainer's seam, removed (mode exited, no budget) afterwards."""
    allocators = []

    def allocator_for(device):
        allocators.append(FakeAllocator())
        return allocators[-1]

    monkeypatch.setattr(vram, "allocator_for", allocator_for)
    yield allocators
    for a in allocators:
        if a.mode is not None:
            a.mode.__exit__(None, None, None)
    vram._active = None


def test_no_budget_holds_nothing():
    assert vram.hold(None, "cuda") is None and vram.oom_note() == ""


def test_a_budget_on_the_cpu_without_an_allocator_to_hold_is_a_bad_spec():
    with pytest.raises(SpecError, match="spec.vram_budget: test card needs a CUDA device"):
        vram.hold(BUDGET, "cpu")


def test_pytorchs_allocator_is_held_to_the_cap_as_a_fraction_of_the_device(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a: (10 * 2**30, 16 * 2**30))
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction", lambda f, *a: calls.append(f))
    assert vram.CudaAllocator().hold(8 * 2**30) == 8 * 2**30
    assert calls == [0.5]


def test_over_the_cap_is_an_oom_at_the_allocation_naming_the_budget(fake):
    guard = vram.hold(BUDGET, "cpu")
    keep = torch.zeros(60 * 2**20, dtype=torch.uint8)  # 60 MiB of 100
    with pytest.raises(torch.OutOfMemoryError) as err:
        torch.zeros(50 * 2**20, dtype=torch.uint8)
    failed, code = to_failed(err.value, Progress(step=7))
    assert failed.kind == "oom" and code == 3 and failed.step == 7
    assert failed.message.startswith(
        "CUDA out of memory at step 7 under the VRAM budget test card (PyTorch's allocator held to 100 MiB"
        " = 110 MiB usable − 10 MiB CUDA context allowance)"
    )
    assert failed.memory_mib == pytest.approx(60, abs=0.01)  # what the budget's allocator held, not the process RSS
    del keep
    torch.zeros(90 * 2**20, dtype=torch.uint8)  # freed memory counts no more
    assert guard.allocator.peak_allocated_bytes() >= 90 * 2**20


def test_the_memory_event_reports_held_peaks_and_paged_optimizer_state(fake):
    guard = vram.hold(BUDGET, "cpu")
    x = torch.zeros(2**20, dtype=torch.float32)  # 4 MiB
    paged = torch.zeros(2**19, dtype=torch.uint8)
    paged.is_paged = True  # as bitsandbytes marks its unified-memory state

    class Optimizer:
        state = {0: {"state1": paged, "step": torch.tensor(1.0)}, 1: {"state1": x}}

    m = guard.report(3, Optimizer())
    assert m.step == 3 and m.budget == BUDGET and m.cap_applied_mib == 100
    assert m.torch_peak_allocated_mib >= 4.5 and m.torch_peak_reserved_mib == m.torch_peak_allocated_mib
    assert m.paged_mib == 0.5 and m.outside_torch_mib == 0 and m.context_mib == 0
    assert vram.paged_bytes(None) == 0


def test_probes_take_the_largest_micro_batch_the_data_produces():
    samples = [[1] * n for n in (5, 40, 12, 33, 7, 40, 2)]
    assert [len(s) for s in fit_probe.largest_chunk(samples, padding="dynamic", batch_size=3, token_budget=None)] == [40, 40, 33]
    # packed: longest first, then whatever still fits (first fit decreasing), real tokens ≤ budget
    assert [len(s) for s in fit_probe.largest_chunk(samples, padding="packed", batch_size=1, token_budget=100)] == [40, 40, 12, 7]
    # padded to a token budget: as many of the longest as rows × 40 ≤ 100
    assert [len(s) for s in fit_probe.largest_chunk(samples, padding="dynamic", batch_size=1, token_budget=100)] == [40, 40]
    batch = next(fit_probe.largest_batches(samples, padding="dynamic", batch_size=3, token_budget=None, pad_id=0))
    assert tuple(batch.input_ids.shape) == (3, 40) and batch.tokens == 113


def test_other_trainers_refuse_a_budget_and_a_probe_by_name():
    import copy

    from conftest import BASE_SPEC
    from tunegrid_trainer.spec import decode_spec

    raw = copy.deepcopy(BASE_SPEC)
    raw.update(trainer="hf", vram_budget={"name": "c", "usable_mib": 110, "context_mib": 10, "cap_mib": 100})
    with pytest.raises(SpecError, match="spec.vram_budget.*trainer hf does not report where its memory went"):
        decode_spec(raw)
    raw.update(vram_budget=None, probe=True)
    with pytest.raises(SpecError, match="spec.probe.*trainer hf cannot run fit probes"):
        decode_spec(raw)


def test_a_presets_temporary_checkpoint_is_built_outside_the_cap_and_out_of_the_peaks(fake):
    guard = vram.hold(BUDGET, "cpu")
    with vram.lifted():  # what build_model does around a QLoRA preset's random checkpoint
        temporary = torch.zeros(150 * 2**20, dtype=torch.uint8)  # over the 100 MiB cap: allowed here
        del temporary
    assert guard.allocator.peak_allocated_bytes() < 100 * 2**20  # and not in the peaks the memory event reports
    with pytest.raises(torch.OutOfMemoryError):
        torch.zeros(150 * 2**20, dtype=torch.uint8)  # the cap is back
