"""Environment facts for `started.env`: library versions, CUDA/cuDNN, the GPU (through torch and,
when available, NVML), OS, CPU model and hostname. Never raises: a fact it cannot read is null."""

from __future__ import annotations

import importlib.metadata
import platform
import socket
import sys
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


def env_facts(device: str) -> EnvFacts:
    import torch

    gpu: dict = {"gpu_name": None, "gpu_memory_mib": None, "gpu_uuid": None, "driver": None, "power_limit_w": None}
    if device == "cuda":
        index = torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        gpu.update(gpu_name=props.name, gpu_memory_mib=props.total_memory / 2**20)
        gpu.update(_nvml_facts(index))
        if gpu["gpu_uuid"] is None and getattr(props, "uuid", None) is not None:
            gpu["gpu_uuid"] = f"GPU-{props.uuid}"
    cudnn = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    return EnvFacts(
        python=platform.python_version(),
        torch=torch.__version__,
        transformers=_version("transformers") or "?",
        peft=_version("peft") or "?",
        accelerate=_version("accelerate") or "?",
        bitsandbytes=_version("bitsandbytes"),
        cuda=torch.version.cuda,
        cudnn=str(cudnn) if cudnn else None,
        device=device,
        os=f"{platform.system()} {platform.release()} ({sys.platform})",
        cpu=cpu_model(),
        hostname=socket.gethostname(),
        **gpu,
    )


if __name__ == "__main__":
    # The runner's environment probe (PROTOCOL.md §5): the facts a `started` event would report.
    import dataclasses
    import json

    import torch

    print(json.dumps(dataclasses.asdict(env_facts("cuda" if torch.cuda.is_available() else "cpu"))))
