"""Where a trainer's start-up goes, for `started.timings` (PROTOCOL.md §2): seconds per phase from
the process's start to the event, so `bench/grid_time.ts` can say which part of a cell's start-up
is imports, model, data or probe. Phases are marked in order; each mark takes the time since the
previous one. Imported first by `__main__`, so the clock starts with the interpreter; the runner's spawn time
(env TUNEGRID_SPAWNED_AT) gives the phase before it."""

from __future__ import annotations

import os
import time

_marks: dict[str, float] = {}
_last = time.time()


def _spawned_at() -> float | None:
    """When the runner spawned this process (epoch seconds, env TUNEGRID_SPAWNED_AT), if it says."""
    try:
        return float(os.environ["TUNEGRID_SPAWNED_AT"])
    except (KeyError, ValueError):
        return None


_spawned = _spawned_at()
if _spawned is not None and 0 <= _last - _spawned < 600:  # spawn → this module: exec, interpreter start-up
    _marks["spawn"] = round(_last - _spawned, 3)


def mark(phase: str) -> None:
    """The time since the previous mark is `phase`'s (added to it if marked before)."""
    global _last
    now = time.time()
    _marks[phase] = round(_marks.get(phase, 0.0) + now - _last, 3)
    _last = now


def timings() -> dict[str, float]:
    """The phases so far, marking the time since the last mark as `other`."""
    mark("other")
    return dict(_marks)
