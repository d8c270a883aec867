"""The wire shapes of PROTOCOL.md: the cell spec, every trainer and sampler event, and `emit`.

This module is the Python half of the contract; `python -m tunegrid_trainer.protocol --dump`
prints it for `test/contract.test.ts`. Dump format (one JSON object):

    {"<name>": {"required": [paths], "optional": [paths], "enums": {path: [values]}}, ...}

for name in started, step, finished, failed, sampler, sample, spec.
- A path is a key, or a dotted path into a nested object: "model.params".
- "required": the key is always present and never null. "optional": the key is always present
  but may be null (the trainer never omits keys). A path under a nullable object ("quant.quant_type")
  is listed as required when it is required whenever its parent is non-null.
- A field holding one of several object shapes lists each shape's keys with the variant in
  brackets: "model[preset].name", "model[hub].id", "measure.warmup[steps].steps". The variant is
  the value of the object's "source" key, or, for shapes without "source", the name of their
  single key (warmup/window: "steps" | "seconds").
- "enums" maps a path to the allowed string/int values (Literal types).
- `started.spec` is listed as one key "spec"; its shape is the "spec" entry.
Every event has "event" (its tag, the entry's name) and "t" (Unix seconds).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from typing import Literal, Optional, Union

from .cellspec import *  # noqa: F401,F403  (the spec's types, re-exported: protocol is the contract's one name)
from .cellspec import Spec
from .events import *  # noqa: F401,F403
from .events import EVENTS
from .stream import claim_stdout, emit, stdin_lines, to_json, write_line  # noqa: F401

# ---------------------------------------------------------------- --dump


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _variant(cls) -> str:
    hints = _hints(cls)
    if "source" in hints:
        return typing.get_args(hints["source"])[0]
    (only,) = hints
    return only


def _walk(cls, prefix: str, nullable_parent: bool, out: dict) -> None:
    for name, tp in _hints(cls).items():
        path = prefix + name
        optional = False
        if typing.get_origin(tp) is Union and type(None) in typing.get_args(tp):
            optional = True
            (tp,) = [a for a in typing.get_args(tp) if a is not type(None)]
        out["optional" if optional else "required"].append(path)
        if tp is Spec:
            continue  # started.spec: see the "spec" entry
        if typing.get_origin(tp) is Literal:
            out["enums"][path] = list(typing.get_args(tp))
        elif dataclasses.is_dataclass(tp):
            _walk(tp, path + ".", optional, out)
        elif typing.get_origin(tp) is Union:
            for member in typing.get_args(tp):
                _walk(member, f"{path}[{_variant(member)}].", optional, out)


def describe(cls, tag: Optional[str]) -> dict:
    out: dict = {"required": ["event"] if tag else [], "optional": [], "enums": {}}
    if tag:
        out["enums"]["event"] = [tag]
    _walk(cls, "", False, out)
    return out


def dump() -> dict:
    shapes = {name: describe(cls, name) for name, cls in EVENTS.items()}
    shapes["spec"] = describe(Spec, None)
    return shapes


if __name__ == "__main__":
    if sys.argv[1:] != ["--dump"]:
        sys.exit("usage: python -m tunegrid_trainer.protocol --dump")
    print(json.dumps(dump(), indent=2))
