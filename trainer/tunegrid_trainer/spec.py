"""Strict decoding of cell.json into `protocol.Spec`: every key present, no unknown key, exact
types and enum values, then the cross-field rules. Errors are `SpecError` naming the key path,
the value and what was expected."""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Literal, Union

from .errors import SpecError
from .cellspec import Measure, Seconds, Spec, Steps
from .protocol import _variant


def _show(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(path: str, value, expected: str):
    raise SpecError(f"spec.{path}: got {_show(value)}; expected {expected}")


def _decode(tp, value, path: str):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union and type(None) in args:
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, value, path)
    if origin is Literal:
        # bool is an int in Python: `1 == True`, so compare types too
        if not any(value == a and type(value) is type(a) for a in args):
            _fail(path, value, "one of " + ", ".join(json.dumps(a) for a in args))
        return value
    if origin is Union:
        return _decode_variant(args, value, path)
    if origin is list:
        if not isinstance(value, list):
            _fail(path, value, "a list")
        return [_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return _decode_object(tp, value, path)
    if tp is bool:
        if not isinstance(value, bool):
            _fail(path, value, "true or false")
        return value
    if tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(path, value, "an integer")
        return value
    if tp is float:  # ints are numbers too; kept as given so the echo is byte-identical
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            _fail(path, value, "a number")
        return value
    if tp is str:
        if not isinstance(value, str):
            _fail(path, value, "a string")
        return value
    raise TypeError(f"unsupported spec type {tp} at {path}")


def _decode_object(cls, value, path: str):
    prefix = f"{path}." if path else ""
    if not isinstance(value, dict):
        _fail(path or "<root>", value, f"an object with keys {', '.join(f.name for f in dataclasses.fields(cls))}")
    hints = typing.get_type_hints(cls)
    for key in value:
        if key not in hints:
            raise SpecError(f"spec.{prefix}{key}: unknown key; expected only {', '.join(hints)}")
    for key in hints:
        if key not in value:
            raise SpecError(f"spec.{prefix}{key}: missing key (every key must be present; nullable ones as null)")
    return cls(**{key: _decode(tp, value[key], prefix + key) for key, tp in hints.items()})


def _decode_variant(members, value, path: str):
    names = [_variant(m) for m in members]
    if not isinstance(value, dict):
        _fail(path, value, "an object")
    if "source" in typing.get_type_hints(members[0]):
        for member, name in zip(members, names):
            if value.get("source") == name:
                return _decode_object(member, value, path)
        _fail(f"{path}.source", value.get("source"), "one of " + ", ".join(json.dumps(n) for n in names))
    for member, name in zip(members, names):
        if set(value) == {name}:
            return _decode_object(member, value, path)
    _fail(path, value, "exactly one of " + " or ".join(f'{{"{n}": ...}}' for n in names))


def _positive(path: str, value, allow_zero: bool = False):
    if value is not None and (value < 0 or (value == 0 and not allow_zero)):
        _fail(path, value, "a number ≥ 0" if allow_zero else "a number > 0")


def _check_rules(spec: Spec) -> None:
    """Cross-field rules the types cannot say."""
    if spec.method == "qlora" and spec.quant is None:
        _fail("quant", None, 'an object {bnb_4bit_quant_type, bnb_4bit_use_double_quant, bnb_4bit_compute_dtype} because method is "qlora"')
    if spec.method == "lora" and spec.quant is not None:
        _fail("quant", dataclasses.asdict(spec.quant), 'null because method is "lora"')
    if spec.model.source == "preset" and spec.tokenizer.source == "model":
        _fail("tokenizer.source", "model", 'a tokenizer file: preset models ship no tokenizer ({"source": "file", "path": ...})')
    if not spec.lora.target_modules:
        _fail("lora.target_modules", [], "at least one module name")
    _positive("lora.r", spec.lora.r)
    _positive("lora.lora_alpha", spec.lora.lora_alpha)
    if not 0 <= spec.lora.lora_dropout < 1:
        _fail("lora.lora_dropout", spec.lora.lora_dropout, "a number in [0, 1)")
    _positive("learning_rate", spec.learning_rate)
    _positive("warmup_steps", spec.warmup_steps, allow_zero=True)
    _positive("weight_decay", spec.weight_decay, allow_zero=True)
    _positive("max_grad_norm", spec.max_grad_norm)
    _positive("batch_size", spec.batch_size)
    _positive("gradient_accumulation_steps", spec.gradient_accumulation_steps)
    if spec.max_seq_length < 2:
        _fail("max_seq_length", spec.max_seq_length, "an integer ≥ 2")
    _positive("tokens_per_step", spec.tokens_per_step)
    accum, longest = spec.gradient_accumulation_steps, spec.max_seq_length
    if spec.tokens_per_step is not None and spec.tokens_per_step // accum < longest:
        _fail(
            "tokens_per_step",
            spec.tokens_per_step,
            f"at least gradient_accumulation_steps × max_seq_length = {accum * longest}, so the longest sample fits a micro-batch",
        )
    _positive("data.samples", spec.data.samples)
    _check_measure(spec.measure)
    _check_backend(spec)
    _check_cards(spec)


def _check_measure(m: Measure) -> None:
    if isinstance(m.warmup, Steps):
        _positive("measure.warmup.steps", m.warmup.steps, allow_zero=True)
    elif isinstance(m.warmup, Seconds):
        _positive("measure.warmup.seconds", m.warmup.seconds, allow_zero=True)
    else:
        d = m.warmup.detect
        _positive("measure.warmup.detect.floor_seconds", d.floor_seconds, allow_zero=True)
        if d.cap_seconds < d.floor_seconds:
            _fail("measure.warmup.detect.cap_seconds", d.cap_seconds, f"a number ≥ floor_seconds ({d.floor_seconds})")
    if isinstance(m.window, Steps):
        _positive("measure.window.steps", m.window.steps)
    elif isinstance(m.window, Seconds):
        _positive("measure.window.seconds", m.window.seconds)
    else:
        _positive("measure.window.adaptive.min_seconds", m.window.adaptive.min_seconds, allow_zero=True)
        if m.ci_target is None:
            _fail("measure.ci_target", None, 'a fraction in (0, 1), e.g. 0.02 for ±2%, because window is "adaptive"')
    if m.ci_target is not None and not 0 < m.ci_target < 1:
        _fail("measure.ci_target", m.ci_target, "a fraction in (0, 1), e.g. 0.02 for ±2%")
    _positive("measure.max_steps", m.max_steps)
    _positive("measure.max_seconds", m.max_seconds)


def _check_cards(spec: Spec) -> None:
    """torch_dtype and vram_budget (issues #16, #17)."""
    if spec.method == "qlora" and spec.torch_dtype not in (None, "fp32"):
        _fail("torch_dtype", spec.torch_dtype, 'null or "fp32" because method is "qlora" (the 4-bit config decides the rest)')
    if spec.torch_dtype in ("fp16", "bf16") and spec.precision == "fp32":
        _fail("torch_dtype", spec.torch_dtype, 'fp32, auto or null because precision is "fp32" (a 16-bit base needs autocast)')
    b = spec.vram_budget
    if b is not None:
        _positive("vram_budget.usable_mib", b.usable_mib)
        _positive("vram_budget.context_mib", b.context_mib, allow_zero=True)
        if not 0 < b.cap_mib <= b.usable_mib:
            _fail("vram_budget.cap_mib", b.cap_mib, f"a number in (0, usable_mib = {b.usable_mib}]")


def _check_backend(spec: Spec) -> None:
    """What the cell's trainer cannot honour (the grid rejects these too; this guards specs
    written by hand or planned elsewhere)."""
    from .backend_rules import unsupported

    if (spec.trainer == "script") != (spec.script is not None):
        _fail(
            "script",
            spec.script and dataclasses.asdict(spec.script),
            'an object {path, args, cwd} because trainer is "script"'
            if spec.trainer == "script"
            else f'null: only trainer "script" runs a script (trainer is "{spec.trainer}")',
        )
    for field, reason in unsupported(spec):
        _fail(field, dataclasses.asdict(spec).get(field), f"another value: trainer {spec.trainer} {reason}")


# Keys of specs written before the spec took the grid's names (#19): plan folders made then
# still run. Top-level renames, then the nested ones of `lora` and `quant`.
LEGACY_KEYS = {
    "lr": "learning_rate",
    "lr_schedule": "lr_scheduler_type",
    "lr_warmup_steps": "warmup_steps",
    "grad_accum": "gradient_accumulation_steps",
    "max_seq_len": "max_seq_length",
}
LEGACY_NESTED = {
    "lora": {"alpha": "lora_alpha", "dropout": "lora_dropout"},
    "quant": {"quant_type": "bnb_4bit_quant_type", "double_quant": "bnb_4bit_use_double_quant", "compute_dtype": "bnb_4bit_compute_dtype"},
}


def _legacy_measure(measure):
    """A measure of an old spec carried ci_target inside window.adaptive; now it sits beside window."""
    if not isinstance(measure, dict) or "ci_target" in measure:
        return measure
    adaptive = measure.get("window", {}).get("adaptive") if isinstance(measure.get("window"), dict) else None
    if not isinstance(adaptive, dict) or "ci_target" not in adaptive:
        return {**measure, "ci_target": None}  # a fixed window had no target
    rest = {k: v for k, v in adaptive.items() if k != "ci_target"}
    return {**measure, "window": {"adaptive": rest}, "ci_target": adaptive["ci_target"]}


def upgrade(raw):
    """An old spec's keys renamed to today's; a spec that has none of them is returned as is."""
    if not isinstance(raw, dict) or not any(k in raw for k in LEGACY_KEYS) or any(v in raw for v in LEGACY_KEYS.values()):
        return raw
    out = {LEGACY_KEYS.get(k, k): v for k, v in raw.items()}
    for parent, names in LEGACY_NESTED.items():
        if isinstance(out.get(parent), dict):
            out[parent] = {names.get(k, k): v for k, v in out[parent].items()}
    out["measure"] = _legacy_measure(out.get("measure"))
    return out


def decode_measure(raw) -> Measure:
    """The spec's `measure` object alone (the stop rule's replay for the TypeScript tests)."""
    measure = _decode_object(Measure, _legacy_measure(raw), "measure")
    _check_measure(measure)
    return measure


def decode_spec(raw) -> Spec:
    """Decode an already-parsed JSON value (old key names accepted: `upgrade`)."""
    spec = _decode_object(Spec, upgrade(raw), "")
    _check_rules(spec)
    return spec


def load_spec(path: str) -> Spec:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except OSError as e:
        raise SpecError(f"cannot read spec file {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise SpecError(f"spec file {path} is not valid JSON: {e}") from e
    return decode_spec(raw)
