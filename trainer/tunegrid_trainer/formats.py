"""TRL's dataset types, told apart from the rows themselves: language modelling (`text`),
prompt–completion (`prompt`, `completion`: strings; lists of messages for the conversational
variant), conversational (`messages`: a list of {role, content}) and Alpaca (`instruction`,
`input`, `output`). A dataset holds one format: its first row decides which, and every row must
fit it. A row that fits no format, or another format than the first, is refused naming where it
is, the field and what was expected. Pure: no tokenizer, no torch."""

from __future__ import annotations

import json
from typing import Optional

from .errors import DataError

LANGUAGE_MODELING = "language_modeling"
PROMPT_COMPLETION = "prompt_completion"
CONVERSATIONAL = "conversational"
CONVERSATIONAL_PROMPT_COMPLETION = "conversational_prompt_completion"
ALPACA = "alpaca"
FORMATS = (LANGUAGE_MODELING, PROMPT_COMPLETION, CONVERSATIONAL, CONVERSATIONAL_PROMPT_COMPLETION, ALPACA)

# the fields each format reads (the canonical names a column mapping renames to)
FIELDS = {
    LANGUAGE_MODELING: ("text",),
    PROMPT_COMPLETION: ("prompt", "completion"),
    CONVERSATIONAL: ("messages",),
    CONVERSATIONAL_PROMPT_COMPLETION: ("prompt", "completion"),
    ALPACA: ("instruction", "input", "output"),
}
COLUMN_NAMES = ("text", "prompt", "completion", "messages", "instruction", "input", "output")
ROLES = ("system", "user", "assistant", "tool")
DESCRIBE = {
    LANGUAGE_MODELING: "language modelling (text)",
    PROMPT_COMPLETION: "prompt-completion (prompt, completion)",
    CONVERSATIONAL: "conversational (messages)",
    CONVERSATIONAL_PROMPT_COMPLETION: "conversational prompt-completion (prompt and completion as messages)",
    ALPACA: "Alpaca (instruction, input, output)",
}
EXPECTED_ANY = (
    'one of the fields "messages" (conversational), "prompt" + "completion" (prompt-completion), '
    '"text" (language modelling) or "instruction" + "output" (Alpaca)'
)


class RowError(DataError):
    """A row that does not fit: `where` is "<file>: line 3" / "<file>: row 3"."""

    def __init__(self, where: str, field: Optional[str], expected: str, got: str):
        at = f'field "{field}": ' if field else ""
        super().__init__(f"{where}: {at}expected {expected}, got {got}")
        self.where, self.field, self.expected, self.got = where, field, expected, got


