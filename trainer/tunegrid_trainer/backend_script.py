"""The `script` backend: the user's own training script as a cell. It runs in this process, as
`python script.py args…` would run it (`__main__`, its directory first on sys.path, the grid's
directory as the working directory), with TUNEGRID_SPEC pointing at the cell's spec JSON; the
cell's values reach it there and through its arguments (scriptArgs, placeholders filled by the
runner). TunegridCallback in its Trainer's callbacks reports it (callback.py).

What goes wrong is reported like any trainer's failure: a Trainer that starts training without
the callback is refused at once (the callback is missing); a script that ends before a step was
reported, exits with a non-zero code, or returns before training finished, fails with what it
did; an exception in the script is a crash with its traceback (run_guarded)."""

from __future__ import annotations

import os
import runpy
import sys

from . import callback
from .errors import Progress, SpecError


class ScriptFailed(Exception):
    """The script ended without a measured training run (a `crash`)."""


HOW_TO = (
    "add `from tunegrid_trainer.callback import TunegridCallback` to the script and `callbacks=[TunegridCallback()]` "
    "to its Trainer / SFTTrainer"
)


def guard_trainer(script: str) -> None:
    """Make Trainer.train refuse to run without TunegridCallback: an unmeasured run would only
    burn the cell's time and then fail."""
    import transformers

    original = transformers.Trainer.train
    if getattr(original, "_tunegrid_guard", False):
        return

    def train(self, *args, **kwargs):
        if not any(isinstance(cb, callback.TunegridCallback) for cb in self.callback_handler.callbacks):
            raise SpecError(
                f"the script {script} trains a {type(self).__name__} without TunegridCallback: the callback "
                f"is missing from its callbacks, so tunegrid cannot measure it; {HOW_TO}"
            )
        return original(self, *args, **kwargs)

    train._tunegrid_guard = True
    transformers.Trainer.train = train


def run_script(spec, spec_path: str, progress: Progress) -> None:
    from .control import listen_for_stop

    script = spec.script
    if not os.path.isfile(script.path):
        raise SpecError(f"spec.script.path: {script.path} is not a file")
    os.environ[callback.SPEC_ENV] = os.path.abspath(spec_path)
    session = callback.begin(spec, progress, listen_for_stop())
    guard_trainer(script.path)
    sys.argv = [script.path, *script.args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script.path)))
    os.chdir(script.cwd)
    code = 0
    try:
        runpy.run_path(script.path, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    done = f"after {session.steps} reported steps" if session.trained else "before a Trainer began training"
    if code != 0:
        raise ScriptFailed(f"the script {script.path} exited with code {code} {done}")
    if not session.trained:
        raise ScriptFailed(
            f"the script {script.path} ended without training a Trainer with TunegridCallback (no step "
            f"was reported); {HOW_TO}, and call trainer.train()"
        )
    if not session.reported:
        raise ScriptFailed(f"the script {script.path} ended {done} before its training finished")
