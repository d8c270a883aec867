"""Processes started by a runner die with it: a child that asked for it (lifeline.die_with_parent)
is gone within a second or two of its parent's SIGKILL, through the kernel's parent-death signal
on Linux and through the polling fallback used elsewhere. Real processes, no mocks."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TRAINER = str(Path(__file__).resolve().parents[1])

# A parent that starts a child (which asks to die with it, then sleeps silently, like a trainer
# tokenising), prints the child's PID, and sleeps; the test SIGKILLs the parent.
PARENT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip(), flush=True)
import time; time.sleep(600)
"""
CHILD = """
import os, sys, time
sys.path.insert(0, {trainer!r})
from tunegrid_trainer.lifeline import die_with_parent
print(os.getpid(), die_with_parent(use_prctl={prctl}), flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.parametrize("prctl", [True, False], ids=["parent-death signal", "polling fallback"])
def test_fault_runner_killed_child_dies_with_it(prctl):
    if prctl and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD.format(trainer=TRAINER, prctl=prctl)], stdout=subprocess.PIPE, text=True)
    pid, how = parent.stdout.readline().split()
    child = int(pid)
    assert how == ("prctl" if prctl else "poll")
    assert alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), f"child {child} outlived its killed parent"
