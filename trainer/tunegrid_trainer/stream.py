"""The event stream: stdout reserved for JSON lines (`claim_stdout`), events written as one
compact line each with non-finite floats as null (`emit`), and stdin read line by line for the
runner's commands (`stdin_lines`)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys

from .events import EVENTS

_TAGS = {cls: name for name, cls in EVENTS.items()}

_out = sys.stdout


def claim_stdout() -> None:
    """Keep the real stdout for events and point fd 1 at stderr, so stray prints from
    libraries (Python or C) cannot corrupt the JSON-lines stream."""
    global _out
    sys.stdout.flush()
    _out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def stdin_lines():
    """Lines of stdin until it closes, read from fd 0 directly: a daemon thread blocked inside
    sys.stdin would hold its buffer lock and abort the interpreter at exit."""
    pending = b""
    while True:
        try:
            chunk = os.read(0, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            if pending:
                yield pending.decode("utf-8", "replace")
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace")
        pending = pending[-65536:]  # a line longer than 64 KiB is no command; keep memory bounded


def _clean(value):
    """JSON-ready copy of an event value; non-finite floats become null (never NaN/Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def to_json(event) -> str:
    body = _clean(dataclasses.asdict(event))
    return json.dumps({"event": _TAGS[type(event)], **body}, allow_nan=False, separators=(",", ":"))


def write_line(text: str) -> None:
    """One line on the event stream (the real stdout once claimed), flushed at once."""
    _out.write(text + "\n")
    _out.flush()


def emit(event) -> None:
    write_line(to_json(event))
