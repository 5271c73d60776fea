"""`thunes sim` tells the operator the API key and secret it accepts."""

from __future__ import annotations

import signal
import subprocess
import sys

from thunes.sim import SimulatorConfig


def test_sim_prints_the_api_key_and_secret_it_accepts() -> None:
    command = [sys.executable, "-m", "thunes", "sim", "--port", "0"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline(), child.stdout.readline()]
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=10)
    defaults = SimulatorConfig(data={})
    assert lines[0].startswith("THUNES sim on http://127.0.0.1:")
    assert lines[1].strip() == f"API key {defaults.api_key!r}, secret {defaults.api_secret!r}"
    assert defaults.api_key == "sim-key" and defaults.api_secret == "sim-secret"  # README says so
