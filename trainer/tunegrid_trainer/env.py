"""Environment facts for `started.env`: library versions, CUDA/cuDNN, the GPU (through torch and,
when available, NVML), OS, CPU model and hostname. Never raises: a fact it cannot read is null."""

from __future__ import annotations

import glob
import importlib.metadata
import importlib.util
import os
import platform
import socket
import sys
from pathlib import Path
from typing import Optional

from .protocol import EnvFacts


def _version(package: str) -> Optional[str]:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvml_facts(index: int) -> dict:
    """uuid and driver through NVML; empty when NVML is unavailable."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            uuid = pynvml.nvmlDeviceGetUUID(handle)
            driver = pynvml.nvmlSystemGetDriverVersion()
            decode = lambda v: v.decode() if isinstance(v, bytes) else v  # noqa: E731 - older pynvml returns bytes
            try:
                limit_w = pynvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000  # mW → W
            except Exception:
                limit_w = None
            return {"gpu_uuid": decode(uuid), "driver": decode(driver), "power_limit_w": limit_w}
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        return {}


NO_GPU: dict = {"gpu_name": None, "gpu_memory_mib": None, "gpu_uuid": None, "driver": None, "power_limit_w": None}


def env_facts(device: str) -> EnvFacts:
    import torch

    gpu = dict(NO_GPU)
    if device == "cuda":
        index = torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        gpu.update(gpu_name=props.name, gpu_memory_mib=props.total_memory / 2**20)
        gpu.update(_nvml_facts(index))
        if gpu["gpu_uuid"] is None and getattr(props, "uuid", None) is not None:
            gpu["gpu_uuid"] = f"GPU-{props.uuid}"
    cudnn = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    return _facts(device, torch.__version__, torch.version.cuda, str(cudnn) if cudnn else None, gpu)


def _facts(device: str, torch_version: str, cuda: Optional[str], cudnn: Optional[str], gpu: dict) -> EnvFacts:
    return EnvFacts(
        python=platform.python_version(),
        torch=str(torch_version),
        transformers=_version("transformers") or "?",
        peft=_version("peft") or "?",
        accelerate=_version("accelerate") or "?",
        bitsandbytes=_version("bitsandbytes"),
        cuda=cuda,
        cudnn=cudnn,
        device=device,
        os=f"{platform.system()} {platform.release()} ({sys.platform})",
        cpu=cpu_model(),
        hostname=socket.gethostname(),
        **gpu,
    )


def no_gpu_reachable() -> bool:
    """Linux without a device node a CUDA GPU is reached through (/dev/nvidia0…, WSL2's /dev/dxg):
    torch.cuda.is_available() is False there whatever else is installed or set."""
    return sys.platform.startswith("linux") and not glob.glob("/dev/nvidia[0-9]*") and not os.path.exists("/dev/dxg")


def _torch_version_file() -> Optional[tuple[str, Optional[str]]]:
    """torch's `__version__` and `version.cuda` from its version.py (generated at build time: plain
    assignments), run on its own instead of importing torch; None when it cannot be read."""
    try:
        spec = importlib.util.find_spec("torch")
        path = Path(spec.submodule_search_locations[0]) / "version.py"
        scope: dict = {}
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), scope)
        return str(scope["__version__"]), scope.get("cuda")
    except Exception:
        return None


def probe() -> EnvFacts:
    """The runner's environment probe (PROTOCOL.md §5): the facts a `started` event would report.
    Where no GPU can be reached, what importing torch would say is read from its version file
    (the same facts, ~3 s sooner: every `tunegrid run` on a CPU machine probes once)."""
    if no_gpu_reachable():
        version = _torch_version_file()
        if version is not None:
            return _facts("cpu", version[0], version[1], None, dict(NO_GPU))
    import torch

    return env_facts("cuda" if torch.cuda.is_available() else "cpu")


if __name__ == "__main__":
    import dataclasses
    import json

    print(json.dumps(dataclasses.asdict(probe())))
