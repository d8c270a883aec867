"""The GPU/host sampler of PROTOCOL.md §3: `python -m tunegrid_trainer.sampler --interval-ms 100
--gpu 0 --mode auto|nvml|smi|none [--pid N] [--idle-ms 3000]`. Reads NVML (or polls nvidia-smi
when NVML fails), measures idle power for --idle-ms (the runner starts the trainer only after
that), emits one `sampler` event then a `sample` every interval until SIGTERM/SIGINT or stdin closes.
A sampler that cannot see a GPU degrades to host-only samples with the reason; it never fails."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Optional

from .lifeline import die_with_parent
from .protocol import Sample, SamplerInfo, claim_stdout, emit, stdin_lines

SMI_FIELDS = "power.draw,memory.used,utilization.gpu,clocks.sm,temperature.gpu,clocks_throttle_reasons.active"

# ---------------------------------------------------------------- host (no psutil: /proc)


class Host:
    def __init__(self, pid: Optional[int]):
        self.pid = pid
        self.last = self._cpu_times()

    @staticmethod
    def _cpu_times() -> Optional[tuple[int, int]]:
        """(busy, total) jiffies from the aggregate line of /proc/stat."""
        try:
            with open("/proc/stat", encoding="ascii") as f:
                values = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values) - idle, sum(values)

    def cpu_pct(self) -> Optional[float]:
        """System-wide CPU use since the previous call, % of all cores."""
        now = self._cpu_times()
        if now is None or self.last is None:
            return None
        busy, total = now[0] - self.last[0], now[1] - self.last[1]
        if total <= 0:
            return None  # no jiffy elapsed yet: keep the old reference point
        self.last = now
        return 100.0 * busy / total

    def rss_mib(self) -> Optional[float]:
        if self.pid is None:
            return None
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024  # kB → MiB
        except (OSError, ValueError):
            pass
        return None


# ---------------------------------------------------------------- GPU sources


class Nvml:
    mode = "nvml"

    def __init__(self, index: int):
        import pynvml

        self.nv = pynvml
        pynvml.nvmlInit()
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        name = pynvml.nvmlDeviceGetName(self.handle)
        self.name = name.decode() if isinstance(name, bytes) else name
        self.memory_total_mib = pynvml.nvmlDeviceGetMemoryInfo(self.handle).total / 2**20
        self.power_limit_w = self._try(lambda: pynvml.nvmlDeviceGetEnforcedPowerLimit(self.handle) / 1000)
        self.energy_counter = self._try(lambda: pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)) is not None
        reasons = getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
        self._reasons = reasons or pynvml.nvmlDeviceGetCurrentClocksThrottleReasons

    @staticmethod
    def _try(read):
        try:
            return read()
        except Exception:
            return None

    def read(self) -> dict:
        nv, h, t = self.nv, self.handle, self._try
        util = t(lambda: nv.nvmlDeviceGetUtilizationRates(h))
        memory = t(lambda: nv.nvmlDeviceGetMemoryInfo(h))
        power = t(lambda: nv.nvmlDeviceGetPowerUsage(h))  # mW
        return dict(
            energy_mj=t(lambda: float(nv.nvmlDeviceGetTotalEnergyConsumption(h))) if self.energy_counter else None,
            power_w=None if power is None else power / 1000,
            mem_used_mib=None if memory is None else memory.used / 2**20,
            util_pct=None if util is None else float(util.gpu),
            sm_clock_mhz=t(lambda: float(nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM))),
            temp_c=t(lambda: float(nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU))),
            throttle=t(lambda: int(self._reasons(h))),
        )

    def close(self) -> None:
        self._try(self.nv.nvmlShutdown)


def _smi_value(text: str):
    text = text.strip()
    if not text or text.startswith("[") or text in ("N/A", "[N/A]"):
        return None
    try:
        return int(text, 16) if text.startswith("0x") else float(text)
    except ValueError:
        return None


class Smi:
    """`nvidia-smi -lms` in the background; each read returns its latest line."""

    mode = "smi"

    def __init__(self, index: int, interval_ms: int):
        smi = shutil.which("nvidia-smi")
        if smi is None:
            raise RuntimeError("nvidia-smi not found")
        head = subprocess.run(
            [smi, "-i", str(index), "--query-gpu=name,memory.total,power.limit", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if head.returncode != 0 or not head.stdout.strip():
            raise RuntimeError(f"nvidia-smi failed: {(head.stderr or head.stdout).strip()[:200]}")
        name, total, limit = (head.stdout.strip().splitlines()[0].split(",") + ["", ""])[:3]
        self.name, self.memory_total_mib, self.power_limit_w = name.strip(), _smi_value(total), _smi_value(limit)
        self.energy_counter = False
        self.latest: dict = {}
        self.proc = subprocess.Popen(
            [smi, "-i", str(index), f"--query-gpu={SMI_FIELDS}", "--format=csv,noheader,nounits", f"-lms={interval_ms}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        keys = ("power_w", "mem_used_mib", "util_pct", "sm_clock_mhz", "temp_c", "throttle")
        for line in self.proc.stdout:
            values = [_smi_value(v) for v in line.split(",")]
            if len(values) == len(keys):
                self.latest = dict(zip(keys, values))

    def read(self) -> dict:
        return dict(
            energy_mj=None, **{k: self.latest.get(k) for k in ("power_w", "mem_used_mib", "util_pct", "sm_clock_mhz", "temp_c", "throttle")}
        )

    def close(self) -> None:
        self.proc.terminate()


def open_source(mode: str, index: int, interval_ms: int):
    """(source or None, reason). Explicit modes that fail degrade to `none` with the reason."""
    reasons = []
    if mode in ("auto", "nvml"):
        try:
            return Nvml(index), "NVML"
        except Exception as e:
            reasons.append(f"NVML init failed: {type(e).__name__}: {e}")
    if mode in ("auto", "smi"):
        try:
            return Smi(index, interval_ms), ("nvidia-smi polling: " + "; ".join(reasons)) if reasons else "nvidia-smi polling"
        except Exception as e:
            reasons.append(str(e))
    if mode == "none":
        return None, "mode none requested"
    return None, "no NVIDIA GPU: " + ", ".join(reasons)


# ---------------------------------------------------------------- idle power


def measure_idle(source, seconds: float, interval: float, done: threading.Event) -> tuple[Optional[float], int]:
    """(mean power W, readings) over `seconds` before the trainer starts, so results can give
    J/token above idle as well as gross. Smi's first line can take a moment: readings that are
    still null are skipped. (None, 0) without a power reading."""
    if source is None or seconds <= 0:
        return None, 0
    readings = []
    end = time.monotonic() + seconds
    while not done.is_set() and time.monotonic() < end:
        power = source.read().get("power_w")
        if power is not None:
            readings.append(power)
        done.wait(interval)
    return (sum(readings) / len(readings), len(readings)) if readings else (None, 0)


# ---------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunegrid_trainer.sampler")
    parser.add_argument("--interval-ms", type=int, default=100)
    parser.add_argument("--gpu", type=int, default=0)
    parser.add_argument("--mode", choices=("auto", "nvml", "smi", "none"), default="auto")
    parser.add_argument("--pid", type=int, default=None, help="process whose RSS to report")
    parser.add_argument(
        "--idle-ms", type=int, default=0, help="measure idle power this long before the `sampler` event (start the trainer after it)"
    )
    args = parser.parse_args(argv)
    die_with_parent()
    claim_stdout()

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())

    def watch_stdin() -> None:
        for _ in stdin_lines():
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    source, reason = open_source(args.mode, args.gpu, args.interval_ms)
    idle_power_w, idle_samples = measure_idle(source, args.idle_ms / 1000, args.interval_ms / 1000, done)
    emit(
        SamplerInfo(
            mode=source.mode if source else "none",
            reason=reason,
            gpu_index=args.gpu,
            gpu_name=getattr(source, "name", None),
            memory_total_mib=getattr(source, "memory_total_mib", None),
            power_limit_w=getattr(source, "power_limit_w", None),
            energy_counter=bool(getattr(source, "energy_counter", False)),
            interval_ms=args.interval_ms,
            idle_power_w=idle_power_w,
            idle_samples=idle_samples,
        )
    )
    host = Host(args.pid)
    interval = args.interval_ms / 1000
    next_tick = time.monotonic()
    try:
        while not done.is_set():
            gpu = (
                source.read()
                if source
                else dict.fromkeys(("energy_mj", "power_w", "mem_used_mib", "util_pct", "sm_clock_mhz", "temp_c", "throttle"))
            )
            emit(Sample(**gpu, host_rss_mib=host.rss_mib(), host_cpu_pct=host.cpu_pct()))
            next_tick += interval
            done.wait(max(0.0, next_tick - time.monotonic()))
    except BrokenPipeError:
        pass  # the reader went away: nothing left to report to
    finally:
        if source:
            source.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
