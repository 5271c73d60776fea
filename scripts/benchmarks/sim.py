"""Simulator throughput: REST requests per second and stream messages per second.

REST is measured twice: against `thunes sim` in its own process (the way a daemon talks to it),
and in-process, where server and load generator share one event loop (the integration tests'
setting, a floor). Streams are measured in-process with forced ticks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
import sys

from _common import DURATION, Remote, cpu_seconds, rest_rate, stream_rows

from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig, replay_clock

STREAM_CLIENTS = 10
STREAMS = [
    f"{symbol}@{kind}"
    for symbol in ("btcusdt", "ethusdt")
    for kind in ("bookTicker", "trade", "kline_5m", "kline_15m", "kline_1h")
]


def _config() -> SimulatorConfig:
    start = replay_clock(speed=1).time()
    return SimulatorConfig(clock=ManualClock(start), weight_limit=10**9, stream_interval=3600)


PATHS = [
    ("ticker/price", "/api/v3/ticker/price?symbol=BTCUSDT"),
    ("klines 1h limit=100", "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=100"),
    ("bookTicker", "/api/v3/ticker/bookTicker?symbol=ETHUSDT"),
]


async def _separate_process_rows() -> list[tuple[str, str]]:
    command = [sys.executable, "-m", "thunes", "sim", "--port", "0", "--weight-limit", "1000000000"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
    try:
        assert child.stdout is not None
        line = await asyncio.to_thread(child.stdout.readline)
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found is None:
            return [("REST (separate process)", f"could not start: {line!r}")]
        remote = Remote(found.group(0))
        rows = []
        for label, path in PATHS:
            cpu_before = cpu_seconds(child.pid)
            rate = await rest_rate(remote, path)
            served = rate * DURATION
            per_request = (cpu_seconds(child.pid) - cpu_before) / max(served, 1)
            rows.append((f"REST {label} req/s, separate process", f"{rate:,.0f}"))
            rows.append(
                (
                    f"  server CPU per {label} request (capacity per core)",
                    f"{per_request * 1e6:,.0f} µs ({1 / per_request:,.0f} req/s)",
                )
            )
        return rows
    finally:
        child.terminate()
        child.wait(timeout=10)


async def _measure() -> list[tuple[str, str]]:
    rows = await _separate_process_rows()
    async with Simulator(_config()) as sim:
        for label, path in PATHS:
            rate = await rest_rate(sim, path)
            rows.append((f"REST {label} req/s, in-process", f"{rate:,.0f}"))
    config = dataclasses.replace(_config())
    return rows + await stream_rows(config, STREAMS, STREAM_CLIENTS)


def run() -> list[tuple[str, str]]:
    return asyncio.run(_measure())


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure}: {value}")
