"""Reading a dataset's raw rows, each with where it came from ("<file>: line 3", "<file>: row 3"),
so that a bad row can be named: JSON (an array of rows), JSONL (one row per line), Parquet,
CSV (a header line, then one row per record; every cell is text) and Hugging Face hub datasets
(name, subset, split) through `datasets`. What the rows mean is formats.py's business."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Optional

from .errors import DataError, MissingDependency

Located = list[tuple[str, object]]  # (where, raw row)


def read_file(path: str) -> Located:
    """By suffix: .parquet, .csv, else JSON array or JSONL (told apart by the first character)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return _parquet(path)
    if suffix == ".csv":
        return _csv(path)
    return _json(path)


def _text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")  # a byte-order mark is no part of the first field
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read data file {path}: {e}") from e


def _json(path: str) -> Located:
    text = _text(path)
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from e
        return [(f"{path}: row {i + 1}", row) for i, row in enumerate(rows)]
    if text.lstrip().startswith("{") and "\n" in text.strip():
        # one object over several lines is a JSON document, not JSONL: say what shape was expected
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict):
            raise DataError(
                f"{path}: expected a JSON array of rows or JSONL (one object per line), got a JSON object with keys {sorted(whole)[:5]}"
            )
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{path}: line {lineno}", json.loads(line)))
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {lineno}: invalid JSON ({e.msg} at column {e.colno})") from e
    return rows


def _csv(path: str) -> Located:
    """Header names the fields; a record's cells are strings. Rows are numbered from 1 after the
    header, with the line the record starts on (a quoted cell may span lines)."""
    text = _text(path)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as e:
        raise DataError(f"{path}: line 1: not CSV ({e})") from e
    rows, start = [], reader.line_num + 1
    try:
        for record in reader:
            if record:
                if len(record) != len(header):
                    raise DataError(
                        f"{path}: row {len(rows) + 1} (line {start}): expected {len(header)} cells like the header "
                        f"({', '.join(header)}), got {len(record)}"
                    )
                rows.append((f"{path}: row {len(rows) + 1} (line {start})", dict(zip(header, record))))
            start = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: not CSV ({e})") from e
    return rows


def _parquet(path: str) -> Located:
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise MissingDependency("Parquet data files need pyarrow, which is not installed; install it: pip install pyarrow") from e
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"cannot read Parquet file {path}: {e}") from e
    return [(f"{path}: row {i + 1}", row) for i, row in enumerate(table.to_pylist())]


def read_hub(name: str, split: str, subset: Optional[str]) -> Located:
    try:
        import datasets
    except ImportError as e:
        raise MissingDependency("hub datasets need the datasets library, which is not installed; install it: pip install datasets") from e
    label = f"hub:{name}" + (f" subset {subset!r}" if subset else "") + f" split {split!r}"
    try:
        dataset = datasets.load_dataset(name, subset, split=split)
    except Exception as e:  # noqa: BLE001 - datasets raises many types (missing split, config, network): all mean "cannot read it"
        raise DataError(f"cannot load {label}: {type(e).__name__}: {str(e).splitlines()[0][:400]}") from e
    return [(f"{label}: row {i + 1}", row) for i, row in enumerate(dataset)]