def show(value) -> str:
    """A value as the message shows it: its type for containers, the text (cut) for scalars."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return f"an object with fields {sorted(value)[:8]}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def apply_columns(row: dict, columns: Optional[dict]) -> dict:
    """The row with the mapped columns under their canonical names ({"prompt": "question"} reads
    the row's "question" as "prompt"); the source name no longer counts as a field of its own."""
    if not columns:
        return row
    out = {k: v for k, v in row.items() if k not in columns.values()}
    for canonical, source in columns.items():
        if source in row:
            out[canonical] = row[source]
    return out


def classify(row: dict) -> Optional[str]:
    """The format a row's fields announce, in TRL's precedence (messages, then prompt + completion,
    then text), Alpaca last; None when it announces none."""
    if "messages" in row:
        return CONVERSATIONAL
    if "prompt" in row and "completion" in row:
        return CONVERSATIONAL_PROMPT_COMPLETION if isinstance(row["prompt"], list) else PROMPT_COMPLETION
    if "text" in row:
        return LANGUAGE_MODELING
    if "instruction" in row and "output" in row:
        return ALPACA
    return None


def _string(row: dict, field: str, where: str, optional: bool = False) -> str:
    value = row.get(field)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise RowError(where, field, "a string", "a missing field" if field not in row else show(value))
    return value


def _messages(value, field: str, where: str) -> list[dict]:
    hint = " (CSV cells are text: keep conversations in JSON, JSONL or Parquet)" if isinstance(value, str) else ""
    if not isinstance(value, list) or not value:
        raise RowError(where, field, "a non-empty list of {role, content} messages" + hint, "an empty list" if value == [] else show(value))
    for i, m in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(m, dict):
            raise RowError(where, at, "a message object {role, content}", show(m))
        if m.get("role") not in ROLES:
            raise RowError(
                where,
                f"{at}.role",
                "one of " + ", ".join(f'"{r}"' for r in ROLES),
                "a missing field" if "role" not in m else show(m.get("role")),
            )
        if not isinstance(m.get("content"), str):
            raise RowError(where, f"{at}.content", "a string", "a missing field" if "content" not in m else show(m.get("content")))
    return [{"role": m["role"], "content": m["content"]} for m in value]


def check_row(row, fmt: str, where: str) -> dict:
    """The row's fields for `fmt`, type-checked; other fields are dropped."""
    if not isinstance(row, dict):
        raise RowError(where, None, f"an object with the fields of {DESCRIBE[fmt]}", show(row))
    if fmt == LANGUAGE_MODELING:
        return {"text": _string(row, "text", where)}
    if fmt == PROMPT_COMPLETION:
        return {"prompt": _string(row, "prompt", where), "completion": _string(row, "completion", where)}
    if fmt == CONVERSATIONAL:
        return {"messages": _messages(row.get("messages"), "messages", where)}
    if fmt == CONVERSATIONAL_PROMPT_COMPLETION:
        return {
            "prompt": _messages(row.get("prompt"), "prompt", where),
            "completion": _messages(row.get("completion"), "completion", where),
        }
    return {
        "instruction": _string(row, "instruction", where),
        "input": _string(row, "input", where, optional=True),
        "output": _string(row, "output", where),
    }


def detect(rows: list[tuple[str, object]], columns: Optional[dict]) -> tuple[str, list[dict]]:
    """(format, checked rows) for rows given as (where, row). The first row decides the format."""
    fmt: Optional[str] = None
    first_where = ""
    out = []
    for where, raw in rows:
        if not isinstance(raw, dict):
            expected = f"an object with the fields of {DESCRIBE[fmt]}" if fmt else f"an object with {EXPECTED_ANY}"
            raise RowError(where, None, expected, show(raw))
        row = apply_columns(raw, columns)
        kind = classify(row)
        if fmt is None:
            if kind is None:
                raise RowError(where, None, EXPECTED_ANY, f"fields {sorted(row)[:10]}" + _mapping_note(columns))
            fmt, first_where = kind, where.rsplit(": ", 1)[-1]
        elif kind is None:
            raise RowError(
                where,
                None,
                f"the fields of {DESCRIBE[fmt]}, the format of the first row ({first_where})",
                f"fields {sorted(row)[:10]}" + _mapping_note(columns),
            )
        elif kind != fmt:
            raise RowError(
                where,
                None,
                f"{DESCRIBE[fmt]} like the first row ({first_where}): a dataset holds one format",
                f"a {DESCRIBE[kind]} row" + _mapping_note(columns),
            )
        out.append(check_row(row, fmt, where))
    if fmt is None:
        raise DataError("no rows")
    return fmt, out


def _mapping_note(columns: Optional[dict]) -> str:
    return f" (after the column mapping {json.dumps(columns)})" if columns else ""


def loss_rule_problem(fmt: str, completion_only_loss: Optional[bool], assistant_only_loss: bool) -> Optional[str]:
    """Why the cell's loss fields do not fit the format (TRL refuses or ignores these), or None."""
    if assistant_only_loss and fmt not in (CONVERSATIONAL, CONVERSATIONAL_PROMPT_COMPLETION):
        return f"assistant_only_loss true needs conversational rows (messages); the data is {DESCRIBE[fmt]}"
    if completion_only_loss and fmt not in (PROMPT_COMPLETION, CONVERSATIONAL_PROMPT_COMPLETION, ALPACA):
        return f"completion_only_loss true needs prompt-completion or Alpaca rows; the data is {DESCRIBE[fmt]}"
    return None


def resolve_completion_only(fmt: str, completion_only_loss: Optional[bool]) -> bool:
    """TRL's default (None): loss on the completion for prompt-completion rows. Alpaca rows are one
    text in the study's template (language modelling) unless the cell asks for completion only."""
    if completion_only_loss is not None:
        return completion_only_loss
    return fmt in (PROMPT_COMPLETION, CONVERSATIONAL_PROMPT_COMPLETION)
