"""The runner's data preflight: `python -m tunegrid_trainer.dataset_check < request.json` reads
every row of each dataset a grid names, once per grid and before any trainer starts, and says
which format it holds or which row is wrong (the same reading and checks the trainer does:
readers.py, formats.py). No tokenizer, no model.

Request: {"datasets": [{"key": str, "source": "file" | "hub", "path": str | null, "name": str | null,
          "split": str | null, "subset": str | null, "columns": {canonical: column} | null}]}
Reply (stdout, one JSON object): {"results": [{"key", "ok": true, "format", "rows"} |
          {"key", "ok": false, "kind": "data_error" | "missing_dependency", "message"}]}"""

from __future__ import annotations

import json
import sys

from . import formats, protocol, readers
from .errors import DataError, MissingDependency


def check(d: dict) -> dict:
    try:
        located = readers.read_file(d["path"]) if d["source"] == "file" else readers.read_hub(d["name"], d["split"], d.get("subset"))
        if not located:
            raise DataError(f"dataset {d.get('path') or d.get('name')} has no rows")
        fmt, rows = formats.detect(located, d.get("columns"))
        return {"key": d["key"], "ok": True, "format": fmt, "rows": len(rows)}
    except DataError as e:
        return {"key": d["key"], "ok": False, "kind": "data_error", "message": str(e)}
    except MissingDependency as e:
        return {"key": d["key"], "ok": False, "kind": "missing_dependency", "message": str(e)}


def main() -> int:
    request = json.load(sys.stdin)
    protocol.claim_stdout()  # datasets and the hub client may print: only the reply goes to stdout
    protocol.write_line(json.dumps({"results": [check(d) for d in request["datasets"]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
