"""The stop rule of PROTOCOL.md §1, the only place it is decided on the Python side: classifies
each optimizer step as warmup / window / after and says when the cell is done. Pure: no torch,
no clock; it is fed each step's (index, t_start, t_end) in Unix seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Verdict:
    phase: str  # "warmup" | "window" | "after"
    stop: Optional[str]  # None, or the finish reason: window_complete | max_steps | max_seconds


class StopRule:
    def __init__(
        self,
        *,
        warmup_steps: Optional[int] = None,
        warmup_seconds: Optional[float] = None,
        window_steps: Optional[int] = None,
        window_seconds: Optional[float] = None,
        max_steps: int,
        max_seconds: float,
    ):
        assert (warmup_steps is None) != (warmup_seconds is None), "exactly one warm-up bound"
        assert (window_steps is None) != (window_seconds is None), "exactly one window bound"
        self.warmup_steps, self.warmup_seconds = warmup_steps, warmup_seconds
        self.window_steps, self.window_seconds = window_steps, window_seconds
        self.max_steps, self.max_seconds = max_steps, max_seconds
        self.t0: Optional[float] = None  # t_start of step 0
        self.window_start: Optional[float] = None  # t_start of the first window step
        self.first_window_step: Optional[int] = None
        self.window_count = 0
        self.complete = False
        self.steps = 0

    def _warmup_over(self, index: int, t_start: float) -> bool:
        if self.warmup_steps is not None:
            return index >= self.warmup_steps
        return t_start >= self.t0 + self.warmup_seconds

    def feed(self, index: int, t_start: float, t_end: float) -> Verdict:
        assert index == self.steps, f"steps must be fed in order: got {index}, expected {self.steps}"
        self.steps += 1
        if self.t0 is None:
            self.t0 = t_start
        if self.complete:
            phase = "after"
        elif self.first_window_step is not None or self._warmup_over(index, t_start):
            phase = "window"
            if self.first_window_step is None:
                self.first_window_step, self.window_start = index, t_start
            self.window_count += 1
            if self.window_steps is not None:
                self.complete = self.window_count >= self.window_steps
            else:
                self.complete = t_end - self.window_start >= self.window_seconds
        else:
            phase = "warmup"
        if self.complete:
            return Verdict(phase, "window_complete")
        if self.steps >= self.max_steps:
            return Verdict(phase, "max_steps")
        if t_end - self.t0 >= self.max_seconds:
            return Verdict(phase, "max_seconds")
        return Verdict(phase, None)

    @property
    def warmup_count(self) -> int:
        """Index of the first window step; all steps so far if the window never began."""
        return self.steps if self.first_window_step is None else self.first_window_step
