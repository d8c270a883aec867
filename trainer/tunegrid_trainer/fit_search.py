"""The fit frontier's search, the same rule as src/fit/bisect.ts (test/fit/search-contract.test.ts
checks they probe the same values): from a start, double while probes fit and halve while they do
not, then bisect between the largest value that fits and the smallest that does not. Values lie
on a lattice min, min + unit, …, max."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union


@dataclass(frozen=True)
class Bounds:
    min: int
    max: int
    unit: int
    start: int


@dataclass(frozen=True)
class Done:
    frontier: Optional[int]
    reason: str


def snap(v: int, b: Bounds) -> int:
    """The lattice value at or below v, within [min, max]."""
    return b.min + ((min(max(v, b.min), b.max) - b.min) // b.unit) * b.unit


def next_probe(outcomes: dict[int, bool], b: Bounds) -> Union[int, Done]:
    fits = [v for v, ok in outcomes.items() if ok]
    fails = [v for v, ok in outcomes.items() if not ok]
    lowest_fail = min(fails) if fails else None
    below = fits if lowest_fail is None else [v for v in fits if v < lowest_fail]
    highest_fit = max(below) if below else None
    above = [v for v in fits if lowest_fail is not None and v > lowest_fail]
    contradiction = (
        (f"; not monotone: {', '.join(map(str, above))} fit above {lowest_fail}, which did not (the frontier stays below it)")
        if above
        else ""
    )

    def done(frontier: Optional[int], reason: str) -> Done:
        return Done(frontier, reason + contradiction)

    if not outcomes:
        return snap(b.start, b)
    smallest = f"not even the smallest value ({b.min}) fits"
    if highest_fit is None:
        if lowest_fail <= b.min:
            return done(None, smallest)
        half = snap(lowest_fail // 2, b)
        nxt = half if half < lowest_fail and half not in outcomes else b.min
        return nxt if nxt not in outcomes else done(None, smallest)
    if lowest_fail is None:
        if highest_fit >= b.max:
            return done(highest_fit, f"the upper bound ({b.max}) fits")
        nxt = snap(min(2 * highest_fit, b.max), b)
        probe = nxt if nxt > highest_fit else snap(highest_fit + b.unit, b)
        return probe if probe > highest_fit else done(highest_fit, f"the upper bound ({b.max}) fits")
    if lowest_fail - highest_fit <= b.unit:
        return done(highest_fit, f"{highest_fit} fits and {lowest_fail} does not")
    mid = snap((highest_fit + lowest_fail) // 2, b)
    return mid if highest_fit < mid < lowest_fail else done(highest_fit, f"{highest_fit} fits and {lowest_fail} does not")
