"""The simulator serving the 22-symbol 1h universe (up to ~42k bars each) from a folder.

`thunes sim --data-dir` runs in its own process: how long it takes to load and listen, its
resident memory, and REST requests per second on the universe (klines, one ticker, every
ticker, exchangeInfo). Streams are measured in-process with forced ticks, every symbol's
bookTicker and 1h kline on each connection. Targets as for the two-symbol simulator.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

from _common import UNIVERSE, Remote, rest_rate, stream_rows

from thunes.clock import ManualClock
from thunes.sim import SimulatorConfig, replay_clock
from thunes.sim.universe import folder_data

STREAM_CLIENTS = 10
PATHS = [
    ("ticker/price one symbol", "/api/v3/ticker/price?symbol=BTCUSDT"),
    ("klines 1h limit=100", "/api/v3/klines?symbol=SOLUSDT&interval=1h&limit=100"),
    ("ticker/24hr one symbol", "/api/v3/ticker/24hr?symbol=ETHUSDT"),
    ("ticker/price all 22", "/api/v3/ticker/price"),
]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _separate_process() -> list[tuple[str, str]]:
    command = [sys.executable, "-m", "thunes", "sim", "--port", "0", "--data-dir", str(UNIVERSE),
               "--weight-limit", "1000000000"]
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
    try:
        assert child.stdout is not None
        line = await asyncio.to_thread(child.stdout.readline)
        ready = time.perf_counter() - began
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found is None:
            return [("thunes sim --data-dir", f"could not start: {line!r}")]
        rows = [
            ("thunes sim --data-dir: start to listening (22 files)", f"{ready:.2f} s"),
            ("  resident memory after start", f"{_rss_mb(child.pid):,.0f} MB"),
        ]
        remote = Remote(found.group(0))
        for label, path in PATHS:
            rate = await rest_rate(remote, path)
            rows.append((f"REST {label} req/s, separate process", f"{rate:,.0f}"))
        rows.append(("  resident memory after the requests", f"{_rss_mb(child.pid):,.0f} MB"))
        return rows
    finally:
        child.terminate()
        child.wait(timeout=10)


async def _measure() -> list[tuple[str, str]]:
    if not UNIVERSE.is_dir():
        return [("sim universe", f"skipped: {UNIVERSE} is missing")]
    rows = await _separate_process()
    data = folder_data(UNIVERSE)
    began = time.perf_counter()
    start = replay_clock(data, speed=1).time()
    rows.append(("in-process load of the 22 replays", f"{time.perf_counter() - began:.2f} s"))
    config = SimulatorConfig(
        data=data, clock=ManualClock(start), weight_limit=10**9, stream_interval=3600
    )
    streams = [f"{s.lower()}@{kind}" for s in data for kind in ("bookTicker", "kline_1h")]
    return rows + await stream_rows(config, streams, STREAM_CLIENTS)


def run() -> list[tuple[str, str]]:
    return asyncio.run(_measure())


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure}: {value}")
