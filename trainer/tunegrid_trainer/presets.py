"""The built-in model presets and the LoRA-targetable module names per architecture, from
presets.json: one list that the runner's checks (src/grid/presets.ts) read too."""

from __future__ import annotations

import json
from pathlib import Path

_DATA = json.loads(Path(__file__).with_name("presets.json").read_text(encoding="utf-8"))

# name -> (transformers model_type, config kwargs)
PRESETS: dict[str, tuple[str, dict]] = {name: (p["model_type"], p["config"]) for name, p in _DATA["presets"].items()}

# model_type -> module names LoRA can target ("N" stands for a layer index)
LORA_MODULES: dict[str, list[str]] = _DATA["lora_modules"]
