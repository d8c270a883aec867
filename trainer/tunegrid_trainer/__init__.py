"""tunegrid trainer: runs one LoRA/QLoRA benchmark cell and reports it as JSON lines (see PROTOCOL.md)."""

__version__ = "0.1.0"
