"""Die with the runner. A trainer or sampler whose runner was killed (kill -9, a crash, the OOM
killer) must not live on beside the next runner's processes, holding GPU memory and compute while
that runner measures. On Linux the kernel kills this process when its parent exits
(prctl PR_SET_PDEATHSIG); elsewhere a thread checks the parent once a second. Either way the
signal is SIGKILL: nobody is left to read a graceful `finished`, and a trainer busy tokenising
would not look at a SIGTERM flag for minutes."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_S = 1.0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _poll(parent: int) -> None:
    while True:
        time.sleep(POLL_S)
        if os.getppid() != parent:
            _die()


def die_with_parent(use_prctl: bool = sys.platform.startswith("linux")) -> str:
    """Arrange to be killed when the current parent exits; returns how ("prctl", "poll", "none")."""
    parent = os.getppid()
    if parent == 1:
        return "none"  # already an orphan (or started by init): no runner to follow
    if use_prctl:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before the request took effect
                    _die()
                return "prctl"
        except (OSError, AttributeError):
            pass  # no prctl in this libc: poll instead
    threading.Thread(target=_poll, args=(parent,), name="lifeline", daemon=True).start()
    return "poll"
