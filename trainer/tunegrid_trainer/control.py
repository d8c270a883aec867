"""What the runner tells a running trainer (PROTOCOL.md §2a, §4): a pre-started trainer waits for
`{"command":"go"}` on stdin; a running one stops on `{"command":"stop"}` or SIGTERM. Other lines
are named on stderr and ignored."""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Iterator, Optional

from . import startup
from .protocol import stdin_lines


def _command(line: str) -> Optional[str]:
    """The `command` of a JSON line, if it has one."""
    try:
        return json.loads(line).get("command")
    except (ValueError, AttributeError):
        return None


_after_go: Optional[Iterator[str]] = None  # stdin after a pre-start's `go`, for the stop listener


def wait_for_go() -> None:
    """A pre-started trainer's wait: blocks on stdin until a `{"command":"go"}` line (the runner
    may SIGSTOP this process meanwhile); the rest of stdin goes to the stop listener. Closed
    stdin (no runner left) ends the process without events."""
    global _after_go
    print("tunegrid trainer: pre-started, waiting for go", file=sys.stderr, flush=True)
    lines = stdin_lines()
    for line in lines:
        if _command(line) == "go":
            startup.mark("wait")
            _after_go = lines
            return
        if line.strip():
            print(f"tunegrid trainer: waiting for go, ignoring stdin line {line.strip()[:80]!r}", file=sys.stderr)
    raise SystemExit(0)


def listen_for_stop() -> threading.Event:
    """Set on SIGTERM or a `{"command":"stop"}` line on stdin (what is left of it after a
    pre-start's `go`). Closed stdin is not a request."""
    event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: event.set())

    def read_stdin() -> None:
        for line in _after_go if _after_go is not None else stdin_lines():
            if _command(line) == "stop":
                event.set()
            elif line.strip():
                print(f"tunegrid trainer: ignoring stdin line {line.strip()[:80]!r}", file=sys.stderr)

    threading.Thread(target=read_stdin, name="stdin-stop", daemon=True).start()
    return event
