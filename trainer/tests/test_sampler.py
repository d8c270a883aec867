"""The sampler as a real subprocess in `none` mode: header, samples, clean exit on SIGTERM."""

import signal
import subprocess
import sys
import time

from conftest import TRAINER_ROOT, child_env, parse_events


def test_none_mode_emits_host_samples_and_exits_on_sigterm():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "tunegrid_trainer.sampler",
            "--interval-ms",
            "50",
            "--mode",
            "none",
            "--pid",
            str(subprocess.os.getpid()),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TRAINER_ROOT,
        env=child_env(),
    )
    time.sleep(0.6)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    events = parse_events(out)
    assert events[0]["event"] == "sampler" and events[0]["mode"] == "none" and events[0]["reason"]
    samples = events[1:]
    assert len(samples) >= 2 and all(e["event"] == "sample" for e in samples)
    assert all(e["power_w"] is None and e["energy_mj"] is None for e in samples)
    assert samples[-1]["host_rss_mib"] > 0
    assert samples[-1]["t"] > samples[0]["t"]


def test_closing_stdin_stops_the_sampler():
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "tunegrid_trainer.sampler", "--interval-ms", "50", "--mode", "none"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TRAINER_ROOT,
        env=child_env(),
    )
    time.sleep(0.3)
    out, _ = proc.communicate(input="", timeout=10)  # closes stdin
    assert proc.returncode == 0
    assert parse_events(out)[0]["event"] == "sampler"


def test_idle_power_is_the_mean_of_the_readings_taken_before_the_header():
    import threading

    from tunegrid_trainer.sampler import measure_idle

    class Source:
        readings = iter([None, 50.0, 60.0, 70.0] + [80.0] * 100)

        def read(self):
            return {"power_w": next(self.readings)}

    power, n = measure_idle(Source(), seconds=0.25, interval=0.05, done=threading.Event())
    assert 1 <= n <= 5  # ~5 readings in 0.25 s, the first one null and skipped
    assert power == sum([50.0, 60.0, 70.0, 80.0, 80.0, 80.0][:n]) / n
    assert measure_idle(None, 3.0, 0.05, threading.Event()) == (None, 0)  # no GPU: nothing to wait for


def test_none_mode_header_reports_no_idle_power_without_waiting():
    start = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "tunegrid_trainer.sampler", "--interval-ms", "50", "--mode", "none", "--idle-ms", "3000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TRAINER_ROOT,
        env=child_env(),
    )
    header = proc.stdout.readline()
    proc.communicate(timeout=10)  # closes stdin: the sampler ends
    event = parse_events(header)[0]
    assert event["event"] == "sampler" and event["idle_power_w"] is None and event["idle_samples"] == 0
    assert time.time() - start < 3.0
