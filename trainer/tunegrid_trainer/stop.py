"""The stop rule of PROTOCOL.md §1, the only place it is decided on the Python side: classifies
each optimizer step as warmup / window / after and says when the cell is done. Pure: no torch,
no clock; it is fed each step's (index, t_start, t_end, real tokens), times in Unix seconds.

The statistics it stops on (MSER-5 warm-up cut, batch-means CI of tok/s) are defined here and
again in ledger/results.sql, which computes the stored figures; trainer/tests/test_stop.py and
test/ledger/results.test.ts check the two give the same numbers on the same step series."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .cellspec import Adaptive, Detect, Measure, Seconds, Steps

# Student t 0.975 quantiles for 1..19 degrees of freedom (batch means use at most 20 batches).
# fmt: off
T975 = (
    12.7062047, 4.30265273, 3.18244631, 2.77644511, 2.57058184,
    2.44691185, 2.36462425, 2.30600414, 2.26215716, 2.22813885,
    2.20098516, 2.17881283, 2.16036866, 2.14478669, 2.13144955,
    2.11990530, 2.10981558, 2.10092204, 2.09302405,
)
# fmt: on
MAX_BATCHES = 20


def mser5_cut(rates: Sequence[float]) -> int:
    """MSER-5 truncation point, in steps: batch the per-step token rates in fives (a trailing
    partial batch is dropped), and pick the d ≤ m/2 batches to drop that minimise
    Σ_{j≥d} (Z_j − Z̄_d)² / (m − d)². Smallest d on ties; 0 with fewer than 2 batches."""
    m = len(rates) // 5
    if m < 2:
        return 0
    z = np.asarray(rates[: 5 * m], dtype=float).reshape(m, 5).mean(axis=1)
    count = np.arange(m, 0, -1, dtype=float)  # m − d for d = 0..m−1
    s1 = np.cumsum(z[::-1])[::-1]
    s2 = np.cumsum((z * z)[::-1])[::-1]
    stat = (s2 - s1 * s1 / count) / (count * count)
    return 5 * int(np.argmin(stat[: m // 2 + 1]))


@dataclass(frozen=True)
class RateCI:
    tok_s: float  # Σ tokens / window wall time
    half_width: float  # 95% CI half-width, tok/s
    batches: int

    @property
    def rel(self) -> float:
        return self.half_width / self.tok_s if self.tok_s > 0 else math.inf


def rate_ci(tokens: Sequence[float], t_start: Sequence[float], t_end: Sequence[float]) -> Optional[RateCI]:
    """tok/s over a window of consecutive steps with a 95% CI by batch means of the ratio
    estimator: each step owns the wall time since the previous step ended (the first, its own
    duration), so the durations sum to the window's wall time. k = clamp(⌊√w⌋, 2, 20) batches of
    nearly equal size (step p goes to batch ⌊p·k/w⌋); half-width = t₀.₉₇₅,ₖ₋₁ ·
    √(Σ_b (T_b − R·D_b)² / (k−1) / k) / D̄. Batching absorbs the correlation between neighbouring
    steps that a per-step (iid) interval would ignore. None with fewer than 2 steps."""
    w = len(tokens)
    if w < 2:
        return None
    tok = np.asarray(tokens, dtype=float)
    ends = np.asarray(t_end, dtype=float)
    dur = np.diff(ends, prepend=float(t_start[0]))
    total = float(dur.sum())
    if total <= 0:
        return None
    r = float(tok.sum()) / total
    k = min(MAX_BATCHES, max(2, math.isqrt(w)))
    batch = (np.arange(w) * k) // w
    tb = np.bincount(batch, weights=tok, minlength=k)
    db = np.bincount(batch, weights=dur, minlength=k)
    s2 = float(((tb - r * db) ** 2).sum()) / (k - 1)
    half = T975[k - 2] * math.sqrt(s2 / k) / (total / k)
    return RateCI(r, half, k)


@dataclass(frozen=True)
class Verdict:
    phase: str  # "warmup" | "window" | "after"
    stop: Optional[str]  # None, or the finish reason: window_complete | max_steps | max_seconds


class StopRule:
    """Warm-up: a step count, a duration, or detected (MSER-5 on the per-step token rate,
    clamped between the floor and cap durations). Window: a step count, a duration, or adaptive
    (complete once it spans ≥ min_seconds and its CI half-width is ≤ ci_target of tok/s)."""

    def __init__(
        self,
        *,
        warmup_steps: Optional[int] = None,
        warmup_seconds: Optional[float] = None,
        warmup_detect: Optional[tuple[float, float]] = None,  # (floor_seconds, cap_seconds)
        window_steps: Optional[int] = None,
        window_seconds: Optional[float] = None,
        window_adaptive: Optional[tuple[float, float]] = None,  # (ci_target, min_seconds)
        max_steps: int,
        max_seconds: float,
    ):
        assert sum(x is not None for x in (warmup_steps, warmup_seconds, warmup_detect)) == 1, "exactly one warm-up bound"
        assert sum(x is not None for x in (window_steps, window_seconds, window_adaptive)) == 1, "exactly one window bound"
        self.warmup_steps, self.warmup_seconds, self.warmup_detect = warmup_steps, warmup_seconds, warmup_detect
        self.window_steps, self.window_seconds, self.window_adaptive = window_steps, window_seconds, window_adaptive
        self.max_steps, self.max_seconds = max_steps, max_seconds
        self.t0: Optional[float] = None  # t_start of step 0
        self.t_start: list[float] = []
        self.t_end: list[float] = []
        self.tokens: list[float] = []
        self.rates: list[float] = []  # per-step token rate, tok/s: the series MSER-5 reads
        self.floor_count = 0  # steps classified warmup before the window (candidate) began
        self.cap_count = 0  # steps starting before t0 + cap (detect only)
        self.window_began = False
        self.end: Optional[int] = None  # steps when the window completed
        self.ci: Optional[RateCI] = None  # the window's CI at the last evaluation
        self._last_eval = 0  # steps at the last MSER-5 / CI evaluation
        self.reported: Optional[RateCI] = None  # the window's CI as each step event reports it
        self._last_report = 0  # steps at the last `reported` refresh
        self._ci_at = -1  # steps when `ci` was computed
        self.steps = 0

    # ---------------------------------------------------------------- the cut

    def _floor_over(self, index: int, t_start: float) -> bool:
        if self.warmup_steps is not None:
            return index >= self.warmup_steps
        floor = self.warmup_seconds if self.warmup_detect is None else self.warmup_detect[0]
        return t_start >= self.t0 + floor

    def cut(self) -> int:
        """Steps excluded as warm-up: the fixed bound, or MSER-5 clamped to [floor, cap]."""
        if not self.window_began:
            return self.steps
        if self.warmup_detect is None:
            return self.floor_count
        n = self.end if self.end is not None else self.steps
        return min(max(mser5_cut(self.rates[:n]), self.floor_count), self.cap_count, n)

    def window_ci(self) -> Optional[RateCI]:
        c, n = self.cut(), self.end if self.end is not None else self.steps
        return rate_ci(self.tokens[c:n], self.t_start[c:n], self.t_end[c:n])

    @property
    def ci_half_rel(self) -> Optional[float]:
        """The window's current 95% CI half-width as a fraction of its tok/s, as each `step` event
        reports it (the TUI's "CI → target"): the same batch means the adaptive window stops on,
        refreshed as often as `_due` allows (every step, then every steps/256). None before the window
        holds 2 steps."""
        return None if self.reported is None else self.reported.rel

    def _refresh_report(self) -> None:
        if not self.window_began:
            return
        if self.end == self.steps or self.steps - self._last_report >= max(1, self.steps // 256):
            self._last_report = self.steps
            self.reported = self.ci if self._ci_at == self.steps else self.window_ci()

    # ---------------------------------------------------------------- feeding

    def _due(self) -> bool:
        """Whether to recompute MSER-5 / the CI (O(steps) each) at this step: every step at
        first, then every steps/256 steps, so a 20k-step run spends ~µs per step on it rather
        than ~2 ms; the stop comes at most 0.4% of the steps late."""
        if self.steps - self._last_eval < max(1, self.steps // 256):
            return False
        self._last_eval = self.steps
        return True

    def _window_complete(self) -> bool:
        n, floor = self.steps, self.floor_count
        detect = self.warmup_detect is not None
        if self.window_steps is not None:
            if n - floor < self.window_steps:
                return False  # even the longest possible window is short
            return (not detect or self._due()) and n - self.cut() >= self.window_steps
        span = lambda c: self.t_end[-1] - self.t_start[c]  # noqa: E731
        if self.window_seconds is not None:
            if span(floor) < self.window_seconds:
                return False
            return (not detect or self._due()) and span(self.cut()) >= self.window_seconds
        target, min_seconds = self.window_adaptive
        if span(floor) < min_seconds or not self._due():
            return False
        c = self.cut()
        if span(c) < min_seconds:
            return False
        self.ci, self._ci_at = rate_ci(self.tokens[c:], self.t_start[c:], self.t_end[c:]), self.steps
        return self.ci is not None and self.ci.rel <= target

    def feed(self, index: int, t_start: float, t_end: float, tokens: Optional[float] = None) -> Verdict:
        assert index == self.steps, f"steps must be fed in order: got {index}, expected {self.steps}"
        if tokens is None:
            assert self.warmup_detect is None and self.window_adaptive is None, "detected warm-up and adaptive windows need tokens"
            tokens = 0.0
        self.steps += 1
        if self.t0 is None:
            self.t0 = t_start
        self.t_start.append(t_start)
        self.t_end.append(t_end)
        self.tokens.append(float(tokens))
        self.rates.append(float(tokens) / max(t_end - t_start, 1e-9))
        if self.warmup_detect is not None and t_start < self.t0 + self.warmup_detect[1]:
            self.cap_count = self.steps
        if self.end is not None:
            phase = "after"
        elif self.window_began or self._floor_over(index, t_start):
            phase = "window"
            self.window_began = True
            if self._window_complete():
                self.end = self.steps
        else:
            phase = "warmup"
            self.floor_count = self.steps
        if phase != "after":
            self._refresh_report()
        if self.end is not None:
            return Verdict(phase, "window_complete")
        if self.steps >= self.max_steps:
            return Verdict(phase, "max_steps")
        if t_end - self.t0 >= self.max_seconds:
            return Verdict(phase, "max_seconds")
        return Verdict(phase, None)

    @property
    def warmup_count(self) -> int:
        """Steps cut as warm-up (index of the first window step); all steps if the window never began."""
        return self.cut()

    @property
    def window_count(self) -> int:
        n = self.end if self.end is not None else self.steps
        return n - self.cut() if self.window_began else 0


def rule_for(measure: Measure) -> StopRule:
    """The StopRule of a decoded spec's `measure` (PROTOCOL.md §1): the one way the trainer, the
    HF/TRL callback and `replay` build it."""
    warm, window = measure.warmup, measure.window
    return StopRule(
        warmup_steps=warm.steps if isinstance(warm, Steps) else None,
        warmup_seconds=warm.seconds if isinstance(warm, Seconds) else None,
        warmup_detect=(warm.detect.floor_seconds, warm.detect.cap_seconds) if isinstance(warm, Detect) else None,
        window_steps=window.steps if isinstance(window, Steps) else None,
        window_seconds=window.seconds if isinstance(window, Seconds) else None,
        window_adaptive=(measure.ci_target, window.adaptive.min_seconds) if isinstance(window, Adaptive) else None,
        max_steps=measure.max_steps,
        max_seconds=measure.max_seconds,
    )


def replay(measure: dict, steps: list[dict]) -> dict:
    """Feed recorded steps ({t_start, t_end, tokens}) through the rule as the trainer would and
    report what it decided: how the cell would have ended and the window's figures. `measure` is
    the spec's JSON object, decoded as the trainer decodes it."""
    from .spec import decode_measure

    rule = rule_for(decode_measure(measure))
    verdicts = []
    for i, s in enumerate(steps):
        verdicts.append(rule.feed(i, s["t_start"], s["t_end"], s["tokens"]))
        if verdicts[-1].stop:
            break
    ci = rule.window_ci()
    return dict(
        steps=rule.steps,
        stop=verdicts[-1].stop if verdicts else None,
        phases=[v.phase for v in verdicts],
        warmup_steps=rule.warmup_count,
        window_steps=rule.window_count,
        tok_s=ci and ci.tok_s,
        ci_half=ci and ci.half_width,
        ci_batches=ci and ci.batches,
    )


if __name__ == "__main__":
    # `python -m tunegrid_trainer.stop < {"measure": …, "steps": […]}`: the rule's verdict as JSON,
    # so the TypeScript tests can hold ledger/results.sql to the same numbers.
    import json
    import sys

    payload = json.load(sys.stdin)
    print(json.dumps(replay(payload["measure"], payload["steps"])))
